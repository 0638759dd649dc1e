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
    max_run: int = 0  # the longest run of straight 16th-note onsets (0 = no limit): a bar of 16 is a lot to play


# With "Keep it singable" off, moves still stay playable: an instrument's span (three octaves), leaps up to an
# octave and a fifth, and at most a bar of straight sixteenths (range +2 made a 31-semitone leap, Notes +3
# 64 straight sixteenths).
INSTRUMENT = VoiceLimits(max_range=36, max_leap=19, max_run=16)


def longest_run(tokens: np.ndarray) -> np.ndarray:
    """Per melody [B, T] (or one [T]): the longest run of note onsets on consecutive 16th steps [B]."""
    x = np.atleast_2d(np.asarray(tokens))
    onset = x >= FIRST_NOTE_ON
    out = np.zeros(len(x), np.int64)
    run = np.zeros(len(x), np.int64)
    for t in range(x.shape[1]):
        run = np.where(onset[:, t], run + 1, 0)
        out = np.maximum(out, run)
    return out


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
    """How far beyond the limits each melody [B] goes: semitones of range and leap excess, plus the onsets of
    straight 16ths beyond max_run (when set); 0 = within."""
    span, leap = range_and_leap(tokens)
    out = np.maximum(span - limits.max_range, 0) + np.maximum(leap - limits.max_leap, 0)
    if limits.max_run:
        out = out + np.maximum(longest_run(tokens) - limits.max_run, 0)
    return out


def within(tokens: np.ndarray, limits: VoiceLimits) -> np.ndarray:
    """Whether each melody [B, T] is singable under the limits [B] bool."""
    return excess(tokens, limits) == 0
