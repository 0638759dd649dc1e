"""Corpus map: deterministic linear projection, exact placement of new points, LDA chosen when it separates."""

import numpy as np

from explorer.mapping import fit_map, tune_means
from vae.corpus import TRAIN, VALID


def data(seed=0):
    rng = np.random.default_rng(seed)
    cents = np.zeros((3, 6))
    cents[0, 0], cents[1, 1], cents[2, :2] = 2.0, 2.0, -2.0
    labels = np.repeat(np.arange(3), 300)
    # big uninformative spread on dims 2..5: PCA looks there, LDA looks at the styles
    mu = cents[labels] + rng.standard_normal((900, 6)) * [0.5, 0.5, 4, 4, 4, 4]
    split = np.where(rng.random(900) < 0.2, VALID, TRAIN).astype(np.int8)
    return mu.astype(np.float32), split, labels


def test_map_is_deterministic_and_places_exactly():
    mu, split, labels = data()
    a = fit_map(mu, split, labels, 3)
    b = fit_map(mu.copy(), split.copy(), labels.copy(), 3)
    assert a.method == b.method and np.array_equal(a.axes, b.axes) and np.array_equal(a.place(mu), b.place(mu))
    xy = a.place(mu)
    assert xy.shape == (900, 2)
    assert np.allclose(a.place(mu[17]), xy[17], atol=1e-6)
    # training windows read in unit spread on both axes
    assert np.allclose(xy[split == TRAIN].std(0), 1, atol=1e-3)


def test_auto_picks_the_projection_that_separates_styles():
    mu, split, labels = data()
    m = fit_map(mu, split, labels, 3)
    assert m.method == "lda" and m.scores["lda"] > m.scores["pca"] and m.scores["lda"] > 0.8
    assert fit_map(mu, split, labels, 3, method="pca").method == "pca"
    # fewer than three styles: PCA
    two = labels < 2
    assert fit_map(mu[two], split[two], labels[two], 2).method == "pca"


def test_tune_point_is_the_mean_of_its_windows():
    mu, split, labels = data()
    tune = np.arange(900) // 3
    m = fit_map(mu, split, labels, 3)
    tmu = tune_means(mu, tune, 301)
    assert np.isnan(tmu[300]).all()  # a tune without windows
    assert np.allclose(tmu[5], mu[15:18].mean(0), atol=1e-5)
    assert np.allclose(m.place(tmu[5]), m.place(mu[15:18]).mean(0), atol=1e-4)
    v = np.array([1.0, np.nan, 3.0])
    assert np.allclose(tune_means(v, np.array([0, 0, 0]), 1), [2.0])
