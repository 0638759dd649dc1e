"""What every screen shares: the page context (state, playback inputs, the current-melody outputs) and helpers."""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass, field, fields

import gradio as gr
import numpy as np
from gradio.components.plot import PlotData

from explorer.errors import UserError
from explorer.media import figures
from explorer.media.files import ACCOMPANIMENTS, INSTRUMENTS, Playback
from explorer.media.storage import UploadCache
from explorer.serve.drag import Drags
from explorer.session import history
from explorer.session.handlers import Handlers
from explorer.session.melody import Rendered
from explorer.session.state import Locks, Session
from explorer.session.validate import number
from vae.chords import parse_progression
from vae.errors import MusicReadError
from vae.scales import KEYS, SCALES

PLAY_FIELDS = ("instrument", "tempo", "temperature", "seed", "accompaniment", "key", "scale", "count_in", "chords")
MAX_CHORD_CHARS = 400  # a typed progression: a few dozen chords
KEY_AS_IS, SCALE_OFF = "As decoded", "Off"  # the key and scale menus' first entries
KEY_MENU = (KEY_AS_IS, *KEYS)
SCALE_MENU = (SCALE_OFF, *SCALES)


def fresh_seed() -> int:
    """A new random seed for Random / Similar / Draw (each press gives a new melody)."""
    return int(np.random.default_rng().integers(0, 2**31 - 1))


class CheckedNumber(gr.Number):
    """A gr.Number whose bad values (text, NaN, inf, out of range, a fraction for a whole number) are refused
    before the function runs with a sentence naming the parameter and its range, not Gradio's internal text."""

    limit: str = ""
    integer: bool = False

    @classmethod
    def get_block_name(cls) -> str:
        return "number"  # the browser draws it as a plain number box

    def preprocess(self, payload):
        try:
            return number(self.limit, payload, self.integer)
        except UserError as exc:
            raise rejected(str(exc), f"input {self.limit}") from None


class CheckedSlider(gr.Slider):
    """A gr.Slider whose bad values (None, text, NaN, inf, out of its range: a script can send a page event
    anything) are refused before the function runs, with a sentence naming the slider and its range."""

    @classmethod
    def get_block_name(cls) -> str:
        return "slider"  # the browser draws it as a plain slider

    def preprocess(self, payload):
        name = str(self.label or "a slider").split(" (")[0]
        try:
            v = float(payload)
        except (TypeError, ValueError, OverflowError):
            v = math.nan
        if not math.isfinite(v) or not self.minimum <= v <= self.maximum:
            raise rejected(f"{name} must be a number from {self.minimum:g} to {self.maximum:g}, "
                           f"not {str(payload)[:40]}.", f"slider {name}") from None
        return super().preprocess(v)


class _CheckedFileModel:
    """A gr.File's data model whose validation failure is a sentence, not pydantic's "1 validation error for
    FileData" (or an echo of a whole 8 MB data: URL); everything else is the model's own."""

    def __init__(self, model, label: str):
        self._model, self._label = model, label

    def model_validate(self, obj, *args, **kwargs):
        from pydantic import ValidationError

        try:
            return self._model.model_validate(obj, *args, **kwargs)
        except (ValidationError, ValueError, TypeError):
            raise rejected(f"{self._label} must be a file: upload it (gradio_client: handle_file(path)).",
                           f"file {self._label}") from None

    def __getattr__(self, name):
        return getattr(self._model, name)


def checked_file(**kwargs) -> gr.File:
    """A gr.File whose bad values (a string, a dict that is not a file, a data: URL that is not one) are refused
    with a sentence naming the input before the function runs. (A subclass overriding __init__ would hide its
    arguments from Gradio, which reads the page's settings off the constructor's signature.)"""
    box = gr.File(**kwargs)
    box.data_model = _CheckedFileModel(box.data_model, str(box.label or "The file").split(" (")[0])
    return box


def checked_number(limit: str, value, label: str, integer: bool = False, **kwargs) -> CheckedNumber:
    """A number box checked against explorer.session.validate.LIMITS[limit] before any function sees its value."""
    box = CheckedNumber(value, label=label, precision=0 if integer else None, **kwargs)
    box.limit, box.integer = limit, integer
    return box


