"""A hosted demo's collections: each visitor's lives in their session only, bounded, never on disk, gone with it."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import live_explorer

from explorer.errors import UserError
from explorer.media.files import Playback
from explorer.session.collections import HOSTED_LIMITS
from explorer.session.state import new_state
from vae.corpus import music21_jobs

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
NAME = "My reels"


@pytest.fixture(scope="module")
def tunes(tmp_path_factory) -> list[Path]:
    """Six Ryan's Mammoth tunes as ABC files, which the tests' tiny corpus does not hold."""
    out = tmp_path_factory.mktemp("hosted_files")
    return [Path(shutil.copy(j.path, out)) for j in music21_jobs(("ryans",))[40:46]]


@pytest.fixture
def hosted(tiny_services, tmp_path, monkeypatch):
    """Handlers as a hosted page sets them up, with the session each call serves chosen by the test (`who[0]`)."""
    from explorer.session.handlers import Handlers

    monkeypatch.setenv("MELODY_COLLECTIONS", str(tmp_path / "collections"))
    h = Handlers(tiny_services, out_dir=tmp_path / "renders")
    h.collections_root = tmp_path / "collections"
    h.add_collections = False
    who = ["A"]
    h.session_key = lambda: who[0]
    return h, who


def _collection_rows(space, name: str) -> np.ndarray:
    of = np.array([t.get("collection") == name for t in space.corpus.tunes], bool)
    return np.nonzero(of[space.corpus.tune])[0]


def _map_names(h) -> set:
    return {t.get("name") for t in h.map_figure("collection")["data"]}


def test_a_visitors_collection_is_theirs_alone_and_never_on_disk(hosted, tunes, tiny_services, tmp_path):
    h, who = hosted
    who[0] = "B"
    before_b = _map_names(h)  # B's map drawn (and cached) before A adds
    who[0] = "A"
    coll, report = h.add_collection(NAME, [str(p) for p in tunes[:3]])
    assert coll is not None and coll.unsaved and all(f.added for f in report), [f.sentence() for f in report]
    a_space = h.s
    rows = _collection_rows(a_space, NAME)
    assert len(rows) == coll.windows > 0
    row = int(rows[len(rows) // 2])
    z, tokens = a_space.index.mu[row], a_space.corpus.tokens[row]
    # A: on the map, in the styles, the neighbours, the copy check, Random from my collection, the summary
    assert NAME in h.s.style_names and NAME in _map_names(h) and NAME in h.collections_summary()
    assert any(n["collection"] == NAME for n in h.s.neighbours(z, 5))
    assert h.s.originality(tokens)["likely_copy"] and h.s.originality(tokens)["collection"] == NAME
    st, r = h.random_from_collection(new_state(), Playback(), NAME, 3)
    assert st.title == f"Random from {NAME} (seed 3)" and len(r.tokens) == h.s.format.window_steps
    # B (another session) and the HTTP API (no session): none of it
    for key in ("B", None):
        who[0] = key
        assert h.s is tiny_services and NAME not in h.s.style_names and NAME not in h.collections_summary()
        assert _map_names(h) == before_b and NAME not in _map_names(h)
        assert all(n["collection"] != NAME for n in h.s.neighbours(z, 20))
        assert h.s.originality(tokens)["collection"] != NAME
        with pytest.raises(UserError, match="Add a collection first"):
            h.random_from_collection(new_state(), Playback(), NAME, 3)
    # nothing was written: no collections folder, and the files it was read from are where they were
    assert not (tmp_path / "collections").exists()
    assert not any(tmp_path.rglob("*.npz")) and not any(tmp_path.rglob("collection.json"))
    assert tiny_services.collections == () and NAME not in tiny_services.style_names
    # A adds more to it (its own session's collection grows; B still sees nothing)
    who[0] = "A"
    coll2, _ = h.add_collection(NAME, [str(tunes[3]), str(tunes[0])])
    assert coll2.windows > coll.windows and len(_collection_rows(h.s, NAME)) == coll2.windows
    assert [f.added for f in coll2.files].count(False) == 1  # tunes[0] was in it already
    assert h.held_sessions() == ["A"]
    # the session ends (the server no longer holds it): the collection goes with it
    assert h.forget_sessions(alive={"B"}) == 1 and h.held_sessions() == []
    assert h.s is tiny_services and NAME not in h.s.style_names


def test_the_limits_are_stated_and_each_is_refused_with_one_sentence(hosted, tunes, tmp_path):
    h, who = hosted
    text = h.limits_text()
    lim = HOSTED_LIMITS
    for part in (f"{lim.max_files} files", f"{lim.max_bytes // 2**20} MB", f"{lim.max_windows:,} four-bar windows",
                 f"{lim.minutes} minutes", "this page only", f"{lim.idle_minutes:g} minutes"):
        assert part in text, part

    def refused(match: str, *args) -> str:
        with pytest.raises(UserError, match=match) as exc:
            h.add_collection(*args)
        sentence = str(exc.value)
        assert sentence.endswith(".") and "\n" not in sentence
        return sentence

    paths = [str(p) for p in tunes]
    h.hosted_limits = replace(lim, max_files=3)
    assert "these are 4" in refused("at most 3 files", NAME, paths[:4])
    big = tmp_path / "big.mid"
    big.write_bytes(b"\0" * (2 * 2**20))
    h.hosted_limits = replace(lim, max_bytes=2**20)
    refused("at most 1 MB", NAME, [str(big)])
    # the windows: a first add fits, a second would pass the bound and is refused whole; the first is kept
    h.hosted_limits = lim
    first, _ = h.add_collection(NAME, paths[:1])
    h.hosted_limits = replace(lim, max_windows=first.windows + 1)
    refused(f"at most {first.windows + 1:,} four-bar windows", NAME, paths[1:3])
    assert len(_collection_rows(h.s, NAME)) == first.windows
    refused("holds one collection", "Another name", paths[3:4])
    # no session (a plain API call), and more visitors than the server holds collections for
    who[0] = None
    refused("add it on the page", NAME, paths[3:4])
    who[0] = "B"
    h.hosted_limits = replace(lim, max_sessions=1)
    refused("1 visitor at once", NAME, paths[3:4])
    assert h.held_sessions() == ["A"] and not (tmp_path / "collections").exists()


def test_the_sweeper_forgets_the_collections_of_sessions_the_server_dropped():
    from explorer.ui.sessions import SessionLimits, start_sweeper

    heard = threading.Event()
    seen: list[set] = []

    def forget(alive):
        seen.append(alive)
        heard.set()

    holder = SimpleNamespace(lock=threading.Lock(), session_data={"tab": object()}, time_last_used={})
    stop = start_sweeper(SimpleNamespace(state_holder=holder, forget_sessions=forget),
                         SessionLimits(sweep_every_s=0.01))
    try:
        assert heard.wait(60)
    finally:
        stop.set()
    assert seen[0] == {"tab"}
    assert HOSTED_LIMITS.idle_minutes * 60 == SessionLimits().page_ttl_s  # what the page says is what happens


# --- a hosted server: two visitors' sessions over HTTP ------------------------------------------------------------
@pytest.fixture(scope="module")
def hosted_server(tiny_services, tmp_path_factory):
    """The real app as a hosted page serves it (no collections saved to disk), on a free loopback port
    (conftest.live_explorer); `tmp` holds its Gradio cache and the collections folder it must never write."""
    from explorer.session.handlers import Handlers

    tmp = tmp_path_factory.mktemp("hosted_server")
    h = Handlers(tiny_services, out_dir=tmp / "gradio" / "renders")
    h.collections_root = tmp / "collections"
    with live_explorer(tiny_services, tmp / "gradio", handlers=h, env={"MELODY_COLLECTIONS": str(tmp / "collections")},
                       add_collections=False) as server:
        yield SimpleNamespace(url=server.url, demo=server.demo, h=h, tmp=tmp)


def _upload(url: str, paths: list[Path]) -> list[dict]:
    import httpx

    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    got = httpx.post(f"{url}gradio_api/upload", files=files, timeout=60).json()
    return [{"path": g, "orig_name": p.name, "meta": {"_type": "gradio.FileData"}} for g, p in zip(got, paths,
                                                                                                   strict=True)]


def test_two_visitors_on_a_hosted_server(hosted_server, tunes):
    import gradio as gr
    from test_hostile_api import queue_call

    demo, url, h = hosted_server.demo, hosted_server.url, hosted_server.h
    fns = {d.api_name: (i, d) for i, d in demo.fns.items()}

    def call(api_name: str, session: str, **by_elem) -> tuple[str, str]:
        i, dep = fns[api_name]
        data = [None if isinstance(c, gr.State) else by_elem.get(getattr(c, "elem_id", None), c.value)
                for c in dep.inputs]
        return queue_call(url, i, data, session)

    add = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "collection-add")
    limits = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "collection-limits")
    assert add.interactive is not False and "this page only" in limits.value
    kind, out = call("add_collection", "tab-a", **{"collection-files": _upload(url, tunes[:3]),
                                                    "collection-name": NAME})
    assert kind == "ok" and f"**{NAME}**: 3 of 3 file(s) added" in out and "this page only" in out, out
    assert h.held_sessions() == ["tab-a"]
    kind, out = call("random_from_collection", "tab-a", **{"collection-draw-from": NAME})
    assert kind == "ok" and f"Random from {NAME}" in out, out
    kind, out = call("random_from_collection", "tab-b", **{"collection-draw-from": NAME})
    assert f"Random from {NAME}" not in out  # refused: B's own menu offers no such collection, nor its map
    assert kind == "error" and "choices: []" in out, out
    assert NAME not in h.s.style_names  # outside any session: the shared map
    assert not (hosted_server.tmp / "collections").exists()
    assert not any(p.name == "collection.json" for p in hosted_server.tmp.rglob("*"))
    # the server forgets the session (swept): its collection goes with it
    with demo.state_holder.lock:
        demo.state_holder.session_data.pop("tab-a", None)
    assert demo.forget_sessions(set(demo.state_holder.session_data)) == 1 and h.held_sessions() == []
    assert json.dumps(h.collections_summary()).count(NAME) == 0
