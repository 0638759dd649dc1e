"""The Mood slider toward minor on a minor tune, through the page's own slider path (Handlers.set_sliders, as a
drag's frames and its release run it) on the shipped model: the melody keeps its tonic and minor key where the
steered move alone lost them (step 22: "more minor" for a tune already in minor)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.media.files import Playback
from explorer.session.slider_move import page_slider_move
from explorer.session.state import new_state
from explorer.session.transform import MOOD
from vae.music import estimate_key

PLAY = Playback()


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)


def test_mood_up_on_minor_tunes_keeps_their_key_where_the_bare_move_lost_it(h):
    from vae.corpus import TEST

    s = h.s
    k = next(i for i, lab in enumerate(h.labels) if lab.get("name") == MOOD)
    rows = np.random.default_rng(0).permutation(np.flatnonzero(s.index.split == TEST))
    lost_before, checked = 0, 0
    for w in rows[:400]:
        st, r = h.load_window(new_state(), int(w), PLAY)
        if len(r.notes) < 8 or estimate_key(r.notes)[1] != "minor":
            continue
        key = estimate_key(r.notes)
        cur = np.asarray(st.sliders if st.sliders is not None else s.sliders_of(st.z), np.float32)
        vals = cur.copy()
        vals[k] = min(cur[k] + 1.0, 3.0)
        _, bare_z, bare_d = page_slider_move(h, st.z, st.detail, vals, cur, settle=False)
        if estimate_key(s.notes(s.decode(bare_z, detail=bare_d))) == key:
            continue  # the bare move kept the key: nothing to show here
        lost_before += 1
        for preview in (True, False):  # a drag's frame and a release
            moved, r2 = h.set_sliders(st, list(vals), PLAY, preview=preview)[:2]
            assert estimate_key(r2.notes) == key, (int(w), preview)
        checked += 1
        if checked == 2:
            break
    assert lost_before >= 1, "no held-out minor tune whose bare Mood move lost its key: the test shows nothing"
