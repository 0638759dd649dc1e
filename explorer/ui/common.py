"""What every screen shares: the page context (state, playback inputs, the current-melody outputs) and helpers."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
from gradio.components.plot import PlotData

from explorer import figures
from explorer.errors import UserError
from explorer.handlers import Handlers, Playback, Rendered
from explorer.session import Session
from vae.errors import MusicReadError

PLAY_FIELDS = ("instrument", "tempo", "temperature", "seed", "accompaniment")


def fresh_seed() -> int:
    """A new random seed for Random / Similar / Draw (each press gives a new melody)."""
    return int(np.random.default_rng().integers(0, 2**31 - 1))


def plot(spec: dict | None) -> PlotData | None:
    """A figure spec (explorer.figures) as gr.Plot's payload, skipping plotly's slow validation."""
    return None if spec is None else PlotData(type="plotly", plot=figures.to_json(spec))


def user_errors(fn):
    """Show a user's mistake (UserError, or a file we cannot read) as a sentence; anything else is a bug and
    propagates unchanged (Gradio logs it and shows a generic error)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (UserError, MusicReadError) as exc:
            raise gr.Error(str(exc)) from exc

    return wrapper


@dataclass
class Page:
    """The shared parts of the page. Event functions take their inputs as one dict keyed by component
    (Gradio does that when `inputs` is a set), so playback settings are read by name."""

    h: Handlers
    state: gr.State
    play: dict  # PLAY_FIELDS name -> component
    main_out: list  # the current-melody panel's outputs, in show() order
    sliders: list = field(default_factory=list)

    def inputs(self, *extra) -> set:
        """The state, the playback inputs and `extra` components, as a set (one dict argument)."""
        return {self.state, *self.play.values(), *extra}

    def playback(self, data: dict) -> Playback:
        return Playback(**{name: data[c] for name, c in self.play.items()})

    def session(self, data: dict) -> Session:
        return data[self.state]

    @property
    def main_and_sliders(self) -> list:
        return self.main_out + self.sliders

    def show(self, st: Session, r: Rendered, with_sliders: bool = True) -> list:
        """Values for main_out (and the sliders) after a render."""
        out = [st, f"**{r.title}**", plot(r.figure), r.wav_path, [r.midi_path, r.wav_path], r.originality_md,
               r.share_code, f"{r.map_xy[0]:.4f},{r.map_xy[1]:.4f}"]
        return out + (list(r.sliders) if with_sliders else [])

    def need_melody(self, st: Session) -> None:
        if st.z is None:
            raise UserError("Load or create a melody first.")
