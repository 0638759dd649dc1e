"""Regenerate: n new melodies that keep the bars a composer locked (and, with a rhythm lock, every onset and
duration; with a pitch lock, the pitch sequence on a new rhythm), as the page and the API offer them (the method is
vae.infill's)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from explorer.errors import UserError
from vae.infill import LockError
from vae.infill import regenerate as infill
from vae.tokenizer import Note

MAX_ALTERNATIVES = 8


@dataclass
class Alternative:
    """One regenerated melody: z [Z], tokens [T], notes, score (mean NLL per step under z: lower is likelier) and
    similarity (exact-note F1 of its regenerated bars with the original's: 0 all new, 1 the same)."""

    z: np.ndarray
    tokens: np.ndarray
    notes: list[Note]
    score: float
    similarity: float


@dataclass
class Regenerated:
    """The alternatives, likeliest first, the locked bars [U] (bool) and the seconds the work took."""

    alternatives: list[Alternative]
    locked_bars: np.ndarray
    seconds: float


def regenerate(s, z: np.ndarray, tokens: np.ndarray, locked_bars, n: int = 4, rhythm_lock: bool = False,
               seed: int = 0, temperature: float = 0.0, pitch_lock: bool = False) -> Regenerated:
    """n alternatives of the melody tokens [T] (as heard) at z [Z] over LatentSpace `s`: the bars in
    locked_bars (0-based indices, or a bool mask [bars]) stay token for token; with rhythm_lock every onset and
    duration stays and only pitches change; with pitch_lock the pitches stay in their order and only the rhythm
    changes. Raises UserError for locks that leave nothing to do (both locks, every bar locked) or name a bar
    the melody does not have."""
    t0 = time.perf_counter()
    fmt = s.format
    x = np.asarray(tokens, np.int64).reshape(-1)
    if len(x) != fmt.window_steps:
        raise UserError(f"A melody to regenerate must be {fmt.bars} bars ({fmt.window_steps} steps) long.")
    if not 1 <= int(n) <= MAX_ALTERNATIVES:
        raise UserError(f"Ask for 1 to {MAX_ALTERNATIVES} alternatives.")
    _, chol = s.latent_gaussian
    try:
        out = infill(s.model, z, x, locked_bars, n=int(n), rhythm_lock=rhythm_lock, seed=int(seed),
                     temperature=float(temperature), noise=chol, pitch_lock=bool(pitch_lock))
    except LockError as e:
        raise UserError(str(e)) from None
    alts = [Alternative(out.z[i], out.tokens[i], s.notes(out.tokens[i]), float(out.score[i]),
                        float(out.similarity[i])) for i in range(len(out.tokens))]
    return Regenerated(alts, out.plan.bars, time.perf_counter() - t0)
