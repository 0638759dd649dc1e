"""Bound what Gradio keeps per session: how many sessions, and for how long after their last request.

Gradio keeps a SessionState for every session hash it sees (a copy of the page's config, ~365 kB here, plus the
session's gr.State values) and drops none until 10,000 are held (~3.6 GB). A raw `/gradio_api/call/*` request
without a session hash is a new session, so a script could grow the server's memory without end. The sweeper
removes sessions idle past a time-to-live, sooner for sessions that never held the page's state (API calls),
and `launch` caps how many are held at once. What the app holds for a session beside Gradio's state (a hosted
visitor's collection: explorer.session.collections) goes with it, through `demo.forget_sessions`.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

LOG = logging.getLogger("melody_explorer")


@dataclass(frozen=True)
class SessionLimits:
    """How long and how many: a page left open keeps its melody for `page_ttl_s` after its last event."""

    page_ttl_s: float = 3600.0  # a browser tab's session (it holds the melody, history, uploads)
    api_ttl_s: float = 10.0  # a session that never held the page's state: a script's call, answered in well under this
    max_sessions: int = 512  # sessions held at once (~190 MB); the least recently used goes first beyond this
    sweep_every_s: float = 5.0


def sweep(state_holder, limits: SessionLimits, now: datetime.datetime | None = None) -> int:
    """Remove the sessions idle past their time-to-live from Gradio's StateHolder; returns how many were removed."""
    now = now or datetime.datetime.now()
    removed = 0
    with state_holder.lock:
        for sid in list(state_holder.session_data):
            last = state_holder.time_last_used.get(sid)
            if last is None:
                continue
            holds_page = bool(getattr(state_holder.session_data[sid], "state_data", None))
            ttl = limits.page_ttl_s if holds_page else limits.api_ttl_s
            if (now - last).total_seconds() > ttl:
                del state_holder.session_data[sid]
                state_holder.time_last_used.pop(sid, None)
                removed += 1
    return removed


def start_sweeper(demo, limits: SessionLimits, also: Callable[[], object] | None = None) -> threading.Event:
    """Sweep `demo`'s sessions every limits.sweep_every_s in a daemon thread, calling `also` (another sweep,
    e.g. of the upload cache) each time, and `demo.forget_sessions(alive)` (when the page set one) with the sessions
    still held; set the returned event to stop it."""
    stop = threading.Event()

    def loop():
        while not stop.wait(limits.sweep_every_s):
            try:
                n = sweep(demo.state_holder, limits)
                if n:
                    LOG.info("removed %d idle session(s); %d held", n, len(demo.state_holder.session_data))
                forget = getattr(demo, "forget_sessions", None)  # what sessions held beside Gradio's state
                if forget is not None:
                    with demo.state_holder.lock:
                        alive = set(demo.state_holder.session_data)
                    forget(alive)
                if also is not None:
                    also()
            except Exception:  # a sweep must never stop the sweeper
                LOG.exception("session sweep failed")

    threading.Thread(target=loop, name="session-sweeper", daemon=True).start()
    return stop
