"""The backing follows the melody's key and scale: a pentatonic tune's drone sits on the tonic it establishes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import notes

from vae.meter import backing_notes
from vae.music import estimate_key, key_correlations
from vae.tokenizer import Note

# G major pentatonic (G A B D E: no 4th, no 7th) around its 5th and 6th, ending on a held G: the profiles alone
# heard D major in it and the drone played D-A.
G_PENTATONIC = [74, 76, 74, 71, 69, 71, 74, 69, 67, 69, 71, 74, 69, 67]
# E minor pentatonic (E G A B D) around B and D, ending on a held E: the profiles alone heard B minor.
E_MINOR_PENTATONIC = [71, 74, 71, 69, 67, 69, 71, 74, 76, 74, 71, 64]


def tune(pitches: list[int], shift: int = 0) -> list[Note]:
    """Quarter notes on the 16th grid, the last held a half note."""
    out = notes(*[(p + shift, 4 * i, 4 * i + 4) for i, p in enumerate(pitches)])
    out[-1] = Note(out[-1].pitch, out[-1].start, out[-1].start + 8)
    return out


@pytest.mark.parametrize("shift", range(-5, 7))
@pytest.mark.parametrize("pitches, tonic, mode", [(G_PENTATONIC, 7, "major"), (E_MINOR_PENTATONIC, 4, "minor")])
def test_pentatonic_tune_gets_its_own_tonic_in_every_key(pitches, tonic, mode, shift):
    assert estimate_key(tune(pitches, shift)) == ((tonic + shift) % 12, mode)


def test_the_profiles_alone_are_close_here():
    """The case the rule is for: the profiles' best key is not the tune's, and the tune's own key is close to it."""
    hist = np.zeros((1, 12))
    for n in tune(G_PENTATONIC):
        hist[0, n.pitch % 12] += n.end - n.start
    corr = key_correlations(hist)[0]
    assert int(np.argmax(corr)) != 7 and corr.max() - corr[7] < 0.2


@pytest.mark.parametrize("kind", ["drone", "chord"])
def test_drone_and_chord_sit_on_the_melody_tonic(kind):
    melody = tune(G_PENTATONIC)
    tonic, mode = estimate_key(melody)
    backing = backing_notes(melody, kind, tonic, mode == "minor")
    assert {b.pitch % 12 for b in backing} == ({7, 2} if kind == "drone" else {7, 11, 2})
    assert min(b.pitch for b in backing) % 12 == 7  # G at the bottom: not a D-A drone


@pytest.mark.parametrize("pitches, key", [
    ([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60], (0, "major")),  # C major scale, home to C
    ([57, 60, 64, 69, 68, 69, 64, 60, 62, 60, 59, 57], (9, "minor")),  # A harmonic minor
    ([62, 66, 69, 74, 73, 71, 69, 67, 66, 64, 62], (2, "major")),  # D major with its 4th and 7th
])
def test_clear_keys_are_kept(pitches, key):
    assert estimate_key(tune(pitches)) == key


def test_silence_and_a_flat_histogram():
    assert estimate_key([]) == (0, "major")
    assert estimate_key(notes(*[(60 + k, 4 * k, 4 * k + 4) for k in range(12)])) == (0, "major")
