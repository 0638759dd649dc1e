"""A slider drag heard as it moves: the melodies a drag passes through, rendered outside Gradio's event path.

Whenever the Sliders screen shows a new melody (and when a slider is pressed without one), the page asks the
app (one Gradio event) to `open` a drag: the session and the playback settings of that moment are kept under
a random token, so the first movement of the next press is rendered at once. While the slider moves, the page's script
sends the slider values with the token to a plain HTTP route (explorer.serve.routes: /v1/drag), which `preview`s
them: the piano roll's figure and the audio, drawn and played by the page itself. Letting go presses Render,
which goes through Gradio as every other change does; when its values are the last preview's (or the one
rendering), `take` hands over that preview (its tokens and audio file), so the release completes the panel
without decoding or synthesising again.

Why not Gradio's own events: each of them costs the page's main thread more than the melody costs the server
(it gathers every input, tracks progress, updates components), and one waits for the other to finish. The
page's own requests are sent while the last answer is still being drawn (bench/browser-levers.md).

A token is unguessable (128 random bits) and is the only key to its drag: the route needs no login of its
own, and a drag sees only the session it was opened from. Drags are few and short-lived: the oldest are
dropped beyond MAX_DRAGS, and any older than TTL_S (the page opens another when told one is gone).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from explorer.errors import UserError
from explorer.media.audio import mp3_bytes, read_wav
from explorer.session.slider_move import SLIDER_RANGE

if TYPE_CHECKING:
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.melody import Rendered
    from explorer.session.state import Session

MAX_DRAGS = 256  # drags kept at once (a drag is a session reference and its last preview: small)
TTL_S = 15 * 60  # a drag older than this is gone (the page opens one for every melody it shows)
WAIT_S = 2.0  # a release waits at most this long for the previews asked for (then renders its own)
# A preview's sound as the page asks for it: MP3 (a fifth of the WAV's bytes, ~10 ms to encode) over a slow link,
# where the WAV's bytes would cap a drag near 5 melodies a second at 20 Mbit/s; the WAV itself over a fast one,
# where encoding and decoding cost more than the bytes (bench/browser-levers.md). "mp3" or "wav" here forces one
# (bench.browser_levers). The file kept for the release is the WAV either way.
DRAG_AUDIO, DRAG_KBPS = "auto", 64
SOUNDS = ("mp3", "wav")


@dataclass
class Drag:
    """One drag: the session and playback it started from, and the last preview it rendered."""

    state: Session
    play: Playback
    opened: float
    values: np.ndarray | None = None  # the slider values of the last preview
    after: Session | None = None  # the session that preview leads to (its `preview` set: Handlers.finish)
    rendered: Rendered | None = None
    # previews asked for and not rendered yet: a release waits for them (the last may be of its own values);
    # `changed` guards the fields above and is held only briefly (the route takes it in the server's event loop)
    pending: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    rendering: threading.Lock = field(default_factory=threading.Lock)  # one preview renders at a time


def _equal(a, b) -> bool:
    return (a is None) == (b is None) and (a is None or np.array_equal(a, b))


def same_melody(a: Session, b: Session) -> bool:
    """Whether two sessions hold the same melody to move (what a slider move starts from)."""
    return (a.meter == b.meter and _equal(a.z, b.z) and _equal(a.sliders, b.sliders) and _equal(a.detail, b.detail)
            and _equal(a.origin_tokens, b.origin_tokens))


class Drags:
    """The open drags of every session, by token (thread-safe: the route and Gradio's workers share it)."""

    def __init__(self, move: Callable[[Session, list[float], Playback], tuple[Session, Rendered]], sliders: int,
                 slider_range: float = SLIDER_RANGE, max_drags: int = MAX_DRAGS, ttl_s: float = TTL_S,
                 wait_s: float = WAIT_S, clock: Callable[[], float] = time.monotonic):
        """move(session, slider values, playback) -> (session, preview render): a slider move rendered as a
        preview (Handlers.set_sliders with preview=True); `sliders` values are sent per preview, each within
        +-slider_range. wait_s: how long a release waits for the previews asked for; clock() -> seconds, for the
        drags' age (a test's own clock ages them without sleeping)."""
        self.move, self.sliders, self.slider_range = move, sliders, slider_range
        self.max_drags, self.ttl_s, self.wait_s, self.clock = max_drags, ttl_s, wait_s, clock
        self._drags: OrderedDict[str, Drag] = OrderedDict()
        self._lock = threading.Lock()
        self.audio, self.kbps = DRAG_AUDIO, DRAG_KBPS  # "auto" (as the page asks), "mp3" or "wav"

    def __len__(self) -> int:
        return len(self._drags)

    def open(self, state: Session, play: Playback) -> str:
        """Start a drag from this session and playback -> its token."""
        token = secrets.token_urlsafe(16)
        now = self.clock()
        with self._lock:
            self._drags[token] = Drag(state, play, now)
            while len(self._drags) > self.max_drags or (
                    self._drags and now - next(iter(self._drags.values())).opened > self.ttl_s):
                self._drags.popitem(last=False)
        return token

    def _get(self, token) -> Drag:
        with self._lock:
            drag = self._drags.get(token) if isinstance(token, str) else None
        if drag is None or self.clock() - drag.opened > self.ttl_s:
            raise KeyError(token)
        return drag

    def preview(self, token: str, values) -> Rendered:
        """The melody at these slider values in the drag's session (piano roll figure and audio file).

        KeyError: no such drag (never opened, expired, or dropped); UserError: values that are not one finite
        number within the sliders' range per slider."""
        return self.render(self.begin(token), values)

    def begin(self, token) -> Drag:
        """Announce a preview of this drag (as soon as it is asked for: a release then waits for it) -> the drag,
        for `render`. KeyError: no such drag."""
        drag = self._get(token)
        with drag.changed:
            drag.pending += 1
        return drag

    def render(self, drag: Drag, values) -> Rendered:
        """Render a preview announced by `begin` (one at a time per drag: a page sends one after the other)."""
        try:
            values = self.check(values)
            with drag.rendering:
                after, r = self.move(drag.state, values.tolist(), drag.play)
                with drag.changed:
                    drag.values, drag.after, drag.rendered = values, after, r
            return r
        finally:
            with drag.changed:
                drag.pending -= 1
                drag.changed.notify_all()

    def sound(self, r: Rendered, asked: object = None) -> tuple[bytes, str, float]:
        """A preview's audio as the page gets it (`asked`: "mp3" or "wav", MP3 when it says neither) -> (bytes,
        MIME type, seconds)."""
        wav = Path(r.wav_path).read_bytes()  # read once: sent as it is, or encoded
        audio, rate = read_wav(wav)
        seconds = len(audio) / rate
        kind = self.audio if self.audio in SOUNDS else asked if asked in SOUNDS else "mp3"
        if kind == "mp3":
            return mp3_bytes(audio, rate, self.kbps), "audio/mpeg", seconds
        return wav, "audio/wav", seconds

    def _opened_from(self, token, state: Session) -> Drag | None:
        try:
            drag = self._get(token)
        except KeyError:
            return None
        return drag if same_melody(drag.state, state) else None

    def moved(self, token, state: Session) -> bool:
        """Whether the drag was opened from this session's melody and has rendered a preview (the page has shown
        a melody other than the session's, unless the drag ended where it began)."""
        drag = self._opened_from(token, state)
        return drag is not None and drag.values is not None

    def take(self, token, state: Session, values, play: Playback) -> tuple[Session, Rendered] | None:
        """The drag's last preview, when it is of these slider values and playback and was opened from this
        session's melody (a release through Gradio): (its session, its render); else None (render afresh)."""
        drag = self._opened_from(token, state)
        if drag is None or drag.play != play:
            return None
        with drag.changed:
            if not drag.changed.wait_for(lambda: drag.pending == 0, timeout=self.wait_s) or drag.values is None:
                return None
            if not np.allclose(drag.values, np.asarray(values, np.float32), atol=1e-3, rtol=0):
                return None
            return drag.after, drag.rendered

    def check(self, values) -> np.ndarray:
        """Slider values as sent by a page: one finite number per slider, each within the sliders' range."""
        k, limit = self.sliders, self.slider_range
        try:
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            v = np.full(0, np.nan)
        if v.shape != (k,) or not np.isfinite(v).all() or (np.abs(v) > limit).any():
            raise UserError(f"sliders must be a list of {k} numbers, each from {-limit:g} to {limit:g}.")
        return v.astype(np.float32)


def drags_for(h: Handlers) -> Drags:
    """The drags of an app's handlers: their slider move as a preview, over their sliders."""
    return Drags(partial(h.set_sliders, preview=True), h.slider_count)
