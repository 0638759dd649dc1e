"""Transform's pushes act on the unlocked bars only (step 19): an attribute push or a style move with bars locked
keeps those bars token for token as heard and moves the others, as a slider move with bars locked does
(explorer.session.slider_move.hold_locked), on held-out corpus melodies of the shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.media.files import Playback
from explorer.session import history
from explorer.session.sharecode import decode_z
from explorer.session.state import new_state
from vae.constants import FIRST_NOTE_ON
from vae.infill import sounding

PLAY = Playback()
LOCKS = [0, 1]  # bars 1-2


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)


@pytest.fixture(scope="module")
def windows(h):
    """Three held-out corpus windows with 8 note-ons or more, spread over the test split."""
    from vae.corpus import TEST

    s = h.s
    tok = s.corpus.tokens
    ok = np.flatnonzero((s.index.split == TEST) & ((tok >= FIRST_NOTE_ON).sum(1) >= 8))
    return [int(w) for w in ok[:: len(ok) // 3][:3]]


def _kept(h) -> np.ndarray:
    return np.repeat(np.isin(np.arange(h.s.format.bars), LOCKS), h.s.format.steps_per_bar)


def _check_locked_move(h, before, after, r):
    kept = _kept(h)
    assert np.array_equal(r.tokens[kept], before.tokens[kept])  # bars 1-2 note for note
    assert (sounding(r.tokens)[kept] == sounding(before.tokens)[kept]).all()  # a note tied into them too
    assert not np.array_equal(r.tokens[~kept], before.tokens[~kept])  # bars 3-4 moved
    # the session (z and its detail) plays the result again, and so does its share link
    assert np.array_equal(h.render(after, PLAY).tokens, r.tokens)
    d = decode_z(r.share_code)
    assert np.array_equal(h.s.decode(d["z"], 0.0, None, d["detail"]), r.tokens)


@pytest.mark.parametrize("k", range(3))
def test_a_push_with_bars_1_2_locked_keeps_them_and_changes_the_rest(h, windows, k):
    st, before = h.load_window(new_state(), windows[k], PLAY)
    after, r, info = h.push(st, "note_density", 2.0, PLAY, locked_bars=LOCKS)
    _check_locked_move(h, before, after, r)
    assert info["after"] > info["before"]  # the push still did its work (on bars 3-4)
    assert after.made_by.startswith("Notes +2")


def test_without_locks_the_same_push_changes_bars_1_2(h, windows):
    """The test above means something: unlocked, the same push changes the bars the locks keep."""
    kept = _kept(h)
    changed = 0
    for w in windows:
        st, before = h.load_window(new_state(), w, PLAY)
        _, r, _ = h.push(st, "note_density", 2.0, PLAY)
        changed += not np.array_equal(r.tokens[kept], before.tokens[kept])
    assert changed >= 2


def test_a_style_move_with_bars_locked_keeps_them(h, windows):
    st, before = h.load_window(new_state(), windows[0], PLAY)
    to = next(s for s in h.s.style_names if s != max(h.s.style_of(st.z), key=h.s.style_of(st.z).get))
    after, r, _ = h.move_style(st, to, 1.0, PLAY, locked_bars=LOCKS)
    _check_locked_move(h, before, after, r)


def test_redoing_a_locked_push_starts_from_where_it_began_and_keeps_the_bars(h, windows):
    st, before = h.load_window(new_state(), windows[1], PLAY)
    st = history.record(st)
    st, r1, _ = h.push(st, "note_density", 1.0, PLAY, locked_bars=LOCKS)
    st = history.record(st)
    st, r2, _ = h.push(st, "note_density", 2.0, PLAY, locked_bars=LOCKS)  # the same slider moved again
    _check_locked_move(h, before, st, r2)
    once, r_once, _ = h.push(h.load_window(new_state(), windows[1], PLAY)[0], "note_density", 2.0, PLAY,
                             locked_bars=LOCKS)
    assert np.array_equal(r2.tokens, r_once.tokens)  # amounts don't accumulate


def test_bad_locks_get_a_sentence(h, windows):
    st, _ = h.load_window(new_state(), windows[0], PLAY)
    with pytest.raises(UserError, match="Every bar is locked"):
        h.push(st, "note_density", 1.0, PLAY, locked_bars=range(h.s.format.bars))
    with pytest.raises(UserError, match="Bar 9 cannot be locked"):
        h.move_style(st, h.s.style_names[0], 1.0, PLAY, locked_bars=[8])


def test_the_mood_push_toward_minor_keeps_locked_bars_too(h, windows):
    """Mood toward minor has a path of its own (the Mood slider's direction, else darker on the notes): with bars 1-2
    locked they stay note for note on it as well, and the push still changes bars 3-4 somewhere."""
    kept = _kept(h)
    changed = 0
    for w in windows:
        st, before = h.load_window(new_state(), w, PLAY)
        after, r, info = h.push(st, "minorness", 1.0, PLAY, locked_bars=LOCKS)
        assert np.array_equal(r.tokens[kept], before.tokens[kept])
        assert (sounding(r.tokens)[kept] == sounding(before.tokens)[kept]).all()
        assert np.array_equal(h.render(after, PLAY).tokens, r.tokens)  # the session plays what was heard
        changed += not np.array_equal(r.tokens[~kept], before.tokens[~kept])
    assert changed >= 1
