"""Sliders act on the unlocked bars only: a slider move with bars locked (Handlers.set_sliders(locked_bars=...),
explorer.session.slider_move.locked_slider_move) keeps those bars token for token as heard and moves the others, on
held-out corpus melodies of the shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.media.files import Playback
from explorer.session.sharecode import decode_z
from explorer.session.state import new_state
from vae.constants import FIRST_NOTE_ON
from vae.infill import sounding

PLAY = Playback()
NOTES = 3  # the shipped model's "Notes: fewer <-> more" slider


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)


@pytest.fixture(scope="module")
def windows(h):
    """Four held-out windows with 8 note-ons or more whose Notes slider has room for +2."""
    from vae.corpus import TEST

    s = h.s
    assert s.labels[NOTES]["label"].startswith("Notes")
    tok = s.corpus.tokens
    ok = np.flatnonzero((s.index.split == TEST) & ((tok >= FIRST_NOTE_ON).sum(1) >= 8))
    ok = ok[s.sliders_of(s.index.mu[ok])[:, NOTES] <= 0.5]
    return [int(w) for w in ok[:: len(ok) // 4][:4]]


def _steps(h, locks) -> np.ndarray:
    return np.repeat(np.isin(np.arange(h.s.format.bars), locks), h.s.format.steps_per_bar)


def _more_notes(st, h) -> list[float]:
    values = np.array(h.s.sliders_of(st.z) if st.sliders is None else st.sliders, np.float32)
    values[NOTES] += 2.0
    return values.tolist()


@pytest.mark.parametrize("k, locks", [(0, [0, 1, 2]), (1, [0, 3]), (2, [1]), (3, [0, 1, 2])])
def test_notes_up_keeps_the_locked_bars_and_changes_the_others(h, windows, k, locks):
    st, before = h.load_window(new_state(), windows[k], PLAY)
    kept = _steps(h, locks)
    after, r = h.set_sliders(st, _more_notes(st, h), PLAY, locked_bars=locks)
    assert np.array_equal(r.tokens[kept], before.tokens[kept])
    assert (sounding(r.tokens)[kept] == sounding(before.tokens)[kept]).all()  # a note tied into a locked bar too
    assert not np.array_equal(r.tokens[~kept], before.tokens[~kept])
    # "more notes in bar 4": the unlocked bars got the notes
    assert (r.tokens[~kept] >= FIRST_NOTE_ON).sum() > (before.tokens[~kept] >= FIRST_NOTE_ON).sum()
    # the session (z and its detail) plays the result again, and so does its share link
    assert np.array_equal(h.render(after, PLAY).tokens, r.tokens)
    d = decode_z(r.share_code)
    assert np.array_equal(h.s.decode(d["z"], 0.0, None, d["detail"]), r.tokens)
    assert after.made_by.startswith("Notes +2")


def test_without_locks_the_same_move_changes_the_bars_that_locks_keep(h, windows):
    """The test above means something: unlocked, the same moves change bars the locks keep."""
    changed = 0
    for k, locks in [(0, [0, 1, 2]), (1, [0, 3]), (2, [1]), (3, [0, 1, 2])]:
        st, before = h.load_window(new_state(), windows[k], PLAY)
        _, r = h.set_sliders(st, _more_notes(st, h), PLAY)
        kept = _steps(h, locks)
        changed += not np.array_equal(r.tokens[kept], before.tokens[kept])
    assert changed >= 3


@pytest.mark.parametrize("none", [None, [], set()], ids=["None", "list", "set"])
def test_no_lock_is_the_move_as_before(h, windows, none):
    st, _ = h.load_window(new_state(), windows[1], PLAY)
    values = _more_notes(st, h)
    a, ra = h.set_sliders(st, values, PLAY)
    b, rb = h.set_sliders(st, values, PLAY, locked_bars=none)
    assert np.array_equal(a.z, b.z) and a.detail is None and b.detail is None
    assert np.array_equal(ra.tokens, rb.tokens) and ra.share_code == rb.share_code


def test_a_drag_preview_keeps_the_locks_and_finishes_as_it_played(h, windows):
    st, before = h.load_window(new_state(), windows[0], PLAY)
    kept = _steps(h, [2, 3])
    after, r = h.set_sliders(st, _more_notes(st, h), PLAY, preview=True, locked_bars=[2, 3])
    assert np.array_equal(r.tokens[kept], before.tokens[kept]) and np.array_equal(after.preview.tokens, r.tokens)
    assert np.array_equal(h.finish(after, PLAY).tokens, r.tokens)


def test_sampled_playback_keeps_the_locked_bars_it_heard(h, windows):
    play = Playback(temperature=0.9, seed=7)
    st, _ = h.load_window(new_state(), windows[2], play)
    heard = h.render(st, play).tokens
    kept = _steps(h, [0, 1])
    _, r = h.set_sliders(st, _more_notes(st, h), play, locked_bars=[0, 1])
    assert np.array_equal(r.tokens[kept], heard[kept]) and not np.array_equal(r.tokens, heard)


def test_sliders_as_shown_leave_a_locked_melody_as_it_was(h, windows):
    st, before = h.load_window(new_state(), windows[3], PLAY)
    after, r = h.set_sliders(st, before.sliders, PLAY, locked_bars=[1])
    assert np.array_equal(after.z, st.z) and after.detail is None and np.array_equal(r.tokens, before.tokens)


def test_bad_locks_get_a_sentence(h, windows):
    st, _ = h.load_window(new_state(), windows[0], PLAY)
    values = _more_notes(st, h)
    bars = h.s.format.bars
    with pytest.raises(UserError, match="Every bar is locked: unlock a bar for the sliders to change it"):
        h.set_sliders(st, values, PLAY, locked_bars=list(range(bars)))
    with pytest.raises(UserError, match=f"Bar {bars + 1} cannot be locked: the melody has bars 1 to {bars}"):
        h.set_sliders(st, values, PLAY, locked_bars=[0, bars])
    with pytest.raises(UserError, match="Bar 0 cannot be locked"):
        h.set_sliders(st, values, PLAY, locked_bars=[-1])
