"""The harmonise verb on the real server (explorer.serve.api.harmonise: the Gradio endpoint /harmonise and the route
/v1/harmonise): a melody's chords as the page shows and plays them, a melody fitted to typed chords, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from explorer.media.files import Playback
from explorer.serve.api import HARMONY_BACKING, melody_code
from explorer.session.state import new_state
from tests.conftest import busy_train_window, window_midi
from tests.test_routes import post

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
PAGE = Playback(accompaniment=HARMONY_BACKING)  # the page with its chord backing on: the chords it shows and plays


@pytest.fixture(scope="module")
def client(explorer_server):
    from gradio_client import Client

    return Client(explorer_server.url, download_files=False, verbose=False)


@pytest.fixture(scope="module")
def melody(explorer_server):
    """(session, code) of a corpus melody with notes in 3 bars or more, as the page holds it."""
    h, s = explorer_server.handlers, explorer_server.services
    for z in s.index.mu[:400]:
        st = h.set_z(new_state(), z, "a tune")
        notes = s.notes(s.decode(st.z))
        if len({n.start // 16 for n in notes}) >= 3:
            return st, melody_code(st.z)
    pytest.skip("no corpus melody of the tiny model has notes in 3 bars")


def spans(answer: dict) -> list[tuple[int, int, str]]:
    return [(c["start"], c["end"], c["chord"]) for c in answer["chords"]]


def test_harmonise_gives_the_chords_the_page_shows_and_plays(explorer_server, client, melody):
    st, code = melody
    page = explorer_server.handlers.render(st, PAGE)
    status, out, _ = post(explorer_server.url + "v1/harmonise", {"melody": code})
    assert status == 200, out
    got = json.loads(out)
    assert spans(got) == [tuple(c) for c in page.chords] and got["chords"]
    assert got["key"] == page.key and got["meter"] == "4/4" and got["chord_line"] == page.chord_line
    assert got["tokens"] == [int(t) for t in page.tokens] and got["melody"] == code
    assert got["chords"][0]["start"] == 0 and got["chords"][-1]["end"] == 64
    assert all(a["end"] == b["start"] for a, b in zip(got["chords"][:-1], got["chords"][1:], strict=True))
    # the Gradio endpoint is the same function
    assert client.predict(json.dumps({"melody": code}), None, "", api_name="/harmonise") == got


def test_harmonise_takes_a_midi_file_as_encode_reads_it(explorer_server, client, small_corpus, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    from explorer.serve.api import page_melody
    from explorer.session.sharecode import decode_z

    h = explorer_server.handlers
    path = window_midi(small_corpus, busy_train_window(small_corpus), Path(tmp_path) / "tune.mid")
    got = client.predict("", handle_file(str(path)), "", api_name="/harmonise")
    st, r, _ = page_melody(h, str(path))
    page = h.render(st, PAGE)
    assert spans(got) == [tuple(c) for c in page.chords]  # (the tiny model may play the upload back silent)
    assert got["notes"] == [list(map(int, n)) for n in r.notes]
    assert np.array_equal(decode_z(got["melody"])["z"], st.z)  # its code: the upload's z (and detail)
    with pytest.raises(AppError, match="Give a melody"):  # neither JSON nor a file
        client.predict("", None, "", api_name="/harmonise")


def test_a_melody_fitted_to_typed_chords_comes_back_over_them_and_decodes_the_same(explorer_server, melody):
    h = explorer_server.handlers
    st, code = melody
    status, out, _ = post(explorer_server.url + "v1/harmonise", {"melody": code, "chords": "| C | F | G7 | C |"})
    assert status == 200, out
    got = json.loads(out)
    assert spans(got) == [(0, 16, "C"), (16, 32, "F"), (32, 48, "G7"), (48, 64, "C")]
    assert got["note"] == "" and got["fit"]["after"] >= got["fit"]["before"]
    # the page's "Fit the melody to my chords" on the same melody: the same melody
    _, page, info = h.fit_to_chords(st, Playback(progression="| C | F | G7 | C |"))
    assert got["tokens"] == [int(t) for t in page.tokens] and got["fit"]["after"] == pytest.approx(info["after"])
    # its code plays what it says, through /decode
    status, out, _ = post(explorer_server.url + "v1/decode", {"melody": got["melody"]})
    assert status == 200 and json.loads(out)["tokens"] == got["tokens"]
    assert json.loads(out)["notes"] == got["notes"]


def test_a_progression_longer_than_the_melody_is_cut_and_says_so(explorer_server, melody):
    _, code = melody
    status, out, _ = post(explorer_server.url + "v1/harmonise",
                          {"melody": code, "chords": "Am F C G Am Dm E7 Am"})
    assert status == 200, out
    got = json.loads(out)
    assert "Your chords run 8 bars and the melody 4" in got["note"] and "left out" in got["note"]
    assert [c for _, _, c in spans(got)] == ["Am", "F", "C", "G"]


def test_roman_numerals_in_a_key(explorer_server, melody):
    _, code = melody
    status, out, _ = post(explorer_server.url + "v1/harmonise", {"melody": code, "chords": "I vi IV V7 in G"})
    assert status == 200, out
    assert [c for _, _, c in spans(json.loads(out))] == ["G", "Em", "C", "D7"]


@pytest.mark.parametrize("chords, words", [
    ("C H7 G C", "'H7'"),
    ("", "empty"),
    ("   ", "empty"),
    ("| | |", "no chords"),
    ("I vi IV V", "Roman numeral"),
    ("C D E F G", None),  # fine: five bars over four, cut (not a refusal)
    (5, '"chords" must be a line'),
    ("C " * 300, '"chords" must be a line'),
])
def test_bad_chords_get_one_sentence(explorer_server, client, melody, chords, words):
    from gradio_client.exceptions import AppError

    _, code = melody
    status, out, _ = post(explorer_server.url + "v1/harmonise", {"melody": code, "chords": chords})
    if words is None:
        assert status == 200 and "left out" in json.loads(out)["note"]
        return
    assert status == 400, out
    msg = json.loads(out)["error"]
    assert words in msg and "Traceback" not in msg and msg.count(". ") <= 2
    if isinstance(chords, str) and chords.strip():  # the Gradio endpoint says the same (empty there: harmonise)
        with pytest.raises(AppError, match=words.strip("'\"").split("'")[0]):
            client.predict(json.dumps({"melody": code}), None, chords, api_name="/harmonise")


@pytest.mark.parametrize("body, words", [
    ({}, "Give a JSON object"),
    ({"chords": "C F G C"}, "Give a JSON object"),
    ({"melody": "not a code"}, "not a melody code"),
    ({"z": [1, 2]}, "list of"),
    ([1, 2], "JSON object"),
])
def test_bad_melodies_get_one_sentence(explorer_server, body, words):
    status, out, _ = post(explorer_server.url + "v1/harmonise", body)
    assert status == 400, out
    assert words in json.loads(out)["error"]


def test_harmonise_wants_the_login_like_every_route(tiny_services, tmp_path_factory, monkeypatch):
    import base64
    import socket

    from explorer import ui

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("harmonise_auth")))
    demo = ui.build_ui(tiny_services)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ui.launch(demo, port=port, prevent_thread_lock=True, quiet=True, auth=("ann", "secret"))
    try:
        url = f"http://127.0.0.1:{port}/v1/harmonise"
        z = [float(v) for v in np.zeros(tiny_services.latent_dim)]
        assert post(url, {"z": z})[0] == 401
        good = {"Authorization": "Basic " + base64.b64encode(b"ann:secret").decode()}
        assert post(url, {"z": z}, good)[0] == 200
        assert post(url.replace("harmonise", "regenerate"), {"z": z, "keep": [1]})[0] == 401
    finally:
        demo.close()
