"""A slider move of a melody as the page makes it, without the render: one function for the page's sliders
(Handlers.set_sliders) and the public API's {"melody": code, "sliders": [...]}."""

from __future__ import annotations

import numpy as np

SLIDER_RANGE = 3.0  # sliders span +-3 standard deviations; a melody may lie further out on a direction


def quantise(z: np.ndarray) -> np.ndarray:
    """z rounded through float16, so the compact share link restores exactly the melody that was heard."""
    return np.asarray(z, dtype=np.float16).astype(np.float32)


def page_slider_move(h, z: np.ndarray, detail: np.ndarray | None, values, current: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Move the melody (z [Z], detail [U, C] or None) of Handlers `h` from slider values `current` (default: z's
    own) to `values` [K] -> (the values kept [K], z [Z] as the page keeps it (float16), detail or None).

    A value within 1e-3 of the current one as the page shows it (2 decimals, clipped to the slider's range) is
    the current one: a slider not touched asks for no move. The move is LatentSpace.slider_move with the
    handlers' detail_follow (steered, the detail fading with the distance moved), as on the page.
    """
    z = np.asarray(z, np.float32)
    current = h.s.sliders_of(z) if current is None else np.asarray(current, np.float32)
    values = np.asarray(values, dtype=np.float32)
    shown = np.clip(np.round(current, 2), -SLIDER_RANGE, SLIDER_RANGE)
    values = np.where(np.abs(values - shown) < 1e-3, current, values).astype(np.float32)
    moved, detail = h.s.slider_move(z, values, current, detail, h.detail_follow)
    return values, quantise(moved), detail
