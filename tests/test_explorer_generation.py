"""New latent points: interpolation endpoints, grid corners, prior, similar, paths, joined sections."""

import numpy as np
import pytest

from explorer.latent import generation
from explorer.latent.space import join_sections
from vae.constants import HOLD, NOTE_OFF

RNG = np.random.default_rng(0)
A, B, C, D = RNG.standard_normal((4, 16)).astype(np.float32)


@pytest.mark.parametrize("steps", [2, 3, 7])
def test_interpolation_endpoints(steps):
    z = generation.interpolate(A, B, steps)
    assert z.shape == (steps, 16) and z.dtype == np.float32
    assert np.array_equal(z[0], A) and np.array_equal(z[-1], B)
    if steps > 2:  # slerp keeps the norm between the endpoints' for similar norms
        assert not np.allclose(z[1], A) and not np.allclose(z[1], B)
    with pytest.raises(ValueError):
        generation.interpolate(A, B, 1)


def test_grid_corners_and_edges():
    g = generation.grid(np.stack([A, B, C, D]), 5)
    assert g.shape == (5, 5, 16)
    assert np.allclose(g[0, 0], A) and np.allclose(g[0, -1], B) and np.allclose(g[-1, 0], C)
    assert np.allclose(g[-1, -1], D)
    assert np.allclose(g[0], generation.interpolate(A, B, 5), atol=1e-5)
    with pytest.raises(ValueError):
        generation.grid(np.stack([A, B, C]), 5)


def test_prior_and_similar():
    z = generation.prior(2000, 16, seed=1)
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    assert np.array_equal(z, generation.prior(2000, 16, seed=1))
    same = generation.similar(A, 3, 1.0, seed=2)
    assert np.allclose(same, A)
    near, far = generation.similar(A, 200, 0.9, seed=3), generation.similar(A, 200, 0.2, seed=3)
    assert np.linalg.norm(near - A, axis=1).mean() < np.linalg.norm(far - A, axis=1).mean()


@pytest.mark.parametrize("k, sections", [(2, 4), (3, 5), (3, 4), (4, 4), (3, 16), (4, 7), (1, 3), (3, 1)])
def test_path_through_waypoints(k, sections):
    w = np.stack([A, B, C, D])[:k]
    p = generation.path(w, sections)
    assert p.shape == (sections, 16)
    assert np.allclose(p[0], w[0])
    if sections > 1:
        assert np.allclose(p[-1], w[-1])
    if sections >= k:  # every waypoint is a section of its own, in order
        hits = [next(i for i in range(sections) if np.allclose(p[i], wp, atol=1e-6)) for wp in w]
        assert hits == sorted(hits)
    # consecutive sections move smoothly: no step longer than the longest waypoint hop
    hops = np.linalg.norm(np.diff(w, axis=0), axis=1).max() if k > 1 else 0
    assert (np.linalg.norm(np.diff(p, axis=0), axis=1) <= hops + 1e-4).all()


def test_the_middle_waypoint_of_three_is_heard_in_16_bars():
    """3 waypoints over 16 bars (4 sections): each waypoint is a section, one transition between."""
    p = generation.path(np.stack([A, B, C]), 4)
    assert np.allclose(p[0], A) and np.allclose(p[3], C)
    assert np.allclose(p[1], B) or np.allclose(p[2], B)


def test_aaba_form():
    p = generation.form_path(np.stack([A, B]), 8, "AABA")
    letters = ["A" if np.allclose(r, A) else "B" if np.allclose(r, B) else "?" for r in p]
    assert letters == list("AAAABBAA")
    with pytest.raises(ValueError, match="two waypoints"):
        generation.form_path(np.stack([A]), 8, "AABA")
    with pytest.raises(ValueError, match="form must be"):
        generation.form_path(np.stack([A, B]), 8, "rondo")


def test_sections_for_bars():
    assert [generation.sections_for_bars(b) for b in (1, 4, 5, 16)] == [1, 1, 2, 4]
    with pytest.raises(ValueError):
        generation.sections_for_bars(0)


def test_join_sections_ends_a_held_note_before_a_silent_start():
    a = np.full(8, HOLD)
    a[0] = 41  # a note held to the end
    b = np.full(8, HOLD)
    b[2] = 45  # starts with two silent steps
    joined = join_sections(np.stack([a, b]))
    assert joined.shape == (16,) and joined[8] == NOTE_OFF and joined[10] == 45
    c = b.copy()
    c[0] = 48  # starts with a note: nothing to fix
    assert join_sections(np.stack([a, c]))[8] == 48


def test_the_grid_and_the_grid_slider_are_one_blend(tiny_services, tmp_path):
    """The Blend tab's x/y sliders (handlers.grid_point) land exactly on the points of generation.grid."""
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.state import new_state

    h = Handlers(tiny_services, out_dir=tmp_path)
    corners = tiny_services.index.mu[[0, 40, 80, 120]]
    st = new_state()
    for slot, z in zip("ABCD", corners, strict=True):
        st = h.set_slot(h.set_z(st, z, slot), slot)
    full = generation.grid(np.stack([st.slots[s].z for s in "ABCD"]), 5)
    for i, j in [(0, 0), (1, 3), (2, 2), (4, 1), (4, 4)]:
        got, _ = h.grid_point(st, j / 4, i / 4, Playback())
        assert np.allclose(got.z, full[i, j], atol=2e-3), (i, j)  # the session's z is rounded through float16
    assert not np.allclose(full[1, 3], full[3, 1], atol=0.05)


def test_a_gaussian_fitted_to_latents_draws_like_them():
    from explorer.latent.generation import gaussian_draw, gaussian_fit

    rng = np.random.default_rng(0)
    mix = rng.normal(0, 1, (4, 4))
    lat = rng.normal(0, 1, (20_000, 4)) @ mix + np.array([1.0, -2.0, 0.5, 0.0])
    mean, chol = gaussian_fit(lat)
    draws = gaussian_draw(20_000, mean, chol, seed=1)
    assert np.allclose(draws.mean(0), lat.mean(0), atol=0.1)
    assert np.allclose(np.cov(draws, rowvar=False), np.cov(lat, rowvar=False), atol=0.15)
    assert np.array_equal(gaussian_draw(3, mean, chol, seed=2), gaussian_draw(3, mean, chol, seed=2))
