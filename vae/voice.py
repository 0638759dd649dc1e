"""Singable melodies: a voice's range and leap limits, and how far a melody goes beyond them.

A push that asks for many more notes can decode to a line no one could sing (straight 16ths over three
octaves). The explorer's steered moves (vae.sweep.steer) count every semitone beyond these limits against a
candidate, so a singable candidate wins when there is one; the user can loosen the limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae.constants import FIRST_NOTE_ON


@dataclass(frozen=True)
class VoiceLimits:
    """What a voice can sing: the span from the lowest to the highest note, and the largest leap between
    consecutive notes, in semitones."""

    max_range: int = 19  # an octave and a fifth: a trained singer's comfortable span
    max_leap: int = 12  # an octave


def range_and_leap(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per melody [B, T] (or one [T]): (span in semitones [B], largest leap between consecutive notes [B]);
    0 for melodies with fewer than two notes."""
    x = np.atleast_2d(np.asarray(tokens))
    span, leap = np.zeros(len(x), np.int64), np.zeros(len(x), np.int64)
    for i, row in enumerate(x):
        p = row[row >= FIRST_NOTE_ON].astype(np.int64)
        if len(p) >= 2:
            span[i] = p.max() - p.min()
            leap[i] = np.abs(np.diff(p)).max()
    return span, leap


def excess(tokens: np.ndarray, limits: VoiceLimits) -> np.ndarray:
    """Semitones beyond the limits per melody [B] (range excess + leap excess; 0 = singable)."""
    span, leap = range_and_leap(tokens)
    return np.maximum(span - limits.max_range, 0) + np.maximum(leap - limits.max_leap, 0)


def within(tokens: np.ndarray, limits: VoiceLimits) -> np.ndarray:
    """Whether each melody [B, T] is singable under the limits [B] bool."""
    return excess(tokens, limits) == 0
