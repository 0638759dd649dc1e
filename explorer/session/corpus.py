"""Melodies of the corpus: load a window or a map point's tune, the welcome melody, the corpus map."""

from __future__ import annotations

import numpy as np

from explorer.errors import UserError
from explorer.latent.styles import style_color
from explorer.media import figures
from explorer.media.files import Playback
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.state import Session
from explorer.session.words import (
    describe_window,
)
from vae.corpus import COLLECTION_LABELS


class CorpusActions(MelodyActions):
    """Loading corpus melodies and drawing the corpus map."""

    def load_window(self, state: Session, window: int, play: Playback) -> tuple[Session, Rendered]:
        """Load corpus window `window` (its posterior mean) as the current melody."""
        if not 0 <= window < len(self.s.corpus.tokens):
            raise UserError(f"there is no corpus melody number {window}")
        w = self.s.window(window)
        title = describe_window(w, self.s.format.window_steps)
        state = self.set_z(state, w["mu"], title, w["tokens"], origin_tune=w["tune"], meter=w["meter"])
        return self.shown(state, play)

    def load_tune(self, state: Session, tune: int, play: Playback) -> tuple[Session, Rendered]:
        """Load the window that tune `tune`'s map point stands for (LatentSpace.tune_window)."""
        if not 0 <= int(tune) < len(self.s.tune_window) or self.s.tune_window[int(tune)] < 0:
            raise UserError(f"tune {tune} has no {self.s.format.bars}-bar window")
        return self.load_window(state, int(self.s.tune_window[int(tune)]), play)

    def welcome_window(self) -> int:
        """The melody shown first: the opening of the first lively 4/4 or 6/8 O'Neill tune (deterministic)."""
        c = self.s.corpus
        for t, meta in enumerate(c.tunes):
            if meta["collection"] == "oneills" and meta["meter"] in ("4/4", "6/8", "2/2") and meta["windows"]:
                row = int(np.nonzero(c.tune == t)[0][0])
                if int((c.tokens[row] >= 2).sum()) >= 14:
                    return row
        return 0

    def map_figure(self, color_by: str = "collection", current: tuple[float, float] | None = None,
                   extra: dict[str, tuple[float, float]] | None = None) -> object:
        """The corpus map coloured by `color_by`, with the star at `current` and `extra` markers. The tunes' part
        is built once per colouring and shared (no rebuild per page load); the markers are added."""
        key = (color_by, self.map_max_points)
        base = self._map_figures.get(key)
        if base is None:
            d = self.map_data
            values = None if color_by == "collection" else d.get(f"attr_{color_by}")
            base = figures.corpus_map(d["x"], d["y"], d["collection"], self._map_hover, d["tune"], values, color_by,
                                      max_points=self.map_max_points, color_of=style_color)
            self._map_figures[key] = base
        return {"data": base["data"] + figures.map_markers(current, extra), "layout": base["layout"]}

    @property
    def map_data(self) -> dict:
        if not hasattr(self, "_map_data"):
            self._map_data = self.s.map_figure_data()
            d = self._map_data
            self._map_hover = np.array([f"{t}<br>{COLLECTION_LABELS.get(c, c)} · {m} · {k}" for t, c, m, k in
                                        zip(d["title"], d["collection"], d["meter"], d["key"], strict=True)])
        return self._map_data