def plot(spec: dict | None) -> PlotData | None:
    """A figure spec (explorer.media.figures) as gr.Plot's payload, skipping plotly's slow validation."""
    return None if spec is None else PlotData(type="plotly", plot=figures.to_json(spec))


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md_escape(text: str) -> str:
    """Text shown literally inside Markdown (titles come from file and track names: no links, no HTML)."""
    return MD_SPECIAL.sub(r"\\\1", str(text))


LOG = logging.getLogger("melody_explorer")
LOG_CHARS = 200  # a rejected request logs one line, its message cut to this
REFUSAL_TITLE = "Not possible"  # the notice that shows a refused input's sentence
REFUSAL_SECONDS = 15  # long enough to read a sentence; the notice can be closed sooner


def rejected(message: str, where: str) -> gr.Error:
    """The error a user sees for a refused request, logged as one line (no traceback: it is not a bug)."""
    LOG.info("rejected %s: %s", where, message[:LOG_CHARS].replace("\n", " "))
    return gr.Error(message, print_exception=False)


def show_refusal(message: str, where: str) -> None:
    """A refused input's sentence in the page's notice (in an event that runs through the queue), logged as one line."""
    LOG.info("rejected %s: %s", where, message[:LOG_CHARS].replace("\n", " "))
    gr.Warning(message, duration=REFUSAL_SECONDS, title=REFUSAL_TITLE)


def user_errors(fn):
    """For the page's events: a user's mistake (UserError, or a file we cannot read) is shown as its one
    sentence in a notice, logged as one line, and every output is left as it was (gr.skip), so no component
    is covered by an "Error" badge and the page stays usable. Anything else is a bug and propagates unchanged
    (Gradio logs its traceback and shows a generic error)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (UserError, MusicReadError) as exc:
            show_refusal(str(exc), fn.__name__)
            return gr.skip()  # one skip leaves every output of the event unchanged

    return wrapper


def api_errors(fn):
    """For the public API's endpoints: a user's mistake becomes gr.Error with its sentence (a script must see the
    call fail), logged as one line; anything else is a bug and propagates unchanged."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (UserError, MusicReadError) as exc:
            raise rejected(str(exc), fn.__name__) from exc

    return wrapper


def menu_update(st: Session):
    """The history menu's choices (newest first) with the current entry selected."""
    choices = [(e.label, e.id) for e in reversed(st.history)]
    return gr.update(choices=choices, value=st.cursor if st.history else None)


@dataclass
class Panel:
    """The current-melody panel's outputs (explorer.ui.page lays them out); Page.show fills them by name."""

    title: gr.Markdown
    roll: gr.Plot  # the piano roll
    audio: gr.Audio
    files: gr.File  # the MIDI and WAV downloads
    originality: gr.Markdown  # the copy check
    share: gr.Textbox  # the share code (the page URL carries it)
    map_pos: gr.Textbox  # hidden: the melody's star on the map follows it
    menu: gr.Dropdown  # the history menu


