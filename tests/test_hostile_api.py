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
