"""Property-based fuzzing (hypothesis) of what strangers can send: MIDI bytes, share codes, API arguments.

`make test` runs a short pass; `make fuzz` runs FUZZ_EXAMPLES examples per property and prints the counts.
Every input must give a result or our one-sentence error, never another exception.
"""

from __future__ import annotations

import json
import os

import numpy as np
from conftest import notes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.errors import UserError
from explorer.serve.api import number, parse_z
from explorer.session.sharecode import decode_z, encode_z
from explorer.session.validate import LIMITS
from vae.constants import VOCAB_SIZE
from vae.errors import MusicReadError
from vae.midi_export import write_midi_bytes
from vae.midi_import import extract_melodies

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 60))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                              HealthCheck.too_slow])
SONG = write_midi_bytes(notes(*[(60 + (k * 5) % 12, 2 * k, 2 * k + 2) for k in range(48)]), tempo=100.0)


def check_melodies(data: bytes) -> None:
    try:
        found = extract_melodies(data)
    except MusicReadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for c in found.candidates:
        assert c.windows.ndim == 2 and c.windows.shape[1] == 64
        assert c.windows.size == 0 or int(c.windows.max()) < VOCAB_SIZE
        assert len(c.window_labels) == len(c.windows)


@FUZZ
@given(st.binary(max_size=4096))
def test_any_bytes_as_midi(data):
    check_melodies(data)
    check_melodies(b"MThd" + data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SONG) - 1), st.integers(0, 255)), min_size=1, max_size=12),
       st.integers(0, len(SONG)))
def test_a_damaged_midi_file(edits, cut):
    data = bytearray(SONG)
    for pos, value in edits:
        data[pos] = value
    check_melodies(bytes(data[: max(cut, 14)]))


def check_code(code: str) -> None:
    try:
        d = decode_z(code)
    except UserError as exc:
        assert str(exc).startswith("this link")
        return
    assert np.isfinite(d["z"]).all()
    for name in ("temperature", "tempo", "seed", "program"):
        lo, hi = LIMITS[name]
        assert lo <= d[name] <= hi


@FUZZ
@given(st.text(max_size=400))
def test_any_text_as_a_share_code(code):
    check_code(code)


@FUZZ
@given(st.integers(0, 200), st.sampled_from("AbZz09-_=+/ "), st.integers(0, 3))
def test_a_tampered_share_code(pos, char, how):
    code = encode_z(np.linspace(-1, 1, 64), 0.5, 3, 100.0, 40)
    pos = pos % len(code)
    code = [code[:pos] + char + code[pos + 1 :], code[:pos], code + char * pos, code[:pos] + code[pos + 1 :]][how]
    check_code(code)


JSONISH = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                       lambda kids: st.lists(kids, max_size=70) | st.dictionaries(st.sampled_from(
                           ["z", "sliders", "base_z", "x"]), kids, max_size=3), max_leaves=200)


@FUZZ
@given(JSONISH)
def test_any_json_as_a_latent(h, value):
    for arg in (value, json.dumps(value, allow_nan=True)):
        try:
            z = parse_z(h, arg)
        except UserError as exc:
            assert str(exc) and len(str(exc)) < 300
            continue
        assert z.shape == (h.s.latent_dim,) and np.isfinite(z).all()


@FUZZ
@given(st.sampled_from(sorted(LIMITS)), JSONISH, st.booleans())
def test_any_value_as_a_number(name, value, integer):
    lo, hi = LIMITS[name]
    try:
        v = number(name, value, integer)
    except UserError as exc:
        assert name in str(exc) and str(lo) in str(exc)
        return
    assert lo <= v <= hi and np.isfinite(v) and (not integer or v == int(v))


_METER = st.one_of(st.integers(-5, 10**6).map(str), st.sampled_from(["", "C", "C|", "none", "(2+3", "1e9", "0", "x"]))
_ABC_BODY = st.text(alphabet="ABCDEFGabcdefgz,'/<>()[]|:^_=-0123456789 ü\"%\n", max_size=60)


@FUZZ
@given(st.sampled_from("ML"), _METER, _METER, _ABC_BODY, st.booleans())
def test_any_meter_length_and_body_as_typed_abc(field, num, den, body, inline):
    """Typed ABC with any meter or unit length (M:99999/1 froze a worker; M:0/0 and L:0/0 divided by zero) and
    any body (an 'ü' gave a traceback): a tune, or one sentence. Absurd fields are refused before music21 runs."""
    from vae.abc_reader import MAX_METER_BEATS, read_abc_text

    head = f"[{field}:{num}/{den}]" if inline else f"{field}:{num}/{den}\n"
    text = f"X:1\n{'' if inline else head}K:C\n{head if inline else ''}{body}"
    try:
        tune = read_abc_text(text)
    except MusicReadError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert tune.notes
    if field == "M" and num.isdigit() and den.isdigit():
        assert int(num) <= MAX_METER_BEATS  # a larger meter never reached the parser
