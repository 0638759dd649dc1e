"""The plain HTTP routes (explorer.serve.routes) on the real server: decode to JSON and to a .mid file, bad input, login."""

from __future__ import annotations

import base64
import io
import json
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest

from explorer.media.audio import read_wav
from explorer.media.files import Playback
from explorer.serve.guard import MAX_FAILURES
from explorer.session.state import new_state

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

    from explorer.serve import api

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
    (b'{"z":[1' + b"0" * 5000 + b"]}", "not valid JSON"),  # an integer of 5,001 digits: a 500 before
    ({"sliders": [9999] * 16}, "beyond ±100"),  # the page allows ±3; ±9999 gave a z the API refused back
    ({"z": [14532.0] * 64}, "from -100 to 100"),
])
def test_bad_requests_get_400_with_a_sentence(explorer_server, body, words):
    if isinstance(body, dict) and "sliders" in body:
        body = {**body, "sliders": [body["sliders"][0]] * len(explorer_server.handlers.labels)}
    if isinstance(body, dict) and "z" in body and len(body["z"]) == 64:
        body = {**body, "z": [body["z"][0]] * explorer_server.services.latent_dim}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN goes out as JSON's NaN literal
    status, out, _ = post(explorer_server.url + "v1/decode", data)
    assert status == 400, out
    msg = json.loads(out)["error"]
    assert words in msg and "Traceback" not in msg


def test_an_oversized_body_is_refused(explorer_server):
    status, out, _ = post(explorer_server.url + "v1/decode", b"[" + b"0," * 150_000 + b"0]")
    assert status == 413 and "bytes" in json.loads(out)["error"]


