"""'Fit the melody to my chords' on the page's own path with the shipped model (step 18, your chords): on held-out
corpus melodies the fitted melody puts its strong beats on the typed chords (>= 0.9 of them, from well below) and
the page plays exactly the melody that was scored."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.media.files import Playback
from explorer.session.state import new_state
from vae.constants import FIRST_NOTE_ON
from vae.harmony import melody_fit
from vae.music import NOTE_NAMES, estimate_key


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)


def test_fitted_melodies_sit_on_the_chords_and_play_as_scored(h):
    from vae.corpus import TEST

    s = h.s
    tok = s.corpus.tokens
    ok = np.flatnonzero((s.index.split == TEST) & ((tok >= FIRST_NOTE_ON).sum(1) >= 10))
    done = 0
    for w in ok[:: max(len(ok) // 3, 1)][:3]:
        st, r = h.load_window(new_state(), int(w), Playback())
        tonic, mode = estimate_key(r.notes)
        numerals = "i iv V i" if mode == "minor" else "I IV V I"
        play = Playback(progression=f"{numerals} in {NOTE_NAMES[tonic]}{'m' if mode == 'minor' else ''}")
        fitted, r2, info = h.fit_to_chords(st, play)
        assert info["after"] >= 0.9, (int(w), info)
        assert info["changed"] and info["after"] > info["before"], (int(w), info)
        # the page plays the melody that was scored: its own notes on the typed chords give the same fit
        assert melody_fit(r2.notes, h.files.chords(r2.notes, play, fitted.meter), fitted.meter) == pytest.approx(
            info["after"])
        assert fitted.made_by == "Fit to your chords"
        done += 1
    assert done == 3
