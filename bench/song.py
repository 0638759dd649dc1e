"""A typical multi-track song to upload: melody, chords, bass and drums, 32 bars of 4/4 (made with pretty_midi)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MELODY_TRACK = "Melody"
_PROGRESSION = [(0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14)]  # I vi IV V in C
_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])


def make_song(path: Path | str, bars: int = 32, tempo: float = 112.0, seed: int = 0) -> Path:
    """Write a 4-track type-1 MIDI file (melody first would be too easy: it is the third track) and return its path."""
    import pretty_midi

    rng = np.random.default_rng(seed)
    beat = 60.0 / tempo
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    chords = pretty_midi.Instrument(program=0, name="Chords")
    bass = pretty_midi.Instrument(program=33, name="Bass")
    melody = pretty_midi.Instrument(program=73, name=MELODY_TRACK)
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="Drums")
    degree = 4  # scale degree index of the melody, around G4..C6
    for bar in range(bars):
        t0 = bar * 4 * beat
        chord = _PROGRESSION[bar % len(_PROGRESSION)]
        for half in range(2):  # chords on beats 1 and 3, in the middle register
            for p in chord:
                chords.notes.append(pretty_midi.Note(70, 48 + p, t0 + half * 2 * beat, t0 + (half + 1) * 2 * beat - 0.02))
        for q in range(4):  # bass roots on every beat
            bass.notes.append(pretty_midi.Note(85, 36 + chord[0] % 12, t0 + q * beat, t0 + (q + 0.9) * beat))
        for e in range(8):  # kick on 1 and 3, snare on 2 and 4, closed hi-hat on every eighth
            at = t0 + e * beat / 2
            drums.notes.append(pretty_midi.Note(60, 42, at, at + 0.05))
            if e in (0, 4):
                drums.notes.append(pretty_midi.Note(100, 36, at, at + 0.1))
            if e in (2, 6):
                drums.notes.append(pretty_midi.Note(90, 38, at, at + 0.1))
        pos = 0.0
        while pos < 4.0:  # melody: a random walk over the scale in eighths, quarters and dotted quarters
            dur = float(rng.choice([0.5, 0.5, 1.0, 1.0, 1.5])) if pos < 3.0 else 4.0 - pos
            degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, 13))
            pitch = 67 + 12 * (degree // 7) + _SCALE[degree % 7] - 7
            if not (bar % 8 == 7 and pos >= 2.0):  # a breath at the end of each 8-bar phrase
                melody.notes.append(pretty_midi.Note(95, int(pitch), t0 + pos * beat, t0 + (pos + dur) * beat - 0.03))
            pos += dur
    pm.instruments.extend([chords, bass, melody, drums])
    path = Path(path)
    pm.write(str(path))
    return path
