"""Bound what Gradio keeps per session: how many sessions, and for how long after their last request.

Gradio keeps a SessionState for every session hash it sees (a copy of the page's config, ~365 kB here, plus the
session's gr.State values) and drops none until 10,000 are held (~3.6 GB). A raw `/gradio_api/call/*` request
without a session hash is a new session, so a script could grow the server's memory without end. The sweeper
removes sessions idle past a time-to-live, sooner for sessions that never held the page's state (API calls),
and `launch` caps how many are held at once. What the app holds for a session beside Gradio's state (a hosted
visitor's collection: explorer.session.collections) goes with it, through `demo.forget_sessions`.

Gradio also keeps, beside each session's state, bookkeeping it never drops: an empty set of pending event ids and
a message queue per session hash ever seen (the queues up to 2,000), and the path of every file an event served
(`Blocks.temp_file_sets`) after the file is gone. Under scripts' calls each costs ~0.5-2 kB a call without end,
and Gradio's `/gradio_api/call/NAME/EVENT` scans the ids' dict on every call, so calls also slowed with uptime.
`tidy_queue` (in the server's event loop, where Gradio changes those dicts: the QueueTidy middleware) and
`forget_gone_files` (in the sweeper) drop what belongs to no session held and no file on disk.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOG = logging.getLogger("melody_explorer")


@dataclass(frozen=True)
class SessionLimits:
    """How long and how many: a page left open keeps its melody for `page_ttl_s` after its last event."""

    page_ttl_s: float = 3600.0  # a browser tab's session (it holds the melody, history, uploads)
    api_ttl_s: float = 10.0  # a session that never held the page's state: a script's call, answered in well under this
    max_sessions: int = 512  # sessions held at once (~190 MB); the least recently used goes first beyond this
    sweep_every_s: float = 5.0  # also how often Gradio's queue bookkeeping is tidied (tidy_queue)


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
                forget_gone_files(demo)
                if also is not None:
                    also()
            except Exception:  # a sweep must never stop the sweeper
                LOG.exception("session sweep failed")

    threading.Thread(target=loop, name="session-sweeper", daemon=True).start()
    return stop


def tidy_queue(queue, held: set[str]) -> int:
    """Drop Gradio's queue bookkeeping of sessions not in `held` (the sessions Gradio's StateHolder keeps): a
    session's set of pending event ids once it is empty (every result delivered) or once its message queue is
    gone (Gradio's LRU dropped it: nothing can be delivered), and a message queue that is empty with no event
    pending. Must run in the server's event loop (Gradio changes these dicts there, without a lock between its
    checks and its writes). Returns how many entries went."""
    ids, messages = queue.pending_event_ids_session, queue.pending_messages_per_session
    gone = 0
    for sid, pending in list(ids.items()):
        if sid not in held and (not pending or sid not in messages):
            del ids[sid]
            gone += 1
    for sid, box in list(messages.items()):
        if sid not in held and sid not in ids and box.empty():
            del messages[sid]
            gone += 1
    return gone


class QueueTidy:
    """ASGI middleware: at most every `every_s` seconds, before passing a request on, runs tidy_queue for `demo`
    (in the event loop, so between Gradio's own steps)."""

    def __init__(self, app, demo, every_s: float):
        self.app, self.demo, self.every_s = app, demo, every_s
        self.next_at = 0.0
        self.removed = 0

    async def __call__(self, scope, receive, send):
        now = time.monotonic()
        if now >= self.next_at:
            self.next_at = now + self.every_s
            try:
                self.removed += tidy_queue(self.demo._queue, set(self.demo.state_holder.session_data))
            except Exception:  # tidying must never cost a request
                LOG.exception("tidying Gradio's queue failed")
        await self.app(scope, receive, send)


def add_queue_tidy(demo, limits: SessionLimits) -> None:
    """Put QueueTidy in front of `demo`'s (launched) app."""
    from starlette.middleware import Middleware

    demo.app.user_middleware.insert(0, Middleware(QueueTidy, demo=demo, every_s=limits.sweep_every_s))
    demo.app.middleware_stack = None  # rebuilt with it on the next request


def forget_gone_files(blocks) -> int:
    """Drop from Gradio's per-component sets of served files (`temp_file_sets`) the paths no longer on disk (the
    render store and the upload sweep removed them); returns how many. Safe beside the server's threads: a
    snapshot of each set is read, and a set's discard is one step under the GIL."""
    gone = 0
    for files in list(blocks.temp_file_sets):
        for path in list(files):
            if not os.path.exists(path):
                files.discard(path)
                gone += 1
    return gone
