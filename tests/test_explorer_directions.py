"""Slider directions: PCA coordinates round-trip, keep the rest of z, work for any latent size, get names."""

import numpy as np
import pytest

from explorer.directions import Directions, fit_pca, name_directions


def latents(n=2000, dim=24, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(3.0, 0.1, dim)
    mixing = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    return (rng.standard_normal((n, dim)) * scales) @ mixing.T + rng.standard_normal(dim)


@pytest.mark.parametrize("dim, k, expected_k", [(24, 16, 16), (64, 16, 16), (8, 16, 8)])
def test_components_orthonormal_and_sorted(dim, k, expected_k):
    d = Directions.fit(latents(dim=dim), k)
    assert d.k == expected_k and d.components.shape == (expected_k, dim)
    assert np.allclose(d.components @ d.components.T, np.eye(expected_k), atol=1e-5)
    assert (np.diff(d.std) <= 1e-6).all() and (d.variance_share > 0).all() and d.variance_share.sum() <= 1 + 1e-6


def test_slider_round_trip_keeps_the_rest_of_z():
    mu = latents()
    d = Directions.fit(mu)
    rng = np.random.default_rng(1)
    z = mu[7].astype(np.float32)
    s_new = rng.standard_normal(d.k).astype(np.float32) * 2
    z_new = d.with_coords(z, s_new)
    assert np.allclose(d.coords(z_new), s_new, atol=1e-4)
    # the part of z orthogonal to the sliders is unchanged
    proj = d.components.T @ d.components
    rest = np.eye(len(z)) - proj
    assert np.allclose(rest @ z_new, rest @ z, atol=1e-4)
    assert not np.allclose(z_new, z)
    # the melody's own coordinates give its z back
    assert np.allclose(d.with_coords(z, d.coords(z)), z, atol=1e-5)


def test_batch_coordinates():
    mu = latents()
    d = Directions.fit(mu)
    z = mu[:5].astype(np.float32)
    s = d.coords(z)
    assert s.shape == (5, d.k)
    assert np.allclose(d.with_coords(z, s), z, atol=1e-4)
    with pytest.raises(ValueError):
        d.with_coords(z[0], np.zeros(d.k + 1))


def test_training_coordinates_are_standardised():
    mu = latents()
    s = Directions.fit(mu).coords(mu)
    assert np.allclose(s.mean(axis=0), 0, atol=1e-3)
    assert np.allclose(s.std(axis=0, ddof=1), 1, atol=1e-3)


def test_pca_is_deterministic_and_signed():
    mu = latents()
    _, a, _, _ = fit_pca(mu, 4)
    _, b, _, _ = fit_pca(mu[::-1], 4)
    assert np.allclose(a, b, atol=1e-6)
    assert (a[np.arange(4), np.abs(a).argmax(1)] > 0).all()


def test_names_follow_the_correlated_attribute_and_orient_sliders():
    mu = latents()
    raw = Directions.fit(mu, 3)
    c = raw.coords(mu)
    attrs = {"note_density": -c[:, 0] + 0.01 * np.random.default_rng(2).standard_normal(len(mu)),
             "mean_pitch": c[:, 1], "pitch_range": c[:, 2] * 0.5}
    d, labels, table, names = name_directions(raw, mu, attrs)
    assert [lab["attribute"] for lab in labels] == ["note_density", "mean_pitch", "pitch_range"]
    assert labels[0]["label"].startswith("PC1 · note density (+")
    assert all(lab["correlation"] > 0.99 for lab in labels)
    assert table.shape == (3, 3) and names == ["note_density", "mean_pitch", "pitch_range"]
    # the first direction was reversed so moving its slider up raises note density
    assert np.allclose(d.components[0], -raw.components[0])
    z = mu[0].astype(np.float32)
    up = d.with_coords(z, d.coords(z) + np.array([1.0, 0, 0]))
    assert raw.coords(up)[0] < raw.coords(z)[0]
