"""Attribute vectors and styles, on synthetic latents with stand-in models whose behaviour is known."""

import numpy as np
import pytest

from explorer.latent.styles import StyleModel, balanced_accuracy, fisher_axes, measure_style_moves
from explorer.latent.vectors import AttributeVectors, measure_attribute_vectors
from vae.attributes import compute_attributes
from vae.constants import FIRST_NOTE_ON, HOLD


class DensityDecoder:
    """z[0] sets how many quarter notes the melody has; nothing else matters."""

    def decode(self, z):
        z = np.atleast_2d(z)
        count = np.clip(np.round(8 + 4 * z[:, 0]), 1, 16).astype(int)
        tokens = np.full((len(z), 64), HOLD)
        for i, c in enumerate(count):
            tokens[i, : 4 * c : 4] = FIRST_NOTE_ON + 39
        return tokens


class CodebookModel:
    """decode writes each z coordinate as a pitch (1/8 unit per semitone); encode reads it back."""

    def decode(self, z):
        z = np.atleast_2d(z)
        tokens = np.full((len(z), 64), HOLD)
        tokens[:, : 4 * z.shape[1] : 4] = 46 + np.clip(np.round(z * 8), -40, 40).astype(int)
        return tokens

    def encode(self, tokens):
        mu = (np.asarray(tokens)[:, ::4][:, :4] - 46) / 8.0
        return mu.astype(np.float32), np.ones_like(mu, dtype=np.float32)


def test_attribute_vector_points_to_more_and_push_moves_along_it():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((3000, 6)).astype(np.float32)
    attrs = compute_attributes(DensityDecoder().decode(mu))
    vec = AttributeVectors.fit(mu, attrs)
    assert "note_density" in vec.names and vec.vectors.shape == (len(vec.names), 6)
    v = vec.vector("note_density")
    assert v[0] > 1.0 and np.abs(v[1:]).max() < 0.2 * v[0]  # along the one dimension that sets density
    assert vec.gap[vec.names.index("note_density")] > 0
    z = mu[0]
    pushed = vec.push(z, "note_density", 0.5)
    assert np.allclose(pushed - z, 0.5 * v)
    assert vec.push(mu[:3], "note_density", np.array([0.0, 1.0, -1.0])).shape == (3, 6)
    with pytest.raises(ValueError):
        vec.vector("loudness")


def test_measurement_reports_the_achieved_change():
    rng = np.random.default_rng(1)
    mu = (0.5 * rng.standard_normal((2000, 4))).astype(np.float32)
    attrs = compute_attributes(DensityDecoder().decode(mu))
    vec = AttributeVectors.fit(mu, attrs)
    assert "mean_pitch" not in vec.names  # constant here: no top or bottom quartile to contrast
    m = measure_attribute_vectors(DensityDecoder(), vec, mu, n=50)
    d = m["note_density"]
    assert d["per_unit"] > 0.5 * d["gap"] and d["up_share"] > 0.9
    assert d["means"][0] < d["means"][-1] and len(d["means"]) == len(d["amounts"])


def clusters(n_per=400, seed=0):
    rng = np.random.default_rng(seed)
    cents = np.array([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [-3.0, -3.0, 0, 0]])
    mu = np.concatenate([c + rng.standard_normal((n_per, 4)) * [0.5, 0.5, 2.0, 2.0] for c in cents])
    labels = np.repeat(np.arange(3), n_per)
    return mu.astype(np.float32), labels, ["bach", "essen", "oneills"]


def test_style_centroids_moves_and_classifier():
    mu, labels, names = clusters()
    st = StyleModel.fit(mu, labels, names)
    assert st.names == names and st.counts.tolist() == [400, 400, 400]
    assert np.allclose(st.centroids[1], mu[labels == 1].mean(0), atol=1e-5)
    c0, c2 = st.centroids[0], st.centroids[2]
    assert np.allclose(st.move(c0, "oneills", 1.0), c2, atol=1e-5)  # amount 1 lands on the target
    assert np.allclose(st.move(c0, "oneills", 1.0, from_style="bach"), c2, atol=1e-5)
    assert np.allclose(st.move(c0, "oneills", 0.0), c0)
    assert np.allclose(st.move(c0, "oneills", 0.5), (c0 + c2) / 2, atol=1e-5)
    assert balanced_accuracy(st.predict(mu), labels, 3) > 0.95
    p = st.probabilities(mu[:5])
    assert p.shape == (5, 3) and np.allclose(p.sum(1), 1)
    assert st.nearest(c2) == 2
    with pytest.raises(ValueError):
        st.move(c0, "mozart")


