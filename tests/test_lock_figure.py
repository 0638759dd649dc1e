"""Bar locks on the piano roll (step 19): a shaded rectangle over each locked bar and a closed padlock in its bar
header, exactly for the locked bars, on a real corpus melody; every render of the current melody draws the
session's locks (a slider move keeps the shading)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import busy_train_window

from explorer.media import figures
from explorer.media.files import Playback
from explorer.session import history
from explorer.session.state import Locks, new_state
from vae.tokenizer import MelodyTokenizer


def shaded(fig: dict) -> list[tuple[float, float]]:
    return [(s["x0"], s["x1"]) for s in fig["layout"]["shapes"] if s.get("name") == "locked bar"]


def padlocks(fig: dict) -> list[tuple[float, str]]:
    return [(a["x"], a["text"]) for a in fig["layout"].get("annotations", []) if a.get("name") == "lock"]


@pytest.fixture(scope="module")
def corpus_notes(small_corpus):
    """A busy training window of the bundled corpus (an O'Neill tune or a chorale), as notes."""
    notes = MelodyTokenizer().decode(small_corpus.tokens[busy_train_window(small_corpus)])
    assert len({n.start // 16 for n in notes}) == 4  # notes in every bar: the shading covers music
    return notes


@pytest.mark.parametrize("locked", [(), (1,), (0, 2), (0, 1, 2, 3), (3, 1)])
def test_the_roll_shades_and_padlocks_exactly_the_locked_bars(corpus_notes, locked):
    fig = figures.piano_roll(corpus_notes, 64, locked_bars=locked)
    assert shaded(fig) == [(b, b + 1) for b in sorted(locked)]
    # one padlock per bar beside its number: closed on the locked bars, open on the others, each clickable
    assert padlocks(fig) == [(b + 0.5, figures.LOCKED if b in locked else figures.UNLOCKED) for b in range(4)]
    assert all(a["captureevents"] for a in fig["layout"]["annotations"] if a["name"] == "lock")
    assert fig["layout"]["meta"]["lock"]["bars"] == sorted(locked)
    # the notes, the bar lines and the rest are as without locks
    plain = figures.piano_roll(corpus_notes, 64)
    assert fig["data"] == plain["data"]
    assert [s for s in fig["layout"]["shapes"] if s.get("name") != "locked bar"] == plain["layout"]["shapes"]
    assert not shaded(plain) and not padlocks(plain) and "meta" not in plain["layout"]


def test_nothing_locked_draws_no_shading_and_no_closed_padlock(corpus_notes):
    fig = figures.piano_roll(corpus_notes, 64, locked_bars=())
    assert shaded(fig) == []
    assert figures.LOCKED not in [text for _, text in padlocks(fig)]


def test_padlocks_follow_the_chords_and_a_six_eight_roll_shades_model_bars(corpus_notes):
    chords = [(0, 16, "C"), (16, 32, "G"), (32, 64, "Am")]
    fig = figures.piano_roll(corpus_notes, 64, chords=chords, locked_bars=(1,))
    names = [a["name"] for a in fig["layout"]["annotations"]]
    assert names == ["chord"] * 3 + ["lock"] * 4  # a chord's index stays its place in meta.chord_at
    assert len(fig["layout"]["meta"]["chord_at"]) == 3
    # in 6/8 the roll counts bars of 12 steps, a lock holds a model bar of 16
    jig = figures.piano_roll(corpus_notes, 64, meter="6/8", locked_bars=(1,))
    assert shaded(jig) == [(pytest.approx(16 / 12), pytest.approx(32 / 12))]


def test_every_render_draws_the_sessions_locks(h):
    st, r = h.load_window(new_state(), h.welcome_window(), Playback())
    assert shaded(r.figure) == [] and len(padlocks(r.figure)) == h.s.format.bars
    st = history.set_locks(st, Locks((1,)))
    r = h.render(st, Playback())
    assert shaded(r.figure) == [(1, 2)]
    # a slider move with bar 2 locked: the new roll keeps the shading (and the bar's notes)
    values = list(np.asarray(h.s.sliders_of(st.z)) + 0.5)
    st, moved = h.set_sliders(st, values, Playback(), locked_bars=st.locks.bars)
    assert shaded(moved.figure) == [(1, 2)]
    assert [n for n in moved.notes if 16 <= n.start < 32] == [n for n in r.notes if 16 <= n.start < 32]
