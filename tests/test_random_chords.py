"""Your chords on the page (step 18) with the shipped model: with a progression in the chord box, Random's melody
puts far more of its strong beats on the chords than the same seed's plain draw (and the page plays the melody that
was scored, titled as drawn over the chords); the title line says how a longer or shorter progression is laid over
the melody."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.media.files import Playback
from explorer.session.state import new_state
from vae.chords import ChordError
from vae.harmony import key_of, melody_fit
from vae.music import NOTE_NAMES

SEEDS = (0, 1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)


def fit_over(h, r, st, play: Playback) -> float:
    """The share of the melody's strong-beat notes on the typed chords, as the page lays them under it."""
    return melody_fit(r.notes, h.files.chords(r.notes, play, st.meter), st.meter)


def test_random_over_typed_chords_fits_them_far_better_than_without(h):
    without, over = [], []
    for seed in SEEDS:
        st, r = h.random(new_state(), Playback(), seed)
        assert st.title == f"Random melody (seed {seed})"
        tonic, minor = key_of(r.notes)
        # the chords a composer might type in the key of the plain draw: the fairest case for the plain draw
        play = Playback(progression=f"{'i iv V i' if minor else 'I vi IV V7'} in {NOTE_NAMES[tonic]}{'m' if minor else ''}")
        st2, r2 = h.random(new_state(), play, seed)
        assert st2.title == f"Random melody over your chords (seed {seed})"
        assert "over your chords" in r2.title
        without.append(fit_over(h, r, st, play))
        over.append(fit_over(h, r2, st2, play))  # the melody the page plays and shows, not the one scored inside
        # it is held by the model: decoding its z (and detail) gives the tokens the page shows
        assert np.array_equal(h.s.decode(st2.z, 0.0, None, st2.detail), r2.tokens)
    assert np.mean(over) >= 0.9, over
    assert np.mean(over) >= np.mean(without) + 0.3, (without, over)
    assert sum(o > w for o, w in zip(over, without, strict=True)) >= len(SEEDS) - 1, (without, over)


def test_random_without_chords_is_the_plain_draw_and_a_bad_line_is_one_sentence(h):
    st, r = h.random(new_state(), Playback(), 7)
    z, _ = h.s.sample(1, 0.0, 7)
    assert np.array_equal(st.z, np.asarray(z[0], st.z.dtype)) or np.allclose(st.z, z[0], atol=1e-2)
    assert st.detail is None
    with pytest.raises(ChordError, match="'Xq'"):
        h.random(new_state(), Playback(progression="C Xq G"), 7)


@pytest.mark.parametrize("line, shown, note", [
    ("Am F C G Dm E Am E", "Am | F | C | G",
     "Your chords run 8 bars and the melody 4: the first 4 are played over it and the last 4 (bars 5-8) are left out."),
    ("| Am | F C | G | E | Am |", "Am | F C | G | E",
     "Your chords run 5 bars and the melody 4: the first 4 are played over it and the last one (bar 5) is left out."),
    ("Am F", "Am | F | Am | F", "Your chords run 2 bars and the melody 4: they repeat from the top to fill it."),
    ("Am F C G", "Am | F | C | G", ""),
])
def test_the_title_line_says_how_a_longer_or_shorter_progression_is_laid_over_the_melody(h, line, shown, note):
    from explorer.ui.common import Page

    st, _ = h.random(new_state(), Playback(), 3)
    play = Playback(progression=line)
    r = h.render(st, play)
    # what is played and shown is what the sentence says: the first 4 bars of a longer line, a shorter one repeated
    assert r.chord_line == shown
    assert r.chord_note == note
    title = Page.title_line(r)
    assert ("chords: Am" in title) and (title.endswith(note.replace("(", "\\(").replace(")", "\\)")) if note
                                        else title.endswith(shown.replace("|", "\\|")))