def test_style_with_too_few_windows_is_dropped():
    mu, labels, names = clusters()
    labels = labels.copy()
    labels[0] = 3
    st = StyleModel.fit(mu, labels, names + ["midi"])
    assert st.names == names


def test_sample_in_style_follows_its_gaussian():
    mu, labels, names = clusters()
    st = StyleModel.fit(mu, labels, names)
    z = st.sample_z("essen", 4000, seed=1)
    assert np.allclose(z.mean(0), st.centroids[1], atol=0.15)
    assert np.allclose(z.std(0), mu[labels == 1].std(0), rtol=0.1)
    assert np.array_equal(z, st.sample_z("essen", 4000, seed=1))


def test_fisher_axes_find_the_separating_dimensions():
    mu, labels, _ = clusters()
    axes = fisher_axes(mu, labels, 3, 2)
    assert axes.shape == (2, 4) and np.allclose(np.linalg.norm(axes, axis=1), 1)
    assert np.abs(axes[:, 2:]).max() < 0.1  # the noisy, uninformative dimensions get ~no weight
    with pytest.raises(ValueError):
        fisher_axes(mu[labels < 2], labels[labels < 2], 3, 2)


def test_style_move_measurement():
    mu, labels, names = clusters()
    st = StyleModel.fit(mu, labels, names)
    m = measure_style_moves(CodebookModel(), st, mu, labels, n=60)
    for name in names:
        assert m[name]["before"] < 0.1 and m[name]["after"] > 0.9, (name, m[name])
        assert m[name]["after_subspace"] > 0.9 and m[name]["moved_latent_subspace"] == 1.0, (name, m[name])


def test_subspace_move_sets_only_what_tells_the_styles_apart():
    mu, labels, names = clusters()
    st = StyleModel.fit(mu, labels, names)
    p = st.discriminant_projector()
    assert np.allclose(p @ p, p, atol=1e-6)  # a projection
    z = mu[labels == 0][:50]
    moved = st.move_subspace(z, "oneills", 1.0, emphasis=0.0)
    # the discriminant coordinates become the target centroid's, the shared (within-style) part is kept
    assert np.allclose(moved @ p.T, np.broadcast_to(st.centroids[2] @ p.T, moved.shape), atol=1e-4)
    assert np.allclose(moved - moved @ p.T, z - z @ p.T, atol=1e-4)
    d = np.abs(moved - z).mean(axis=0)
    assert d[2:].max() < 0.1 * d[:2].min()  # the noise dims carry no style and barely move
    assert (st.predict(moved) == 2).all()
    assert np.allclose(st.move_subspace(z, "oneills", 0.0), z)
    further = st.move_subspace(z, "oneills", 1.0, emphasis=0.5)
    assert (st.probabilities(further)[:, 2] >= st.probabilities(moved)[:, 2] - 1e-6).all()


def test_pushes_follow_the_attribute_sliders():
    from vae.controls import fit_controls

    rng = np.random.default_rng(0)
    mu = rng.standard_normal((3000, 6)).astype(np.float32)
    attrs = {"note_density": mu[:, 0] + 0.8 * mu[:, 1], "pitch_range": mu[:, 1]}  # correlated, like the real ones
    c = fit_controls(mu, attrs, ["note_density", "pitch_range"], k=6, mode="decorrelated")
    plain = AttributeVectors.fit(mu, attrs)
    std = {a: float(np.std(v)) for a, v in attrs.items()}
    v = plain.along_sliders(c, std)
    d = v.vector("note_density")
    assert np.allclose(d, c.basis[0] * plain.gap[0] / std["note_density"], atol=1e-6)
    # the plain mean difference drags pitch range along; the slider direction holds it
    assert abs(plain.vector("note_density") @ np.eye(6)[1]) > 0.3
    assert abs(d[1]) < 0.05 * np.linalg.norm(d) and d[0] > 0


def test_a_style_move_must_leave_a_melody():
    """A candidate that keeps too few notes or pitches of the melody is not a melody any more ("toward Bach"
    once gave two 2-bar C5s)."""
    from conftest import notes

    from explorer.latent.styles import keeps_a_melody
    from vae.tokenizer import MelodyTokenizer

    tok = MelodyTokenizer()
    start = tok.encode(notes(*[(60 + (k * 2) % 9, 4 * k, 4 * k + 4) for k in range(16)]), 64)
    two_c5 = tok.encode(notes((72, 0, 32), (72, 32, 64)), 64)
    some = tok.encode(notes(*[(62 + k % 4, 8 * k, 8 * k + 8) for k in range(8)]), 64)
    assert list(keeps_a_melody(np.stack([two_c5, some, start]), start[None])) == [False, True, True]
