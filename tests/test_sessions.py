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
