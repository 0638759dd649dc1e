"""Corpus map: deterministic linear projection, exact placement of new points, LDA chosen when it separates."""

import numpy as np
import pytest

from explorer.latent.mapping import fit_map, tune_means
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


def test_a_large_map_is_a_density_under_a_fixed_sample():
    """Above max_points the figure is a density of every point (a cell's customdata: the point nearest its
    centre) and the same sample of max_points points each time; below, every point and no density."""
    from explorer.media.figures import corpus_map

    rng = np.random.default_rng(1)
    n = 5000
    x, y = rng.standard_normal(n), rng.standard_normal(n) * 0.5
    ids = np.arange(n) + 1000  # ids are not positions
    coll = np.where(rng.random(n) < 0.3, "essen", "oneills")
    hover = np.array([f"tune {i}" for i in ids])
    small = corpus_map(x, y, coll, hover, ids, max_points=n)
    assert all(t["type"] == "scattergl" for t in small["data"]) and sum(len(t["x"]) for t in small["data"]) == n

    fig = corpus_map(x, y, coll, hover, ids, max_points=300)
    dens, points = fig["data"][0], fig["data"][1:]
    assert dens["type"] == "heatmap" and all(t["type"] == "scattergl" for t in points)
    shown = np.concatenate([t["customdata"] for t in points])
    assert len(shown) == 300 and set(shown) <= set(ids)
    again = corpus_map(x, y, coll, hover, ids, max_points=300)
    assert np.array_equal(np.concatenate([t["customdata"] for t in again["data"][1:]]), shown)
    # every point is counted in its cell (log10(count) + 0.3), and a cell's tune is the one nearest its centre
    xc, yc, z, cd = np.asarray(dens["x"]), np.asarray(dens["y"]), dens["z"], dens["customdata"]
    counts = sum(round(10 ** (v - 0.3)) for row in z for v in row if v is not None)
    assert counts == n
    wx, wy = xc[1] - xc[0], yc[1] - yc[0]
    checked = 0
    for r in range(0, len(yc), 7):
        for c in range(0, len(xc), 7):
            inside = (np.abs(x.round(4) - xc[c]) <= wx / 2 + 1e-4) & (np.abs(y.round(4) - yc[r]) <= wy / 2 + 1e-4)
            if cd[r][c] is None:
                assert not inside.any() or z[r][c] is None
                continue
            d = np.where(inside, (x.round(4) - xc[c]) ** 2 + (y.round(4) - yc[r]) ** 2, np.inf)
            assert cd[r][c] == ids[np.argmin(d)] and f"tune {cd[r][c]}" in dens["text"][r][c]
            checked += 1
    assert checked > 20
    # coloured by an attribute, a cell shows the mean of its points
    vals = x * 2.0
    coloured = corpus_map(x, y, coll, hover, ids, color_values=vals, color_label="height", max_points=300)
    hz = coloured["data"][0]["z"]
    r, c = next((r, c) for r in range(len(yc)) for c in range(len(xc)) if cd[r][c] is not None)
    members = (np.abs(x.round(4) - xc[c]) <= wx / 2 + 1e-4) & (np.abs(y.round(4) - yc[r]) <= wy / 2 + 1e-4)
    assert hz[r][c] == pytest.approx(vals[members].mean(), abs=2e-3)
