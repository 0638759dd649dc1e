"""Gradio sessions are bounded: a script's calls do not pile up sessions, and an idle page's session expires."""

from __future__ import annotations

import datetime
import json
import urllib.request

import pytest

from explorer.ui.sessions import SessionLimits, sweep

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


def raw_call(url: str, name: str, data: list, session: str | None = None) -> str:
    """POST /gradio_api/call/NAME (a new session when none is given, as curl users do) and read its result."""
    body = {"data": data, **({"session_hash": session} if session else {})}
    req = urllib.request.Request(f"{url}gradio_api/call/{name}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{name}/{event}", timeout=60) as r:
        return r.read().decode()


def test_script_sessions_are_swept_and_a_page_session_outlives_them(explorer_server):
    from test_hostile_api import queue_call

    demo, url = explorer_server.demo, explorer_server.url
    holder = demo.state_holder
    assert holder.capacity == demo.session_limits.max_sessions < 10_000  # Gradio's default held 10,000
    z = json.dumps({"z": [0.0] * explorer_server.services.latent_dim})
    before = set(holder.session_data)
    for _ in range(6):
        assert "complete" in raw_call(url, "decode", [z, 0.0, 0, 120, 0])
    scripts = set(holder.session_data) - before
    assert len(scripts) >= 6  # each call without a session hash was a session of its own
    # a page's session: its load event puts the melody in its gr.State
    load_index = next(i for i, d in demo.fns.items() if d.api_name == "load")
    dep = demo.fns[load_index]
    defaults = [None if c.__class__.__name__ == "State" else c.value for c in dep.inputs]
    assert queue_call(url, load_index, defaults, "page-tab")[0] == "ok"
    assert holder.session_data["page-tab"].state_data

    limits = SessionLimits(page_ttl_s=3600, api_ttl_s=60)
    later = datetime.datetime.now() + datetime.timedelta(seconds=300)
    removed = sweep(holder, limits, now=later)
    assert removed >= len(scripts)
    assert not scripts & set(holder.session_data)
    assert "page-tab" in holder.session_data  # an open tab keeps its melody for an hour
    assert sweep(holder, limits, now=later + datetime.timedelta(hours=2)) >= 1
    assert "page-tab" not in holder.session_data


def test_an_api_upload_leaves_nothing_in_the_cache(explorer_server, small_corpus, tmp_path):
    """200 uploads of a 5 MB file through /encode added 1 GB to Gradio's cache: a file read is removed at once."""
    from conftest import busy_train_window, window_midi
    from gradio_client import Client, handle_file

    path = window_midi(small_corpus, busy_train_window(small_corpus), tmp_path / "cache probe.mid")
    cache = explorer_server.demo.uploads
    client = Client(explorer_server.url, download_files=False, verbose=False)
    for _ in range(3):
        assert client.predict(handle_file(str(path)), api_name="/encode")["candidate"]
    left = [f for f in cache.root.rglob("*.mid") if cache.exclude not in f.parents]
    assert not left, left


def test_gradios_queue_bookkeeping_goes_with_the_script_sessions(explorer_server):
    """Gradio kept an empty set of event ids and a message queue for every session hash it saw (~2 kB a call,
    without end): once the sessions are swept, the next requests in the event loop drop them; a page's stays."""
    import time as clock

    from test_hostile_api import queue_call

    from explorer.ui.sessions import QueueTidy

    demo, url = explorer_server.demo, explorer_server.url
    queue, holder = demo._queue, demo.state_holder
    assert any(m.cls is QueueTidy for m in demo.app.user_middleware)
    z = json.dumps({"z": [0.0] * explorer_server.services.latent_dim})
    before = set(queue.pending_event_ids_session)
    for _ in range(5):
        assert "complete" in raw_call(url, "decode", [z, 0.0, 0, 120, 0])
    scripts = set(queue.pending_event_ids_session) - before
    assert len(scripts) >= 5 and not any(queue.pending_event_ids_session[s] for s in scripts)
    assert scripts <= set(queue.pending_messages_per_session)
    load_index = next(i for i, d in demo.fns.items() if d.api_name == "load")
    dep = demo.fns[load_index]
    defaults = [None if c.__class__.__name__ == "State" else c.value for c in dep.inputs]
    assert queue_call(url, load_index, defaults, "tidy-tab")[0] == "ok"
    held_page = "tidy-tab" in queue.pending_event_ids_session or "tidy-tab" in queue.pending_messages_per_session

    sweep(holder, SessionLimits(page_ttl_s=3600, api_ttl_s=60),
          now=datetime.datetime.now() + datetime.timedelta(seconds=300))
    assert not scripts & set(holder.session_data) and "tidy-tab" in holder.session_data
    deadline = clock.monotonic() + 60  # the middleware tidies at most every sweep_every_s: ask until it has
    while scripts & (set(queue.pending_event_ids_session) | set(queue.pending_messages_per_session)):
        assert clock.monotonic() < deadline, "Gradio's bookkeeping of swept sessions was never dropped"
        urllib.request.urlopen(f"{url}v1/health", timeout=30).read()
        clock.sleep(0.2)
    if held_page:  # the page's session is still held: its bookkeeping stays
        assert "tidy-tab" in queue.pending_event_ids_session or "tidy-tab" in queue.pending_messages_per_session


def test_tidy_drops_only_what_no_held_session_can_need():
    import asyncio

    from explorer.ui.sessions import tidy_queue

    class Q:
        pass

    q = Q()
    waiting = asyncio.Queue()
    waiting.put_nowait("a result not yet read")
    q.pending_event_ids_session = {"done": set(), "held": set(), "running": {"e1"}, "orphan": {"e2"},
                                   "unread": {"e3"}}
    q.pending_messages_per_session = {"done": asyncio.Queue(), "held": asyncio.Queue(), "running": asyncio.Queue(),
                                      "unread": waiting, "stale": asyncio.Queue()}
    assert tidy_queue(q, held={"held"}) == 4
    assert set(q.pending_event_ids_session) == {"held", "running", "unread"}
    assert set(q.pending_messages_per_session) == {"held", "running", "unread"}


def test_served_files_that_are_gone_leave_gradios_sets(tmp_path):
    from types import SimpleNamespace

    from explorer.ui.sessions import forget_gone_files

    kept, gone = tmp_path / "kept.wav", tmp_path / "gone.wav"
    kept.write_bytes(b"RIFF")
    blocks = SimpleNamespace(temp_file_sets=[{str(kept), str(gone)}, {str(gone) + "2"}])
    assert forget_gone_files(blocks) == 2
    assert blocks.temp_file_sets == [{str(kept)}, set()]