def test_an_oversized_body_is_refused_from_its_length_before_it_is_read(explorer_server):
    """A client that declares 400 MB gets 413 at once: the server answers before the body is sent (it was read
    whole before, +562 MB of memory)."""
    host, port = explorer_server.url.split("//")[1].rstrip("/").split(":")
    for path in ("/v1/decode", "/v1/drag", "/v1/decode.mid"):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {400 * 2**20}\r\n\r\n".encode() + b"[" * 1000)
            reply = sock.recv(4096).decode(errors="replace")
        assert reply.startswith("HTTP/1.1 413"), reply[:200]


def test_a_tiny_temperature_decodes_greedily_instead_of_failing(explorer_server):
    z = [0.0] * explorer_server.services.latent_dim
    status, out, _ = post(explorer_server.url + "v1/decode", {"z": z, "temperature": 1e-300})
    assert status == 200, out
    _, greedy, _ = post(explorer_server.url + "v1/decode", {"z": z})
    assert json.loads(out)["tokens"] == json.loads(greedy)["tokens"]


def test_values_the_api_returns_are_accepted_back(explorer_server):
    """The z made from extreme (but allowed) slider values is a z the API accepts as input."""
    k = len(explorer_server.handlers.labels)
    status, out, _ = post(explorer_server.url + "v1/decode", {"sliders": [3.0] * k})
    assert status == 200, out
    z = json.loads(out)["z"]
    status, _, _ = post(explorer_server.url + "v1/decode", {"z": z})
    assert status == 200


def test_a_page_link_with_a_huge_query_gets_a_sentence_not_a_server_error(explorer_server):
    for size in (9_000, 65_600, 130_000):
        try:
            with urllib.request.urlopen(explorer_server.url + "?m=" + "A" * size, timeout=30) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            status = err.code
            try:
                text = err.read().decode()
            except ConnectionError:  # the server answered and closed while the long request was still going out
                text = ""
        except ConnectionError as err:
            status, text = 0, str(err)
        if size > 65_536:  # uvicorn's HTTP parser refuses a request line this long before the app sees it
            assert status in (0, 400, 414), (status, text[:200])
        else:
            assert status == 414 and "too long" in text, (status, text[:200])
    with urllib.request.urlopen(explorer_server.url + "?m=abc", timeout=30) as r:  # a short one still loads
        assert r.status == 200


def test_a_route_runs_a_few_requests_lets_a_few_wait_and_refuses_the_rest():
    """Slots, deterministically: with 2 running and 1 waiting, a fourth request is refused with 429 at once, and
    a slot freed lets a new one in."""
    import asyncio

    from explorer.serve.routes import Slots

    async def scenario():
        slots, release, answers = Slots(running=2, waiting=1), asyncio.Event(), []

        async def request(name):
            async with slots.limit() as busy:
                answers.append((name, None if busy is None else busy.status_code))
                if busy is None:
                    await release.wait()

        tasks = [asyncio.create_task(request(n)) for n in "abc"]
        await asyncio.sleep(0)
        await request("d")  # two run, one waits: the fourth is turned away without waiting
        assert answers == [("a", None), ("b", None), ("d", 429)]
        release.set()
        await asyncio.gather(*tasks)
        assert ("c", None) in answers
        await request("e")  # all slots free again
        assert answers[-1] == ("e", None)

    asyncio.run(scenario())


def test_a_flood_of_drag_requests_gets_answers_not_errors(explorer_server):
    """64 drag previews at once (they bypassed every limit before): each is a preview or a 429 with a sentence."""
    from concurrent.futures import ThreadPoolExecutor

    h = explorer_server.handlers
    st = h.set_z(new_state(), explorer_server.services.index.mu[0], "a tune")
    token = explorer_server.demo.drags.open(st, Playback())
    body = {"token": token, "sliders": [0.5] * len(h.labels)}
    with ThreadPoolExecutor(64) as pool:
        replies = list(pool.map(lambda _: post(explorer_server.url + "v1/drag", body), range(64)))
    codes = [r[0] for r in replies]
    assert set(codes) <= {200, 429} and 200 in codes, codes
    assert all("busy" in json.loads(out)["error"] for code, out, _ in replies if code == 429)


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
        # a drag's route wants its token instead: only the (logged-in) page's Gradio event opens one
        st, _ = demo.handlers.load_window(new_state(), 0, Playback())
        token = demo.drags.open(st, Playback())
        sliders = np.clip(tiny_services.sliders_of(st.z), -3, 3).tolist()
        assert post(url.replace("decode", "drag"), {"token": token, "sliders": sliders})[0] == 200
        assert post(url.replace("decode", "drag"), {"token": token[:-1] + "x", "sliders": sliders})[0] == 404
        # Gradio's cancel and reset want the login too (they answered {"success": true} to anyone)
        root = f"http://127.0.0.1:{port}/"
        for path in ("gradio_api/cancel", "gradio_api/reset"):
            assert post(root + path, {"session_hash": "x", "fn_index": 0, "event_id": "y"})[0] == 401
        # the page's login: wrong passwords from one address are refused after a few, the right one too
        def login(password: str) -> int:
            req = urllib.request.Request(root + "login", data=f"username=composer&password={password}".encode(),
                                         method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as err:
                return err.code

        assert login("s3cret") == 200
        codes = [login(f"guess{i}") for i in range(MAX_FAILURES + 3)]
        assert codes[:MAX_FAILURES] == [400] * MAX_FAILURES and set(codes[MAX_FAILURES:]) == {429}, codes
        assert login("s3cret") == 429  # locked out for a while, the right password included
        status, out, _ = post(url, body, {"Authorization": f"Basic {right}"})
        assert status == 429 and "wrong passwords" in json.loads(out)["error"]
    finally:
        demo.close()


def test_failures_lock_an_address_out_for_a_while_and_success_forgets_them():
    from explorer.serve.guard import Failures

    f = Failures(max_failures=3, window_s=60, lockout_s=30)
    for t in (0, 1):
        f.failed("a", now=t)
    f.succeeded("a")  # a right password forgets earlier slips
    f.failed("a", now=2)
    assert f.wait_s("a", now=2) == 0
    f.failed("a", now=3)
    f.failed("a", now=4)
    assert f.wait_s("a", now=4) == 30 and f.wait_s("b", now=4) == 0  # other addresses are not affected
    assert f.wait_s("a", now=35) == 0  # the lockout ends
    for t in (100, 200, 300):  # slips further apart than the window never lock out
        f.failed("c", now=t)
    assert f.wait_s("c", now=300) == 0


def test_a_drag_preview_is_the_roll_and_the_audio_of_the_move(explorer_server):
    """/v1/drag answers the page's own drag requests: the piano roll's figure and the WAV in one body."""
    from explorer.media import figures
    from explorer.serve.routes import split_drag_payload

    h, s = explorer_server.handlers, explorer_server.services
    st, _ = h.load_window(new_state(), 0, Playback(temperature=1.0, seed=3))
    token = explorer_server.demo.drags.open(st, Playback(temperature=1.0, seed=3))
    values = np.clip(np.round(s.sliders_of(st.z), 2), -3, 3)
    values[1] = 2.0 if values[1] < 0 else -2.0
    status, body, headers = post(explorer_server.url + "v1/drag", {"token": token, "sliders": values.tolist()})
    assert status == 200 and headers["content-type"] == "application/octet-stream"
    fig, wav = split_drag_payload(body)
    want = h.set_sliders(st, values.tolist(), Playback(temperature=1.0, seed=3), preview=True)[1]
    assert fig == json.loads(figures.to_json(want.figure))
    # the sound is MP3 (a fifth of the WAV kept for the release), as long as that WAV
    kept = h.out_dir / headers["x-melody-file"]
    samples, rate = read_wav(kept)
    assert headers["x-melody-audio"] == "audio/mpeg" and float(headers["x-melody-seconds"]) == pytest.approx(
        len(samples) / rate, abs=1e-3)
    assert wav[0] == 0xFF and wav[1] & 0xE0 == 0xE0  # an MPEG audio frame's sync word
    assert len(wav) < kept.stat().st_size / 3
    # a page that measured a fast link asks for the WAV itself
    status, body, headers = post(explorer_server.url + "v1/drag", {"token": token, "sliders": values.tolist(),
                                                                   "audio": "wav"})
    assert status == 200 and headers["x-melody-audio"] == "audio/wav"
    assert split_drag_payload(body)[1] == (h.out_dir / headers["x-melody-file"]).read_bytes()
    after, pre = explorer_server.demo.drags.take(token, st, values, Playback(temperature=1.0, seed=3))  # what the release takes
    assert pre.wav_path.endswith(headers["x-melody-file"])  # the last preview


@pytest.mark.parametrize("body, status, words", [
    ({"token": "nope", "sliders": [0.0] * 16}, 404, "press the slider again"),
    ({"sliders": [0.0] * 16}, 404, "press the slider again"),
    ([1, 2], 400, "JSON object"),
    (b"{", 400, '{"token": "...", "sliders": [...]}'),  # the drag's own example, not decode's {"z": [...]}
    ({"token": "OPEN", "sliders": [0.0] * 3}, 400, "numbers, each from -3 to 3"),
    ({"token": "OPEN", "sliders": [9.0] * 16}, 400, "numbers, each from -3 to 3"),
])
def test_bad_drag_requests_get_a_sentence(explorer_server, body, status, words):
    h = explorer_server.handlers
    if isinstance(body, dict) and body.get("token") == "OPEN":
        body = {**body, "token": explorer_server.demo.drags.open(h.load_window(new_state(), 0, Playback())[0], Playback())}
    if isinstance(body, dict) and len(body.get("sliders", [])) == 16:
        body = {**body, "sliders": body["sliders"][:1] * len(h.labels)}
    got, out, _ = post(explorer_server.url + "v1/drag", body if isinstance(body, bytes) else json.dumps(body).encode())
    assert got == status and words in json.loads(out)["error"]


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
