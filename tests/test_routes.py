"""The plain HTTP routes (explorer.routes) on the real server: decode to JSON and to a .mid file, bad input, login."""

from __future__ import annotations

import base64
import io
import json
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


def post(url: str, body, headers: dict | None = None) -> tuple[int, bytes, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_decode_json_matches_the_gradio_endpoint_and_carries_the_midi(explorer_server):
    import pretty_midi

    from explorer import api

    h, s = explorer_server.handlers, explorer_server.services
    z = next(m for m in s.index.mu[:200] if len(s.notes(s.decode(m))) >= 3)  # a melody with notes (tiny model)
    status, body, _ = post(explorer_server.url + "v1/decode", {"z": [float(v) for v in z], "tempo": 90, "program": 40})
    assert status == 200
    got = json.loads(body)
    _, _, want = api.decode(h, json.dumps({"z": [float(v) for v in z]}), 0.0, 0, 90, 40)
    assert got["tokens"] == want["tokens"] and got["notes"] == want["notes"]
    pm = pretty_midi.PrettyMIDI(io.BytesIO(base64.b64decode(got["midi_base64"])))
    assert pm.instruments[0].program == 40
    assert len(pm.instruments[0].notes) == len(got["notes"])
    assert abs(pm.get_tempo_changes()[1][0] - 90) < 0.01  # MIDI stores whole microseconds per beat


def test_decode_mid_returns_a_midi_file_from_slider_values(explorer_server):
    import pretty_midi

    s = explorer_server.services
    z = next(m for m in s.index.mu[:200] if len(s.notes(s.decode(m))) >= 3)
    body = {"sliders": [float(v) for v in s.sliders_of(z)], "base_z": [float(v) for v in z]}
    status, out, headers = post(explorer_server.url + "v1/decode.mid", body)
    assert status == 200 and headers["content-type"] == "audio/midi" and out[:4] == b"MThd"
    _, js, _ = post(explorer_server.url + "v1/decode", body)
    assert len(pretty_midi.PrettyMIDI(io.BytesIO(out)).instruments[0].notes) == len(json.loads(js)["notes"]) >= 3


@pytest.mark.parametrize("body, words", [
    (b"{not json", "not valid JSON"),
    ({"z": [1, 2]}, "list of"),
    ({"z": [float("nan")] * 64}, "finite"),
    ({"sliders": [0] * 16, "tempo": 0}, "tempo must be"),
    ({"sliders": [0] * 16, "program": 128}, "program must be"),
    ({"sliders": [0] * 16, "temperature": "hot"}, "temperature must be"),
    ([1, 2, 3], "JSON object"),
    ({}, "Give a JSON object"),
])
def test_bad_requests_get_400_with_a_sentence(explorer_server, body, words):
    if isinstance(body, dict) and "sliders" in body:
        body = {**body, "sliders": [0.0] * len(explorer_server.handlers.labels)}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN goes out as JSON's NaN literal
    status, out, _ = post(explorer_server.url + "v1/decode", data)
    assert status == 400, out
    msg = json.loads(out)["error"]
    assert words in msg and "Traceback" not in msg


def test_an_oversized_body_is_refused(explorer_server):
    status, out, _ = post(explorer_server.url + "v1/decode", b"[" + b"0," * 150_000 + b"0]")
    assert status == 413 and "bytes" in json.loads(out)["error"]


def test_health_names_the_sliders(explorer_server):
    with urllib.request.urlopen(explorer_server.url + "v1/health", timeout=30) as r:
        d = json.loads(r.read())
    assert d["ok"] and d["latent_dim"] == explorer_server.services.latent_dim
    assert d["sliders"] == [lab["label"] for lab in explorer_server.handlers.labels]


def test_the_routes_want_the_apps_login(tiny_services, tmp_path_factory, monkeypatch):
    from explorer import ui

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("routes_cache")))
    demo = ui.build_ui(tiny_services)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui.launch(demo, port=port, prevent_thread_lock=True, quiet=True, auth=("composer", "s3cret"))
    try:
        url = f"http://127.0.0.1:{port}/v1/decode"
        body = {"z": np.zeros(tiny_services.latent_dim).tolist()}
        assert post(url, body)[0] == 401
        wrong = base64.b64encode(b"composer:nope").decode()
        assert post(url, body, {"Authorization": f"Basic {wrong}"})[0] == 401
        right = base64.b64encode(b"composer:s3cret").decode()
        status, out, _ = post(url, body, {"Authorization": f"Basic {right}"})
        assert status == 200 and "midi_base64" in json.loads(out)
    finally:
        demo.close()


def test_the_benchmark_load_clients_speak_to_the_real_server(explorer_server):
    """bench.load's light clients (Gradio's REST call API with one session per user; the plain routes)."""
    from bench.load import PlainClient, RawClient, payloads, run_load

    z = explorer_server.services.index.mu[:50]
    body = payloads(z, 1)[0]
    out = RawClient(explorer_server.url).predict(body, 0.0, 0, 120, 0, api_name="/decode")
    assert len(out) == 3 and out[2]["tokens"] and len(out[2]["z"]) == explorer_server.services.latent_dim
    assert PlainClient(explorer_server.url).predict(body, api_name="/v1/decode.mid")[:4] == b"MThd"
    with pytest.raises(RuntimeError, match="error"):
        RawClient(explorer_server.url).predict('{"z": [1, 2]}', 0.0, 0, 120, 0, api_name="/decode")
    res = run_load(explorer_server.url, users=3, calls=2, seconds=None, z=z, client="raw")
    assert res["ok"] == 6 and res["errors"] == 0
