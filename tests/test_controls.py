"""Sliders (vae.controls): read-outs and moves are consistent, attribute sliders hold the others, names are earned."""

import numpy as np
import pytest

from vae.attributes import compute_attributes
from vae.constants import HOLD, NOTE_OFF, pitch_to_token
from vae.controls import fit_controls, fit_pca, rankdata, spearman
from vae.sweep import NAME_RULE, steer, summarise, sweep


def latents(n=3000, dim=24, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(3.0, 0.1, dim)
    mixing = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    return (rng.standard_normal((n, dim)) * scales) @ mixing.T + rng.standard_normal(dim)


def correlated_attrs(mu, seed=1):
    """Two attributes that are linear in mu and correlated with each other (like density and range)."""
    rng = np.random.default_rng(seed)
    a = mu[:, 0] + 0.5 * mu[:, 1] + 0.05 * rng.standard_normal(len(mu))
    b = mu[:, 0] - 0.5 * mu[:, 2] + 0.05 * rng.standard_normal(len(mu))
    return {"note_density": a, "pitch_range": b}


@pytest.mark.parametrize("mode", ["decorrelated", "axis"])
@pytest.mark.parametrize("dim", [24, 8])
def test_moving_one_slider_sets_it_and_leaves_the_others(mode, dim):
    mu = latents(dim=dim)
    c = fit_controls(mu, correlated_attrs(mu), ["note_density", "pitch_range"], k=16, mode=mode)
    assert c.k == min(16, dim) and c.attributes[:2] == ("note_density", "pitch_range")
    assert np.allclose(c.readout @ c.basis.T, np.eye(c.k), atol=1e-4)
    z = mu[5].astype(np.float32)
    s = c.coords(z)
    for i in range(c.k):
        target = s.copy()
        target[i] += 1.5
        z2 = c.with_coords(z, target)
        assert np.allclose(c.coords(z2), target, atol=1e-3)
    assert np.allclose(c.with_coords(z, s), z, atol=1e-4)
    with pytest.raises(ValueError):
        c.with_coords(z, np.zeros(c.k + 1))


def test_decorrelated_slider_moves_its_attribute_and_holds_a_correlated_one():
    mu = latents()
    attrs = correlated_attrs(mu)
    assert np.corrcoef(attrs["note_density"], attrs["pitch_range"])[0, 1] > 0.5  # the hard case
    c = fit_controls(mu, attrs, ["note_density", "pitch_range"], mode="decorrelated")
    z = mu[:50]
    up = c.coords(z)
    up[:, 0] += 1.0
    z2 = c.with_coords(z, up)
    # the true (linear) attributes of the moved z: density up by ~1 SD, range unchanged
    da = (z2[:, 0] + 0.5 * z2[:, 1]) - (z[:, 0] + 0.5 * z[:, 1])
    db = (z2[:, 0] - 0.5 * z2[:, 2]) - (z[:, 0] - 0.5 * z[:, 2])
    assert np.allclose(da, np.std(attrs["note_density"]), rtol=0.05)
    assert np.abs(db).max() < 0.05 * np.std(attrs["pitch_range"])
    # the slider value of a melody reads its attribute in SDs
    s = c.coords(mu)[:, 0]
    a = attrs["note_density"]
    assert np.corrcoef(s, a)[0, 1] > 0.99 and abs(s.std() - 1) < 0.05


def test_free_sliders_never_move_an_attribute_readout():
    mu = latents()
    c = fit_controls(mu, correlated_attrs(mu), ["note_density", "pitch_range"], mode="decorrelated")
    assert c.attributes[2:] == (None,) * (c.k - 2)
    assert np.allclose(c.readout[:2] @ c.basis[2:].T, 0, atol=1e-4)
    assert (np.diff(c.variance_share[2:]) <= 1e-6).all() and c.variance_share[2:].sum() <= 1 + 1e-6
    assert (c.variance_share > 0).all() and (c.variance_share <= 1).all()


def test_pca_is_deterministic_and_signed():
    mu = latents()
    _, a, _, _ = fit_pca(mu, 4)
    _, b, _, _ = fit_pca(mu[::-1], 4)
    assert np.allclose(a, b, atol=1e-6)
    assert (a[np.arange(4), np.abs(a).argmax(1)] > 0).all()


def test_spearman_with_ties():
    assert rankdata(np.array([3, 1, 1, 2])).tolist() == [3.0, 0.5, 0.5, 2.0]
    assert spearman(np.arange(5), np.array([0, 1, 1, 3, 9])) == pytest.approx(9.5 / np.sqrt(10 * 9.5))  # Pearson of the ranks [0..4] and [0, 1.5, 1.5, 3, 4]
    assert spearman(np.arange(5), np.ones(5)) == 0.0
    assert spearman(np.arange(5), -np.arange(5.0)) == pytest.approx(-1.0)


def decode_from_z(z):
    """A stand-in decoder: z[0] sets how many legato quarter notes (1..16), z[1] their pitch; z[2:] does nothing."""
    z = np.atleast_2d(z)
    out = np.full((len(z), 64), HOLD, np.int64)
    for i, row in enumerate(z):
        count = int(np.clip(round(8 + 3 * row[0]), 1, 16))
        pitch = int(np.clip(round(64 + 4 * row[1]), 40, 90))
        for j in range(count):
            out[i, j * 4] = pitch_to_token(pitch)  # on the beat, each held to the next
    return out


def test_sweep_names_a_slider_only_when_it_moves_its_attribute():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((2000, 6)).astype(np.float32)
    tokens = decode_from_z(mu)
    attrs = compute_attributes(tokens)
    std = {a: float(np.nanstd(v)) for a, v in attrs.items()}
    # note density is what z[0] does; "contour" is unrelated to the stand-in decoder
    c = fit_controls(mu, attrs, ["note_density", "contour"], k=6, decode=decode_from_z)  # the decoder's response
    table = sweep(decode_from_z, c, mu[:40], std)
    density, contour = table[0], table[1]
    assert density["name"] == "note_density" and density["spearman"] >= NAME_RULE["spearman"]
    assert density["effect"]["note_density"] > 1.0 and density["specificity"] >= NAME_RULE["specificity"]
    assert contour["name"] is None  # fitted for contour, but moving it does nothing musical
    names = [r["name"] for r in table]
    assert names.count("note_density") == 1
    # a free slider that moves pitch alone earns the register name (rising or, reversed, falling)
    assert "mean_pitch" in names
    s = summarise(table)
    assert s["earned"] == 1 and s["earned_names"] == ["note_density"] and "mean_pitch" in s["free_named"]


def test_sweep_silence_and_hold_only_melodies_do_not_crash():
    def silent(z):
        out = np.full((len(np.atleast_2d(z)), 64), HOLD, np.int64)
        out[:, 0] = NOTE_OFF
        return out

    mu = np.random.default_rng(0).standard_normal((200, 4)).astype(np.float32)
    attrs = compute_attributes(decode_from_z(mu))
    c = fit_controls(mu, attrs, ["note_density"], k=4, decode=silent)
    table = sweep(silent, c, mu[:5], {a: float(np.nanstd(v)) for a, v in attrs.items()}, steered=True)
    assert all(r["name"] is None for r in table)


def test_a_decoder_that_does_not_respond_leaves_the_encoder_read_out_and_bounded_moves():
    def silent(z):
        return np.full((len(np.atleast_2d(z)), 64), HOLD, np.int64)

    mu = latents(dim=8)
    attrs = correlated_attrs(mu)
    c = fit_controls(mu, attrs, ["note_density", "pitch_range"], k=8, decode=silent)
    enc = fit_controls(mu, attrs, ["note_density", "pitch_range"], k=8, mode="decorrelated")
    assert np.allclose(c.readout[:2], enc.readout[:2], atol=1e-5) and np.abs(c.basis[:2]).max() > 0
    prec = np.linalg.inv(np.cov(mu.T))
    assert all(b @ prec @ b <= 3.0**2 + 1e-6 for b in c.basis[:2])  # one slider unit stays within 3 SD of mu


def test_steering_follows_the_request_and_keeps_the_free_sliders():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((2000, 6)).astype(np.float32)
    attrs = compute_attributes(decode_from_z(mu))
    std = {a: float(np.nanstd(v)) for a, v in attrs.items()}
    c = fit_controls(mu, attrs, ["note_density", "mean_pitch"], k=6, decode=decode_from_z)
    z = mu[:30]
    cur = c.coords(z)
    new = cur.copy()
    new[:, 0] += 1.0  # one SD more notes, the same register
    steered = steer(decode_from_z, c, z, cur, new, std)
    linear = c.with_coords(z, new)
    before = compute_attributes(decode_from_z(z))
    after = {k: compute_attributes(decode_from_z(x)) for k, x in (("steered", steered), ("linear", linear))}
    target = before["note_density"] + std["note_density"]
    miss = {k: np.abs(a["note_density"] - target).mean() for k, a in after.items()}
    assert miss["steered"] <= miss["linear"] + 1e-9 and miss["steered"] < 0.5 * std["note_density"]
    assert np.abs(after["steered"]["mean_pitch"] - before["mean_pitch"]).mean() < 0.5 * std["mean_pitch"]
    assert np.allclose(c.coords(steered)[:, 2:], new[:, 2:], atol=1e-4)  # free sliders exactly as asked
    assert np.array_equal(steered, steer(decode_from_z, c, z, cur, new, std))  # deterministic
