"""The public API of the real Gradio server (in this process, on loopback), called with gradio_client."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import band_midi, busy_train_window, notes, window_midi

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


def test_encode(client, busy_midi, busy, tiny_services, small_corpus):
    from gradio_client import handle_file

    enc = client.predict(handle_file(str(busy_midi)), api_name="/encode")
    assert enc["file"] == "busy.mid" and enc["windows"] == 1 and len(enc["candidates"]) == 1
    z = np.array(enc["z"])
    assert z.shape == (tiny_services.latent_dim,)
    assert np.allclose(z, tiny_services.index.mu[busy], atol=1e-3)
    assert len(enc["sliders"]) == 16
    assert np.allclose(enc["sliders"], tiny_services.sliders_of(z), atol=2e-3)
    assert enc["map"] == pytest.approx(list(tiny_services.place(z)), abs=1e-3)  # z comes back rounded to 1e-5
    assert enc["tokens"] == small_corpus.tokens[busy].tolist()
    assert enc["notes"] == [list(n) for n in MelodyTokenizer().decode(small_corpus.tokens[busy])]
    assert enc["reconstruction"] == [list(n) for n in tiny_services.notes(tiny_services.decode(z))]


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


def test_neighbours(client, tiny_services, small_corpus, busy, busy_midi):
    from gradio_client import handle_file

    z = tiny_services.index.mu[busy]
    by_z = client.predict(json.dumps({"z": z.tolist()}), None, 5, api_name="/neighbours")
    assert len(by_z) == 5
    assert [n["distance"] for n in by_z] == sorted(n["distance"] for n in by_z)
    assert np.array_equal(small_corpus.tokens[by_z[0]["window"]], small_corpus.tokens[busy])
    assert by_z[0]["distance"] < 1e-3
    assert {"title", "collection", "tune", "window", "start_bar"} <= set(by_z[0])

    by_file = client.predict("", handle_file(str(busy_midi)), 3, api_name="/neighbours")
    assert len(by_file) == 3 and [n["window"] for n in by_file] == [n["window"] for n in by_z[:3]]
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
