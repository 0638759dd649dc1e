"""The public API of the real Gradio server (in this process, on loopback), called with gradio_client."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import band_midi, busy_train_window, notes, window_midi

from bench.pop909 import DATA
from explorer.session.sharecode import decode_z, encode_z
from vae.fidelity import note_f1, round_detail
from vae.tokenizer import MelodyTokenizer

# pandas 3 deprecations inside gradio's queue, not ours
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
PUBLIC = ["/encode", "/decode", "/sample", "/similar", "/interpolate", "/neighbours"]


@pytest.fixture(scope="module")
def client(explorer_server):
    from gradio_client import Client

    return Client(explorer_server.url, download_files=False, verbose=False)


@pytest.fixture(scope="module")
def busy(small_corpus) -> int:
    return busy_train_window(small_corpus)


@pytest.fixture(scope="module")
def busy_midi(small_corpus, busy, tmp_path_factory) -> Path:
    return window_midi(small_corpus, busy, tmp_path_factory.mktemp("api") / "busy.mid")


def server_file(value: dict, suffix: str) -> Path:
    """A file output (download_files=False gives its server-side path) that exists and is not empty."""
    path = Path(value["path"])
    assert path.suffix == suffix and path.is_file() and path.stat().st_size > 0, value
    return path


def test_page_and_api_listing(explorer_server, client):
    with urllib.request.urlopen(explorer_server.url, timeout=30) as resp:
        assert resp.status == 200
        assert "<html" in resp.read(4096).decode("utf-8", "replace").lower()
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert set(PUBLIC) <= names
    assert not {"/upload", "/sliders", "/load"} & names  # the UI's own events are not advertised


def page_upload(h, path: Path):
    """What the page does with an upload (its first candidate's first window): (session, render, info)."""
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    return h.choose_upload(h.upload(new_state(), str(path)), 0, 0, Playback())


POP = DATA / "401" / "401.mid"  # a real pop song (POP909): off the folk domain, its upload needs the fit and detail


@pytest.fixture(scope="module", params=["corpus window", "pop909 song"])
def upload(request, busy_midi) -> Path:
    if request.param == "corpus window":
        return busy_midi
    if not POP.exists():
        pytest.skip(f"POP909 songs not found at {DATA} (../shared/data/pop909-dev, beside the checkout)")
    return POP


@pytest.fixture(scope="module")
def encoded(client, upload) -> dict:
    from gradio_client import handle_file

    return client.predict(handle_file(str(upload)), api_name="/encode")


def test_encode_returns_what_the_page_plays(encoded, upload, explorer_server, tiny_services):
    st, r, info = page_upload(explorer_server.handlers, upload)
    window = st.upload.candidates[0].windows[0]
    assert encoded["file"] == upload.name and encoded["candidate"] == st.upload.candidates[0].label
    assert encoded["tokens"] == window.tolist()  # the extracted melody
    assert encoded["notes"] == [list(n) for n in MelodyTokenizer().decode(window)]
    # the page's z (fitted, as the share link keeps it) and its rendering, with the per-bar detail
    assert np.array_equal(np.asarray(encoded["z"], np.float32), st.z)
    assert encoded["reconstruction_tokens"] == r.tokens.tolist()
    assert encoded["reconstruction"] == [list(n) for n in r.notes]
    code = decode_z(encoded["melody"])
    assert np.array_equal(code["z"], st.z)
    assert (code["detail"] is None) == (st.detail is None)
    assert st.detail is None or np.array_equal(code["detail"], st.detail)
    assert encoded["map"] == pytest.approx(list(tiny_services.place(st.z)), abs=1e-9)
    assert np.array_equal(np.asarray(encoded["sliders"], np.float32), tiny_services.sliders_of(st.z))  # not rounded
    f1 = note_f1(window, r.tokens)[0]
    assert encoded["fidelity"]["fitted"] == pytest.approx(f1) and f1 >= encoded["fidelity"]["encoder"]


def test_encode_then_decode_gives_the_same_tune(client, encoded, explorer_server):
    from explorer.serve.routes import decode_body

    _, _, out = client.predict(json.dumps({"melody": encoded["melody"]}), 0.0, 0, 120, 0, api_name="/decode")
    assert out["tokens"] == encoded["reconstruction_tokens"]
    assert out["z"] == encoded["z"] and out["melody"] == encode_z(np.asarray(encoded["z"], np.float32),
                                                                    detail=decode_z(encoded["melody"])["detail"])
    again = client.predict(json.dumps({"code": out["melody"]}), 0.0, 0, 120, 0, api_name="/decode")[2]
    assert again["tokens"] == out["tokens"] and again["melody"] == out["melody"]
    # the whole answer sent back as it is
    assert client.predict(json.dumps(out), 0.0, 0, 120, 0, api_name="/decode")[2]["tokens"] == out["tokens"]
    same = client.predict(json.dumps({"melody": encoded["melody"]}), 1.0, 2, 0.0, 0, api_name="/similar")
    assert [m["tokens"] for m in same] == [encoded["reconstruction_tokens"]] * 2
    by_code = client.predict(json.dumps({"melody": encoded["melody"]}), None, 4, api_name="/neighbours")
    by_z = client.predict(json.dumps({"z": encoded["z"]}), None, 4, api_name="/neighbours")
    assert by_code == by_z
    _, plain = decode_body(explorer_server.handlers, {"melody": encoded["melody"]})  # what /v1/decode answers
    assert plain["tokens"] == encoded["reconstruction_tokens"]


def test_slider_values_sent_back_unchanged_move_nothing(client, encoded):
    for start in ({"base_z": encoded["z"]}, {"melody": encoded["melody"]}, {"melody": encoded["melody"],
                                                                            "z": encoded["z"]}):
        _, _, out = client.predict(json.dumps({"sliders": encoded["sliders"], **start}), 0.0, 0, 120, 0,
                                   api_name="/decode")
        assert out["z"] == encoded["z"] and out["sliders"] == encoded["sliders"]
        if "melody" in start:
            assert out["tokens"] == encoded["reconstruction_tokens"] and out["melody"] == decode_answer_code(encoded)


def decode_answer_code(encoded: dict) -> str:
    """The code /decode gives back for the melody /encode returned (the same z and detail, without a title)."""
    return encode_z(np.asarray(encoded["z"], np.float32), detail=decode_z(encoded["melody"])["detail"])


@pytest.mark.parametrize("slider", [0, 5])
def test_one_slider_moved_through_the_api_moves_as_on_the_page(client, encoded, upload, explorer_server, slider):
    from explorer.media.files import Playback

    h = explorer_server.handlers
    values = list(encoded["sliders"])
    values[slider] += 1.0
    _, _, out = client.predict(json.dumps({"melody": encoded["melody"], "sliders": values}), 0.0, 0, 120, 0,
                               api_name="/decode")
    st, _, _ = page_upload(h, upload)
    st, r = h.set_sliders(st, values, Playback())
    assert np.array_equal(np.asarray(out["z"], np.float32), st.z) and out["tokens"] == r.tokens.tolist()
    detail = decode_z(out["melody"])["detail"]  # the detail as the page's move leaves it (faded, or none)
    assert (detail is None) == (st.detail is None) and (detail is None or np.array_equal(detail, st.detail))
    assert out["z"] != encoded["z"]
    change = np.abs(np.asarray(out["sliders"]) - np.asarray(encoded["sliders"]))
    assert change[slider] > 0.4
    if not h.s.sliders.steered:  # a linear move: the other sliders stay where they were (z's float16 aside)
        assert np.delete(change, slider).max() < 0.05
    # and the moved melody, sent back unchanged, stays put
    back = client.predict(json.dumps({"melody": out["melody"], "sliders": out["sliders"]}), 0.0, 0, 120, 0,
                          api_name="/decode")[2]
    assert back["z"] == out["z"] and back["tokens"] == out["tokens"]


@pytest.fixture
def with_detail(monkeypatch, tiny_services) -> np.ndarray:
    """Uploads that need a per-bar detail: the tiny model's fit finds none (it hardly plays a note), so its fit is
    given one, fixed and rounded as share links carry it. The page and the API go through that same fit."""
    real = tiny_services.fit_melody
    detail = round_detail(np.random.default_rng(3).normal(0, 3.0, tiny_services.detail_shape).astype(np.float32))
    monkeypatch.setattr(tiny_services, "fit_melody", lambda tokens, progress=None: {**real(tokens, progress),
                                                                                  "detail": detail})
    return detail


def test_an_uploads_detail_travels_through_the_api_and_fades_as_on_the_page(client, busy_midi, explorer_server,
                                                                             with_detail):
    from gradio_client import handle_file

    from explorer.media.files import Playback

    h = explorer_server.handlers
    enc = client.predict(handle_file(str(busy_midi)), api_name="/encode")
    st, r, _ = page_upload(h, busy_midi)
    assert np.array_equal(st.detail, with_detail) and np.array_equal(decode_z(enc["melody"])["detail"], with_detail)
    assert r.tokens.tolist() != h.s.decode(st.z).tolist()  # the detail is heard: without it the tune differs
    assert enc["reconstruction_tokens"] == r.tokens.tolist()
    back = client.predict(json.dumps({"melody": enc["melody"]}), 0.0, 0, 120, 0, api_name="/decode")[2]
    assert back["tokens"] == r.tokens.tolist()
    values = list(enc["sliders"])
    values[0] += 0.3  # a small move: the page keeps part of the detail
    moved = client.predict(json.dumps({"melody": enc["melody"], "sliders": values}), 0.0, 0, 120, 0,
                           api_name="/decode")[2]
    st, r = h.set_sliders(st, values, Playback())
    assert st.detail is not None and not np.array_equal(st.detail, with_detail)  # faded, not dropped
    assert np.array_equal(np.asarray(moved["z"], np.float32), st.z) and moved["tokens"] == r.tokens.tolist()
    assert np.array_equal(decode_z(moved["melody"])["detail"], st.detail)


def test_encode_picks_the_tune_of_a_band(client, tmp_path):
    from gradio_client import handle_file

    tune = notes((72, 0, 4), (74, 4, 8), (76, 8, 12), (77, 12, 14), (79, 16, 24), (77, 24, 28), (76, 28, 32),
                 (74, 32, 36), (72, 36, 44), (71, 46, 48), (72, 48, 56), (79, 56, 64))
    enc = client.predict(handle_file(str(band_midi(tmp_path / "band.mid", tune))), api_name="/encode")
    assert len(enc["candidates"]) == 3 and "Melody" in enc["candidate"]
    assert enc["notes"] == [list(n) for n in tune]


def test_corrupt_upload_gives_the_sentence(client, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"Hello, this is a text file\n" * 10)
    with pytest.raises(Exception, match="This is not a MIDI file."):
        client.predict(handle_file(str(bad)), api_name="/encode")


def test_decode_from_z_and_from_sliders(client, tiny_services):
    z = tiny_services.index.mu[42]
    # temperature 1 with a seed: the tiny model's greedy melodies are mostly silent
    mid, wav, out = client.predict(json.dumps({"z": z.tolist()}), 1.0, 9, 100, 73, api_name="/decode")
    server_file(mid, ".mid")
    server_file(wav, ".wav")
    tokens = tiny_services.decode(z, 1.0, 9)
    assert out["tokens"] == tokens.tolist()
    assert out["notes"] and out["notes"] == [list(n) for n in tiny_services.notes(tokens)]
    assert np.allclose(out["z"], z, atol=1e-4)

    import pretty_midi

    pm = pretty_midi.PrettyMIDI(mid["path"])
    assert pm.instruments[0].program == 73 and pm.get_tempo_changes()[1][0] == pytest.approx(100.0)
    assert [n.pitch for n in pm.instruments[0].notes] == [n[0] for n in out["notes"]]

    sliders = [0.0] * 16
    sliders[0] = 1.5
    _, _, from_sliders = client.predict(json.dumps({"sliders": sliders}), 0.0, 0, 120, 0, api_name="/decode")
    assert from_sliders["sliders"] == pytest.approx(sliders, abs=2e-3)
    expected = tiny_services.z_from_sliders(np.zeros(tiny_services.latent_dim, np.float32), np.array(sliders, np.float32))
    assert np.allclose(from_sliders["z"], expected, atol=1e-4)
    assert from_sliders["tokens"] == tiny_services.decode(expected).tolist()

    with pytest.raises(Exception, match="z must be"):
        client.predict(json.dumps({"z": [1.0, 2.0]}), 0.0, 0, 120, 0, api_name="/decode")


def test_sample_and_similar(client, tiny_services):
    a = client.predict(3, 0.5, 4, api_name="/sample")
    b = client.predict(3, 0.5, 4, api_name="/sample")
    assert len(a) == 3 and a == b
    assert all(len(m["z"]) == tiny_services.latent_dim and len(m["tokens"]) == 64 for m in a)
    assert client.predict(1, 0.5, 5, api_name="/sample")[0]["z"] != a[0]["z"]
    with pytest.raises(Exception, match="n must be a whole number from 1 to 32"):  # refused by the typed input
        client.predict(99, 0.5, 4, api_name="/sample")

    z = tiny_services.index.mu[7]
    same = client.predict(json.dumps({"z": z.tolist()}), 1.0, 2, 0.0, 0, api_name="/similar")
    assert len(same) == 2 and all(np.allclose(m["z"], z, atol=1e-4) for m in same)
    assert same[0]["tokens"] == tiny_services.decode(z).tolist()
    far = client.predict(json.dumps({"z": z.tolist()}), 0.2, 2, 0.0, 0, api_name="/similar")
    assert not np.allclose(far[0]["z"], z, atol=0.1)


def test_interpolate_two_files(client, small_corpus, busy_midi, busy, tmp_path, tiny_services):
    from gradio_client import handle_file

    b_row = busy_train_window(small_corpus, after=busy + 200)
    b_path = window_midi(small_corpus, b_row, tmp_path / "b.mid")
    mid, wav, steps = client.predict(handle_file(str(busy_midi)), handle_file(str(b_path)), 5, api_name="/interpolate")
    server_file(mid, ".mid")
    server_file(wav, ".wav")
    assert len(steps) == 5
    za, zb = tiny_services.index.mu[busy], tiny_services.index.mu[b_row]
    assert np.allclose(steps[0]["z"], za, atol=2e-3) and np.allclose(steps[-1]["z"], zb, atol=2e-3)
    assert all(len(s["tokens"]) == 64 for s in steps)


def test_neighbours(client, tiny_services, small_corpus, busy, busy_midi, explorer_server):
    from gradio_client import handle_file

    z = tiny_services.index.mu[busy]
    by_z = client.predict(json.dumps({"z": z.tolist()}), None, 5, api_name="/neighbours")
    assert len(by_z) == 5
    assert [n["distance"] for n in by_z] == sorted(n["distance"] for n in by_z)
    assert np.array_equal(small_corpus.tokens[by_z[0]["window"]], small_corpus.tokens[busy])
    assert by_z[0]["distance"] < 1e-3
    assert {"title", "collection", "tune", "window", "start_bar"} <= set(by_z[0])

    # a file's neighbours are those of the melody /encode returns: the page's fitted z
    by_file = client.predict("", handle_file(str(busy_midi)), 3, api_name="/neighbours")
    page_z = page_upload(explorer_server.handlers, busy_midi)[0].z
    assert by_file == client.predict(json.dumps({"z": page_z.tolist()}), None, 3, api_name="/neighbours")
    with pytest.raises(Exception, match="MIDI file"):
        client.predict("", None, 3, api_name="/neighbours")


def test_rendered_files_are_served_from_the_cache_without_a_copy(client, explorer_server, tiny_services):
    mid, wav, _ = client.predict(json.dumps({"z": [0.0] * tiny_services.latent_dim}), 0.0, 0, 120, 0, api_name="/decode")
    renders = explorer_server.handlers.out_dir
    cache = Path(os.environ["GRADIO_TEMP_DIR"])
    for value, suffix in ((mid, ".mid"), (wav, ".wav")):
        path = server_file(value, suffix)
        assert path.parent == renders and renders.parent == cache
        copies = [p for p in cache.rglob(path.name) if p != path]
        assert not copies, copies
