"""A slider move of a melody as the page makes it, without the render: one function for the page's sliders
(Handlers.set_sliders) and the public API's {"melody": code, "sliders": [...]}, and its form with bars locked
(locked_slider_move: the move acts on the unlocked bars only)."""

from __future__ import annotations

import numpy as np

from explorer.errors import UserError
from vae.fidelity import fit_detail, nonzero, round_detail
from vae.infill import LockError, bar_mask, context_detail, hold_bars

SLIDER_RANGE = 3.0  # sliders span +-3 standard deviations; a melody may lie further out on a direction


def quantise(z: np.ndarray) -> np.ndarray:
    """z rounded through float16, so the compact share link restores exactly the melody that was heard."""
    return np.asarray(z, dtype=np.float16).astype(np.float32)


def page_slider_move(h, z: np.ndarray, detail: np.ndarray | None, values, current: np.ndarray | None = None,
                     meter: str = "4/4", settle: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Move the melody (z [Z], detail [U, C] or None) of Handlers `h` from slider values `current` (default: z's
    own) to `values` [K] -> (the values kept [K], z [Z] as the page keeps it (float16), detail or None).

    A value within 1e-3 of the current one as the page shows it (2 decimals, clipped to the slider's range) is
    the current one: a slider not touched asks for no move. The move is LatentSpace.slider_move with the
    handlers' detail_follow (steered, the detail fading with the distance moved), as on the page. With `settle`
    (not on a drag's live frames), a Mood raise on a minor melody that the move did not make more minor, its key
    kept, is made on its notes instead (Handlers.mood_slider_step: darker, tonic and minor key kept).
    """
    z = np.asarray(z, np.float32)
    current = h.s.sliders_of(z) if current is None else np.asarray(current, np.float32)
    values = np.asarray(values, dtype=np.float32)
    shown = np.clip(np.round(current, 2), -SLIDER_RANGE, SLIDER_RANGE)
    values = np.where(np.abs(values - shown) < 1e-3, current, values).astype(np.float32)
    moved, after = h.s.slider_move(z, values, current, detail, h.detail_follow)
    if settle:
        moved, after = h.mood_slider_step(z, detail, current, values, moved, after, meter)
    return values, quantise(moved), after


def locked_slider_move(h, z: np.ndarray, detail: np.ndarray | None, values, current: np.ndarray | None,
                       heard: np.ndarray, locked_bars, temperature: float = 0.0, seed: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """page_slider_move acting on the unlocked bars only: the melody heard (tokens [T], from z [Z] and detail) keeps
    its locked bars (0-based indices, or a bool mask [bars]) token for token -> (values kept [K], z [Z] (float16),
    detail [U, C] or None, tokens [T] to play).

    The moved z is decoded with the locked bars forced (vae.infill.hold_bars), under a detail that gives the locked
    bars the contexts they had (vae.infill.context_detail), so z with that detail mostly plays the result by itself;
    where it does not (a bar before a locked one ends otherwise), a detail is fitted to it (vae.fidelity), and where
    no detail at that z does, z and a detail together (LatentSpace.fit_melody, as for an upload: z then lies a little
    off the moved one). So z and its detail, as the session and a share link keep them, bring the result back at
    temperature 0 (bench/infill.md counts how often they do). Above 0 the result is a draw with the playback's seed,
    which z and the detail do not hold (nothing is fitted). Raises UserError when every bar is locked or a lock
    names a bar the melody does not have."""
    s = h.s
    try:
        mask = bar_mask(locked_bars, s.format.bars)
    except LockError as e:
        raise UserError(str(e)) from None
    if mask.all():
        raise UserError("Every bar is locked: unlock a bar for the sliders to change it.")
    values, moved, after = page_slider_move(h, z, detail, values, current)
    return values, *hold_locked(s, z, detail, moved, after, heard, mask, temperature, seed)


def hold_locked(s, z: np.ndarray, detail: np.ndarray | None, moved: np.ndarray, after: np.ndarray | None,
                heard: np.ndarray, mask: np.ndarray, temperature: float = 0.0, seed: int | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """A move of the melody heard (tokens [T], from z [Z] and detail) to z `moved` (with detail `after`) over
    LatentSpace `s`, acting on the unlocked bars only: the bars of `mask` [bars] stay token for token -> (z [Z],
    detail [U, C] or None, tokens [T] to play). How, and what z and its detail then play: locked_slider_move (a
    slider move) and Handlers.push / move_style (a push) both use it."""
    heard = np.asarray(heard, np.int64)
    if np.array_equal(moved, z) and after is detail:  # nothing moved: the melody as it was
        return moved, detail, heard
    if not mask.any():
        return moved, after, s.decode(moved, temperature, seed, after)
    held = round_detail(context_detail(s.model, z, detail, moved, after, mask))
    tokens = hold_bars(s.model, moved, heard, mask, held, temperature, seed)
    if temperature <= 0 and not np.array_equal(s.decode(moved, detail=held), tokens):
        found, out, _ = fit_detail(s.model, tokens[None], moved[None])
        if np.array_equal(out[0], tokens):
            held = found[0]
        else:  # no detail at this z brings it back whole: z and detail fitted together, as an upload's
            fit = s.fit_melody(tokens)
            if np.array_equal(fit["tokens"], tokens):
                moved, held = fit["z"], fit["detail"]
    return moved, None if held is None else nonzero(held), tokens
