"""Cut a tune into fixed-length token windows that start on bar lines."""

from __future__ import annotations

from collections import Counter

import numpy as np

from vae.constants import FIRST_NOTE_ON
from vae.music import relative_onsets
from vae.tokenizer import MelodyTokenizer, Note
from vae.tune import Tune, bar_starts

_TOKENIZER = MelodyTokenizer()


def clip_notes(notes: list[Note], start: int, length: int) -> list[Note]:
    """Notes sounding in [start, start+length), shifted to 0; a note already sounding is re-struck at 0."""
    out = []
    end = start + length
    for n in notes:
        if n.end <= start or n.start >= end:
            continue
        out.append(Note(n.pitch, max(n.start, start) - start, min(n.end, end) - start))
    return out


def tune_windows(tune: Tune, window_steps: int, hop_steps: int, min_notes: int) -> tuple[np.ndarray, np.ndarray, Counter]:
    """Windows of one tune: tokens [n, window_steps] uint8, their start steps [n], and drop counts by reason.

    Every window starts on a bar line, consecutive starts are >= hop_steps apart, and a window repeating
    an earlier one of the same tune (written-out repeats) is dropped so training does not see it twice.
    """
    drops: Counter = Counter()
    rows, starts, seen = [], [], set()
    if tune.total_steps < window_steps:
        drops["tune shorter than one window"] += 1
        return np.zeros((0, window_steps), np.uint8), np.zeros(0, np.int32), drops
    for s in bar_starts(tune, hop_steps):
        if s + window_steps > tune.total_steps:
            break
        tokens = _TOKENIZER.encode(clip_notes(tune.notes, s, window_steps), window_steps)
        if int((tokens >= FIRST_NOTE_ON).sum()) < min_notes:
            drops["fewer notes than min_notes"] += 1
            continue
        key = tokens.tobytes()
        if key in seen:
            drops["repeat within the same tune"] += 1
            continue
        seen.add(key)
        rows.append(tokens.astype(np.uint8))
        starts.append(s)
    if not rows:
        return np.zeros((0, window_steps), np.uint8), np.zeros(0, np.int32), drops
    return np.stack(rows), np.asarray(starts, np.int32), drops


def relative_keys(tokens: np.ndarray) -> list[bytes]:
    """Transposition-invariant keys of windows [n, steps] (vae.music.relative_onsets), one bytes key per window."""
    return [row.tobytes() for row in relative_onsets(tokens)]
