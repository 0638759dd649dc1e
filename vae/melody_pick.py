"""Which instrument line is the sung one: features of a whole line that tell a voice from an instrumental lead.

A segment (a line between long silences) says little about who plays it: an intro played by a lead
instrument looks like any phrase. The whole line says more. A voice sings one note at a time, in a
singer's range, on syllables that often repeat a pitch and move by step, and it enters after the band
(the instrumental intro); a lead instrument doubles in octaves and chords, leaps, spans a wider range and
often plays from the first bar; a piano's top voice has chords under it. And the tune runs through the piece:
a few bars of a line silent for the rest (a clarinet's solo in an orchestral movement) lose to a line that covers
it (tests/test_orchestral_pick.py). Tuned on real arrangements
(POP909 songs 401-699, names removed, tracks shuffled: bench/pop909.py), checked on songs 700-909.

    line_features(alone, chord, top, song_start) -> dict   (one instrument's whole line, in 16th steps)
    line_score(features) -> (score, parts)                  (added to the score of each of its segments)
"""

from __future__ import annotations

import numpy as np

from vae.constants import STEPS_PER_BAR
from vae.tokenizer import Note
from vae.voice import VoiceLimits

SINGER_RANGE = VoiceLimits().max_range  # semitones (5th to 95th percentile pitch) a sung line rarely exceeds
LATE_ENTRY_BARS = 2  # a line entering this many bars (of 16 steps) after the music starts follows an intro
CARRIES_SONG = 0.6  # share of the song's bars a line plays in to be judged by its habits as a whole
FRAGMENT_WEIGHT = 3.0  # points a line playing in almost none of the song's bars loses (a 4-bar solo in a symphony)


def line_features(alone: np.ndarray, chord: np.ndarray, top: list[Note], song_start: int) -> dict[str, float]:
    """Whole-line facts: `alone` [n] (bool, each note of the instrument sounds alone), `chord` [n] (bool, the
    first of notes sharing an onset), `top` the line's top voice, `song_start` the file's first onset (steps).

    Returns line_monophony (share of notes alone), line_chords (share of top-voice onsets that are chords),
    range (5th-95th percentile span of the top voice, semitones), repeats and steps (shares of intervals of 0
    and of 1-2 semitones between consecutive top notes), entry_bars (16-step bars from the file's first onset
    to the line's).
    """
    pitch = np.array([n.pitch for n in top], np.int64)
    iv = np.abs(np.diff(pitch))
    lo, hi = np.percentile(pitch, [5, 95]) if len(pitch) else (0.0, 0.0)
    return {"line_monophony": float(alone.mean()) if len(alone) else 1.0,
            "line_chords": float(chord.sum() / max(len(top), 1)),
            "range": float(hi - lo),
            "repeats": float((iv == 0).mean()) if len(iv) else 0.0,
            "steps": float(((iv >= 1) & (iv <= 2)).mean()) if len(iv) else 0.0,
            "entry_bars": (top[0].start - song_start) / STEPS_PER_BAR if top else 0.0}


def line_score(f: dict[str, float]) -> tuple[float, dict[str, float]]:
    """How much a whole line looks sung, from line_features and the line's `coverage` (share of the song's
    bars with an onset). Returns (score, parts)."""
    # A few fills between the voice's phrases may repeat pitches and enter late too: the habits of a line
    # count in full only for a line that carries the song.
    carries = min(1.0, f.get("coverage", 1.0) / CARRIES_SONG)
    parts = {
        # A voice is one note at a time: octave doubling, chords and an accompaniment under the top voice are not.
        "line_mono": 3.0 * (f["line_monophony"] - 1.0) - 4.0 * f["line_chords"],
        # Past a singer's range, a point per 4 semitones.
        "singer_range": -max(0.0, f["range"] - SINGER_RANGE) / 4,
        # Syllables repeat a pitch and move by step more than an instrument's line does.
        "syllabic": (3.0 * f["repeats"] + 1.5 * f["steps"]) * carries,
        # The voice enters after an instrumental intro; the line playing from the first bar is more often the band.
        "late_entry": (0.5 if f["entry_bars"] >= LATE_ENTRY_BARS else 0.0) * carries,
        # The tune runs through the piece: a few bars of a line that is silent for the rest (a clarinet's 4-bar
        # solo in an orchestral movement, a fill) lose to a line that covers it, however clean they look.
        "fragment": -FRAGMENT_WEIGHT * (1.0 - carries),
    }
    return sum(parts.values()), parts
