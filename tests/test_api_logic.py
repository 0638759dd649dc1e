"""The Gradio-free API (explorer.serve.api): argument checks say the range, any GM program plays as itself."""

import json

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.serve import api
from explorer.session.sharecode import encode_z
from explorer.session.slider_move import quantise
from vae.fidelity import round_detail


@pytest.mark.parametrize("name, value, words", [
    ("n", 0, "n must be a whole number from 1 to 32"), ("n", 2.5, "whole number"), ("k", "ten", "k must be a number"),
    ("temperature", float("nan"), "temperature must be a number from 0.0 to 5.0"), ("tempo", 0, "from 20.0 to 400.0"),
    ("program", 128, "from 0 to 127"), ("program", -1, "from 0 to 127"), ("similarity", float("inf"), "0.0 to 1.0"),
    ("seed", None, "seed must be a number")])
def test_numbers_out_of_range_are_refused_with_their_range(name, value, words):
    with pytest.raises(UserError, match=words):
        api.number(name, value, integer=name in ("n", "k", "program", "seed"))


@pytest.mark.parametrize("text, words", [
    ("", "Give a JSON object"), ("{not json", "not valid JSON"), ("[" * 5000, "not valid JSON"), ("5", "Give a JSON"),
    ('{"z": [1, 2]}', "z must be a list of"), ('{"z": "abc"}', "z must be a list of"),
    ('{"z": [NaN, 1]}', "finite"), ('{"sliders": [1e300, 0]}', "sliders must be a list of"),
    ('{"other": 1}', "Give a JSON object")])
def test_bad_latent_json_gets_a_sentence(h, text, words):
    with pytest.raises(UserError, match=words):
        api.parse_z(h, text)


def test_sliders_json_sets_the_sliders_on_the_origin(h, tiny_services):
    k = len(h.labels)
    values = np.linspace(-1, 1, k)
    z = api.parse_z(h, json.dumps({"sliders": values.tolist()}))
    assert np.allclose(tiny_services.sliders_of(z), values, atol=1e-4)


def test_decode_plays_any_general_midi_program(h, tiny_services):
    import mido

    z = tiny_services.index.mu[3].tolist()
    for program in (1, 33, 127):  # none of them is in the instrument menu
        mid, wav, melody = api.decode(h, json.dumps({"z": z}), 0.0, 0, 100, program)
        programs = {m.program for t in mido.MidiFile(mid).tracks for m in t if m.type == "program_change"}
        assert programs == {program}
        assert melody["tokens"] == tiny_services.decode(np.asarray(z, np.float32)).tolist()


def test_a_melody_code_decodes_with_its_detail(h, tiny_services):
    z = quantise(tiny_services.index.mu[5])
    detail = round_detail(np.random.default_rng(1).normal(0, 0.5, tiny_services.detail_shape).astype(np.float32))
    code = encode_z(z, detail=detail, title="x")
    for text in (json.dumps({"melody": code}), json.dumps({"code": code}), json.dumps(code), {"melody": code}):
        got_z, got_detail = api.parse_melody(h, text)
        assert np.array_equal(got_z, z) and np.array_equal(got_detail, detail)
    _, _, out = api.decode(h, json.dumps({"melody": code}))
    assert out["tokens"] == tiny_services.decode(z, detail=detail).tolist()
    assert out["melody"] == encode_z(z, detail=detail)  # full-precision z and the detail travel back exactly
    assert api.parse_melody(h, json.dumps({"z": out["z"]}))[0].tolist() == out["z"]


def test_slider_values_come_back_at_full_precision(h, tiny_services):
    z = tiny_services.index.mu[9]
    out = api.melody_json(h, z, tiny_services.decode(z))
    assert "melody" not in out  # a raw z is not exactly a code's float16: no code that would decode elsewhere
    assert out["sliders"] == [float(v) for v in tiny_services.sliders_of(z)]
    z_back = api.parse_z(h, json.dumps({"sliders": out["sliders"], "base_z": out["z"]}))
    assert np.array_equal(z_back, z)


@pytest.mark.parametrize("body, words", [
    ({"melody": 5}, "must be a melody code"), ({"melody": "abc"}, "is not a melody code"),
    ({"code": "A" * 3000}, "is not a melody code"), ({"melody": "OTHER", "z": "SHIFTED"}, "two different melodies"),
    ({"melody": "SMALL"}, "another model")])
def test_bad_melody_codes_get_a_sentence(h, tiny_services, body, words):
    z = quantise(tiny_services.index.mu[2])
    subs = {"OTHER": encode_z(z), "SHIFTED": (z + 1).tolist(), "SMALL": encode_z(z[:8])}
    body = {k: subs.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    with pytest.raises(UserError, match=words):
        api.parse_melody(h, json.dumps(body))
