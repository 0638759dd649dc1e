"""Training augmentation that widens the rhythms the model knows: pop-style anticipations.

Folk tunes put their notes on the beat; pop vocals push them ahead of it (a note struck an eighth or a
sixteenth early and held over the beat). `anticipate` moves some on-beat onsets of some windows earlier
on token arrays, so a model trained on folk alone also learns to render syncopated lines (step 12: an
uploaded pop tune comes back as itself).
"""

from __future__ import annotations

import numpy as np

from vae.constants import FIRST_NOTE_ON, HOLD, STEPS_PER_QUARTER

EARLY_STEPS = (1, 2)  # a sixteenth or an eighth early
EARLY_WEIGHTS = (0.35, 0.65)


def anticipate(tokens: np.ndarray, share: float, rng: np.random.Generator, per_onset: float = 0.5,
               offbeats: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Copy of windows [B, T] where, in a `share` of the windows, each on-beat onset moves 1 or 2 steps earlier
    with probability `per_onset`, when the steps it moves over hold (the note before, or a rest, is shortened;
    no event is overwritten). With `offbeats`, onsets on the eighth between beats may also move a sixteenth
    earlier (the 16th-note syncopations of pop and ragtime: onsets on the 2nd and 4th sixteenth of a beat).
    Returns (tokens [B, T], changed [B] bool).
    """
    x = np.array(tokens, copy=True)
    b, t = x.shape
    changed = np.zeros(b, bool)
    if share <= 0 or t < 4:
        return x, changed
    chosen = rng.random(b) < share
    beats = np.arange(STEPS_PER_QUARTER, t, STEPS_PER_QUARTER)
    early = rng.choice(np.array(EARLY_STEPS), size=(b, len(beats)), p=np.array(EARLY_WEIGHTS))
    if offbeats:  # eighth off-beats move one sixteenth, interleaved with the beats in time order
        half = STEPS_PER_QUARTER // 2
        beats = np.concatenate([beats, np.arange(half, t, STEPS_PER_QUARTER)])
        early = np.concatenate([early, np.ones((b, len(beats) - early.shape[1]), np.int64)], axis=1)
        order = np.argsort(beats, kind="stable")
        beats, early = beats[order], early[:, order]
    move = chosen[:, None] & (rng.random((b, len(beats))) < per_onset) & (x[:, beats] >= FIRST_NOTE_ON)
    for j, s in enumerate(beats):  # left to right: a moved onset never lands on a later position's steps
        rows = move[:, j]
        for k in EARLY_STEPS:
            r = np.flatnonzero(rows & (early[:, j] == k))
            if not len(r):
                continue
            # steps s-k .. s-1 must all hold, and s-k-1 must exist (the bar's first event stays put)
            if s - k - 1 < 0:
                continue
            free = (x[r][:, s - k : s] == HOLD).all(axis=1)
            r = r[free]
            x[r, s - k] = x[r, s]
            x[r, s - k + 1 : s + 1] = HOLD
            changed[r] = True
    return x, changed
