"""Which instrument line is the sung one: features of a whole line that tell a voice from an instrumental lead.

A segment (a line between long silences) says little about who plays it: an intro played by a lead
instrument looks like any phrase. The whole line says more. A voice sings one note at a time, in a
singer's range, on syllables that often repeat a pitch and move by step, and it enters after the band
(the instrumental intro); a lead instrument doubles in octaves and chords, leaps, spans a wider range and
often plays from the first bar; a piano's top voice has chords under it. And the tune runs through the piece:
a few bars of a line silent for the rest (a clarinet's solo in an orchestral movement) lose to a line that covers
it (tests/test_orchestral_pick.py). Tuned on real arrangements
(POP909 songs 401-699, names removed, tracks shuffled: bench/pop909.py), checked on songs 700-909.

An ensemble is another case: in a string quartet, an orchestra or a choir, several parts each play one voice through
the piece, every one in a comfortable range, and the sung-line habits ranked the viola or the second violins above
the first (all of 24 quartet movements of the music21 corpus). Among such parts the tune is the voice on top of the
others most of the time (tests/test_quartet_pick.py); a band (a voice, a lead, a piano's chords) is not an ensemble.

    line_features(alone, chord, top, song_start) -> dict   (one instrument's whole line, in 16th steps)
    line_score(features) -> (score, parts)                  (added to the score of each of its segments)
    on_top_shares(lines) -> [share]                         (each line's time on top of the others)
    ensemble_weight(coverage, monophony) -> 0.0 or 1.0      (are the lines an ensemble's parts)
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
PART_COVERAGE = 0.6  # a line with onsets in this share of the song's bars plays through it: a part
PART_MONOPHONY = 0.5  # ... and one whose notes sound alone this often is one voice (a piano's line is not)
ENSEMBLE_PARTS = 3  # this many such parts make an ensemble (quartet, orchestra, choir); a band has a voice and a lead
ON_TOP_WEIGHT = 6.0  # points for a line on top of the others all the time it plays with them, in an ensemble


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
    sung = 1.0 - f.get("ensemble", 0.0)  # how much a voice's habits say here: not among an ensemble's parts
    parts = {
        # A voice is one note at a time: octave doubling, chords and an accompaniment under the top voice are not.
        "line_mono": 3.0 * (f["line_monophony"] - 1.0) - 4.0 * f["line_chords"],
        # Past a singer's range, a point per 4 semitones.
        "singer_range": -max(0.0, f["range"] - SINGER_RANGE) / 4 * sung,
        # Syllables repeat a pitch and move by step more than an instrument's line does.
        "syllabic": (3.0 * f["repeats"] + 1.5 * f["steps"]) * carries * sung,
        # The voice enters after an instrumental intro; the line playing from the first bar is more often the band.
        "late_entry": (0.5 if f["entry_bars"] >= LATE_ENTRY_BARS else 0.0) * carries,
        # The tune runs through the piece: a few bars of a line that is silent for the rest (a clarinet's 4-bar
        # solo in an orchestral movement, a fill) lose to a line that covers it, however clean they look.
        "fragment": -FRAGMENT_WEIGHT * (1.0 - carries),
        # Among an ensemble's parts the tune is the top voice: the first violins over the seconds, the viola and
        # the cello, the sopranos over the altos (tests/test_quartet_pick.py).
        "top_voice": ON_TOP_WEIGHT * f.get("ensemble", 0.0) * f.get("on_top", 0.0) * carries,
    }
    return sum(parts.values()), parts


def on_top_shares(lines: list[list[Note]]) -> list[float]:
    """For each line (an instrument's top voice, notes in 16th steps), the share of the steps it sounds together
    with another line during which it is the highest voice (a unison counts for both); 0.0 for a line never heard
    with another."""
    if len(lines) < 2:
        return [0.0] * len(lines)
    origin = min((n.start for line in lines for n in line), default=0)  # a pickup moved onto the grid may start < 0
    end = max((n.end for line in lines for n in line), default=0)
    top = np.full(max(end - origin, 0), -1, np.int16)  # the highest pitch sounding at each step, -1: none
    voices = np.zeros(len(top), np.int32)  # how many lines sound at each step
    steps = []  # each line's (steps it sounds at, its pitch there): one line at a time, never a lines x steps table
    for line in lines:
        start = np.array([n.start for n in line], np.int64) - origin
        length = np.maximum(np.array([n.end for n in line], np.int64) - origin - start, 0)
        at = np.repeat(start - np.cumsum(length) + length, length) + np.arange(length.sum())
        pitch = np.repeat(np.array([n.pitch for n in line], np.int16), length)
        top[at] = np.maximum(top[at], pitch)  # a line's top voice is one note at a time: no step twice
        voices[at] += 1
        steps.append((at, pitch))
    out = []
    for at, pitch in steps:
        together = voices[at] >= 2
        n = int(together.sum())
        out.append(float((pitch[together] == top[at[together]]).sum() / n) if n else 0.0)
    return out


def ensemble_weight(coverage: list[float], monophony: list[float]) -> float:
    """1.0 when at least ENSEMBLE_PARTS lines are parts (each one voice playing through the piece: `coverage`, share
    of the song's bars with an onset, and `monophony`, line_monophony, per line), else 0.0. In an ensemble every part
    is one voice in a comfortable range, so the sung-line habits tell the parts apart poorly; the tune is on top."""
    parts = sum(c >= PART_COVERAGE and m >= PART_MONOPHONY for c, m in zip(coverage, monophony, strict=True))
    return 1.0 if parts >= ENSEMBLE_PARTS else 0.0
