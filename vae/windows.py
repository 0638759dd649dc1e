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


KEY_CHUNK = 65536  # windows hashed at a time (bounded memory however many there are)


def window_keys(tokens: np.ndarray, relative: bool = True) -> np.ndarray:
    """A 64-bit key per window [n, steps] (uint64 [n]): equal windows get equal keys, exactly or, with relative,
    up to transposition (vae.music.relative_onsets). A random linear hash of the tokens (wrapping uint64
    arithmetic): two different windows share a key with chance about 2^-64 per pair; numpy over chunks, so
    millions of windows need megabytes, not a Python object each."""
    t = np.atleast_2d(np.asarray(tokens))
    weights = np.random.default_rng(12345).integers(1, 2**63, size=t.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.empty(len(t), np.uint64)
    for i in range(0, len(t), KEY_CHUNK):
        rows = relative_onsets(t[i : i + KEY_CHUNK]) if relative else t[i : i + KEY_CHUNK]
        # shifted by one so that a leading zero token still counts; uint64 products and sums wrap around
        out[i : i + KEY_CHUNK] = ((rows.astype(np.int64) + 1).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return out
