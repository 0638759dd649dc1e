"""Hostile arguments to every public endpoint of the real server: each one gets a sentence naming the
parameter, never Python's or Gradio's internal text, and nothing is silently turned into a default."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

NUMBERS = [None, "", "abc", float("nan"), float("inf"), -1, 1e308, 2**63, [1, 2], {"a": 1}, "1e999", -1e-45]
INTERNAL = re.compile(r"argument of type|could not convert|recursion|probability tensor|division by zero|overflow|"
                      r"preprocess|traceback|has no attribute|unsupported operand|nonetype|invalid literal|"
                      r"list index|keyerror|typeerror|valueerror|exception", re.I)


def z_json(z) -> str:
    return json.dumps({"z": z})


def texts(zdim: int) -> list:
    return [None, "", "xxxxxxxxxx", "[" * 5000 + "]" * 5000, z_json([1] * 3), json.dumps({"sliders": "abc"}),
            z_json([1e300] * zdim), "x" * 300_000, json.dumps([[1] * zdim]), json.dumps({"z": ["a"] * zdim})]


@pytest.fixture(scope="module")
def client(explorer_server):
    from gradio_client import Client

    return Client(explorer_server.url, download_files=False, verbose=False)


def calls(zdim: int):
    good = {"/decode": [z_json([0.0] * zdim), 0.0, 0, 120, 0], "/sample": [4, 0.5, 0],
            "/similar": [z_json([0.0] * zdim), 0.8, 4, 0.5, 0], "/neighbours": [z_json([0.0] * zdim), None, 10]}
    names = {"/decode": ["text", "temperature", "seed", "tempo", "program"], "/sample": ["n", "temperature", "seed"],
             "/similar": ["text", "similarity", "n", "temperature", "seed"], "/neighbours": ["text", "path", "k"]}
    for ep, args in good.items():
        for i, name in enumerate(names[ep]):
            if name == "path":
                continue
            for v in (texts(zdim) if name == "text" else NUMBERS):
                a = list(args)
                a[i] = v
                yield ep, name, v, a


def test_every_bad_argument_gets_a_sentence_that_names_it(client, tiny_services):
    vague, accepted = [], []
    total = 0
    for ep, name, value, args in calls(tiny_services.latent_dim):
        if ep == "/neighbours" and name == "text" and value in (None, ""):
            continue  # an empty JSON with no file is its own case below
        total += 1
        try:
            client.predict(*args, api_name=ep)
            accepted.append((ep, name, repr(value)[:40]))
            continue
        except Exception as exc:  # gradio_client raises AppError with the server's message
            msg = str(exc)
        if INTERNAL.search(msg) or len(msg) > 400 or not msg.strip():
            vague.append((ep, name, repr(value)[:40], msg[:160]))
    assert total > 100
    assert not vague, vague
    assert not accepted, accepted


def test_empty_neighbours_request_says_what_to_give(client):
    with pytest.raises(Exception, match="Give"):
        client.predict("", None, 10, api_name="/neighbours")


def test_a_rejected_request_logs_one_short_line_and_no_traceback(client, tiny_services, capfd, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="melody_explorer")
    capfd.readouterr()
    bad = [(z_json([1] * 3), 0.0, 0, 120, 0), (z_json([0.0] * tiny_services.latent_dim), "abc", 0, 120, 0),
           ("x" * 300_000, 0.0, 0, 120, 0)]
    for args in bad:
        with pytest.raises(Exception):  # noqa: B017 (gradio_client's AppError)
            client.predict(*args, api_name="/decode")
    lines = [r.getMessage() for r in caplog.records if r.name == "melody_explorer"]
    assert len(lines) == len(bad) and all(len(line) < 300 for line in lines)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("name", ["/upload", "/sliders", "/playback", "/load", "/map_click", "/random", "/push"])
def test_the_pages_own_events_are_not_an_api(client, name):
    """Only the six public endpoints take calls from scripts; the page's events are private to the page."""
    with pytest.raises(Exception) as err:  # noqa: B017
        client.predict(api_name=name)
    assert not INTERNAL.search(str(err.value)) or "api_name" in str(err.value), str(err.value)[:200]


def queue_call(url: str, fn_index: int, data: list, session: str) -> tuple[str, str]:
    """What the page itself does for an event, by hand: POST /gradio_api/queue/join with the event's fn_index,
    then read the session's event stream until that event ends. Returns (final message kind, its text)."""
    import urllib.request

    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    req = urllib.request.Request(url + "gradio_api/queue/join", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}", timeout=60) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("event_id") == event and msg.get("msg") == "process_completed":
                out = msg.get("output", {})
                return ("ok" if msg.get("success") else "error"), str(out.get("error") or out)[:2000]
    return "none", ""


def test_raw_posts_to_the_pages_hidden_events_get_sentences(explorer_server):
    """A script can call the page's own events by fn_index (the browser must be able to): bad values there get a
    sentence too, never an internal message or a server error."""
    import gradio as gr

    demo = explorer_server.demo
    by_name = {d.api_name: (i, d) for i, d in demo.fns.items()}

    def defaults(dep) -> list:
        return [None if isinstance(c, gr.State) else c.value for c in dep.inputs]

    li, load = by_name["load"]
    si, sliders = by_name["sliders"]
    is_slider = [getattr(c, "elem_id", "") or "" for c in sliders.inputs]
    is_slider = [e.startswith("pc-") for e in is_slider]
    is_play = [not (isinstance(c, gr.State) or s) for c, s in zip(sliders.inputs, is_slider, strict=True)]
    assert sum(is_slider) == len(explorer_server.handlers.labels) and any(is_play)
    for k, bad in enumerate([None, "abc", 1e308, [1, 2], {"x": 1}, "1e999"]):
        session = f"probe{k}"
        assert queue_call(explorer_server.url, li, defaults(load), session)[0] == "ok"  # a melody to move
        for which in (is_slider, is_play):
            data = [bad if w else v for v, w in zip(defaults(sliders), which, strict=True)]
            kind, text = queue_call(explorer_server.url, si, data, session)
            assert kind == "error", (bad, text[:200])
            assert text.strip() and not INTERNAL.search(text) and len(text) < 400, (bad, text[:300])


def test_a_file_input_that_is_not_a_file_gets_a_sentence(explorer_server):
    """Posting the upload event a string, a dict that is no file, or a big data: URL: one short sentence naming
    the input (not "1 validation error for FileData", never the 8 MB input echoed back)."""
    import gradio as gr

    demo = explorer_server.demo
    index, dep = next((i, d) for i, d in demo.fns.items() if d.api_name == "upload")
    file_at = next(k for k, c in enumerate(dep.inputs) if getattr(c, "elem_id", "") == "upload-file")
    defaults = [None if isinstance(c, gr.State) else c.value for c in dep.inputs]
    big = "data:audio/midi;base64," + "A" * 2_000_000
    for k, bad in enumerate(["song.mid", {"path": 5}, {"nonsense": True}, [1, 2], {"url": big, "path": big}]):
        data = list(defaults)
        data[file_at] = bad
        kind, text = queue_call(explorer_server.url, index, data, f"file-probe{k}")
        assert kind == "error", (repr(bad)[:60], text[:200])
        assert "must be a file" in text and len(text) < 400 and not INTERNAL.search(text), (repr(bad)[:60], text[:300])