@dataclass
class Page:
    """The shared parts of the page. Event functions take their inputs as one dict keyed by component
    (Gradio does that when `inputs` is a set), so playback settings are read by name; they return their outputs
    as a dict keyed by component too (Gradio leaves an output missing from it as it was)."""

    h: Handlers
    state: gr.State
    play: dict  # PLAY_FIELDS name -> component
    panel: Panel  # the current-melody panel's outputs besides the state
    sliders: list = field(default_factory=list)
    loop: gr.Checkbox | None = None  # loop playback of every player on the page (no render needed)
    uploads: UploadCache | None = None  # the uploads in the Gradio cache: removed once read
    drags: Drags | None = None  # slider drags heard as they move (explorer.serve.drag)
    # the lock checkboxes (explorer.ui.regenerate_panel): one per bar, then the rhythm's and the pitches'; every event
    # reads them into the session, as Loop, so history entries and share links carry them
    locks: list = field(default_factory=list)

    def inputs(self, *extra) -> set:
        """The state, the playback inputs (and Loop) and `extra` components, as a set (one dict argument)."""
        return {self.state, *self.play.values(), *([self.loop] if self.loop is not None else []), *self.locks, *extra}

    def playback(self, data: dict) -> Playback:
        """The playback settings of a request, each checked (a hidden endpoint can be sent anything)."""
        v = {name: data[c] for name, c in self.play.items()}
        for name, menu in (("instrument", INSTRUMENTS), ("accompaniment", ACCOMPANIMENTS), ("key", KEY_MENU),
                           ("scale", SCALE_MENU)):
            if v[name] not in menu:
                raise UserError(f"{name} must be one of {', '.join(menu)}, not {str(v[name])[:40]!r}.")
        chords = v.get("chords") or ""
        if not isinstance(chords, str) or len(chords) > MAX_CHORD_CHARS:
            raise UserError(f"Your chords must be a line of at most {MAX_CHORD_CHARS} characters, like 'Am F C G'.")
        if chords.strip():
            parse_progression(chords)  # a bad line gets its sentence here, before any render
        return Playback(v["instrument"], number("tempo", v["tempo"]), number("temperature", v["temperature"]),
                        number("seed", v["seed"], integer=True), v["accompaniment"],
                        count_in=bool(v["count_in"]), key=None if v["key"] == KEY_AS_IS else v["key"],
                        scale=None if v["scale"] == SCALE_OFF else v["scale"], progression=chords)

    def session(self, data: dict) -> Session:
        """The request's session, with the Loop checkbox as the page shows it (the share link carries it)."""
        st = data[self.state]
        if self.loop is not None and self.loop in data and st.loop != bool(data[self.loop]):
            st = st.but(loop=bool(data[self.loop]))
        if self.locks and all(box in data for box in self.locks):
            *bars, rhythm, pitches = (bool(data[box]) for box in self.locks)
            st = history.set_locks(st, Locks(tuple(b for b, on in enumerate(bars) if on), rhythm, pitches))
        return st

    def lock_values(self, st: Session) -> dict:
        """The lock checkboxes' values for the session's locks (after undo, or a share link opened), keyed by box."""
        if not self.locks:
            return {}
        *bars, rhythm, pitches = self.locks
        return {**{box: b in st.locks.bars for b, box in enumerate(bars)}, rhythm: st.locks.rhythm,
                pitches: st.locks.pitches}

    @property
    def main_out(self) -> list:
        """The state and the current-melody panel's outputs: what every event that shows a melody updates."""
        return [self.state, *(getattr(self.panel, f.name) for f in fields(self.panel))]

    @property
    def main_and_sliders(self) -> list:
        return self.main_out + self.sliders

    def show(self, st: Session, r: Rendered, with_sliders: bool = True) -> dict:
        """main_out's values (and the sliders') after a render, keyed by component: st as the action left it, its
        melody already in its history (explorer.session.history.reached: the actions record what they show, not
        the page)."""
        out = {**self.show_finish(st, r), self.panel.roll: plot(r.figure), self.panel.audio: r.wav_path}
        return {**out, **dict(zip(self.sliders, r.sliders, strict=True))} if with_sliders else out

    def show_preview(self, st: Session, r: Rendered) -> dict:
        """main_out while a slider is dragged: only the piano roll and the audio change (fewer outputs, less
        work in the browser per update); `show_finish` brings the rest when the slider is let go."""
        return {self.state: st, self.panel.roll: plot(r.figure), self.panel.audio: r.wav_path}

    def show_finish(self, st: Session, r: Rendered) -> dict:
        """main_out after the release of a drag whose melody is already playing (Handlers.release: st recorded,
        r finished): everything but the piano roll and the audio."""
        p = self.panel
        return {self.state: st, p.title: self.title_line(r), p.files: [r.midi_path, r.wav_path],
                p.originality: r.originality_md, p.share: r.share_code,
                p.map_pos: f"{r.map_xy[0]:.4f},{r.map_xy[1]:.4f}", p.menu: menu_update(st)}

    @staticmethod
    def title_line(r: Rendered) -> str:
        """The panel's title of a render: the melody's title, its key, and its chords (with how typed ones fit)."""
        return (f"**{md_escape(r.title)}**" + (f" · key: {r.key}" if r.key else "")
                + (f" · chords: {md_escape(r.chord_line)}" if r.chord_line else "")
                + (f" · {md_escape(r.chord_note)}" if r.chord_note and r.chord_line else ""))

    def loop_players(self, *players: gr.Audio) -> None:
        """The Loop checkbox sets `loop` on these players (two or more: an answer keyed by one component would be
        read as that component's value) at once (in the browser, no render)."""
        if self.loop is not None:
            self.loop.change(lambda on: {p: gr.update(loop=bool(on)) for p in players}, self.loop, list(players),
                             api_visibility="private", queue=False, show_progress="hidden")

    def need_melody(self, st: Session) -> None:
        if st.z is None:
            raise UserError("Load or create a melody first.")
