"""Share links: every field of a code is checked, so a tampered link never leaves the page without a melody."""

import base64
import struct

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.session.sharecode import (
    HEAD_V1,
    HEAD_V2,
    HEAD_V3,
    MAX_CODE_CHARS,
    MAX_TITLE_BYTES,
    decode_z,
    encode_z,
)
from vae.fidelity import round_detail

Z = np.linspace(-2, 2, 64).astype(np.float32)


DETAIL = np.random.default_rng(0).normal(0, 0.4, (4, 128)).astype(np.float32)


def raw_code(temperature=0.0, seed=0, tempo=120.0, program=0, z=Z, version=3, backing=0, key=0, scale=0,
             title=b"", units=0, size=0, detail_bytes=b"") -> str:
    """A version 3 code (a version 4 one adds fields after HEAD_V3: tests/test_share_restore.py)."""
    z = np.asarray(z, np.float16)
    head = struct.pack(HEAD_V3, version, len(z), temperature, seed, tempo, program, backing, key, scale, len(title),
                       units, size) + title
    return base64.urlsafe_b64encode(head + z.tobytes() + detail_bytes).decode().rstrip("=")


def test_round_trip():
    d = decode_z(encode_z(Z, 0.6, 7, 96.0, 40, "Tonic chord", "Reel · bars 1-4", "Eb", "dorian"))
    assert (d["key"], d["scale"]) == ("Eb", "dorian")
    assert np.allclose(d["z"], Z, atol=2e-3)
    assert (d["temperature"], d["seed"], d["tempo"], d["program"]) == (0.6, 7, 96.0, 40)  # 0.6, not 0.6000000238
    assert d["backing"] == "Tonic chord" and d["title"] == "Reel · bars 1-4"


def test_the_chord_backings_travel_and_older_codes_keep_theirs():
    for backing in ("Chords: block", "Chords: waltz / jig (follows the meter)"):
        assert decode_z(encode_z(Z, backing=backing))["backing"] == backing
    assert decode_z(raw_code(backing=2))["backing"] == "Tonic chord"  # the indices of older codes are unchanged


def test_a_version_1_link_still_opens():
    head = struct.pack(HEAD_V1, 1, len(Z), 0.5, 3, 100.0, 40)
    code = base64.urlsafe_b64encode(head + Z.astype(np.float16).tobytes()).decode().rstrip("=")
    d = decode_z(code)
    assert np.allclose(d["z"], Z, atol=2e-3) and d["tempo"] == 100.0 and d["backing"] == "None" and d["title"] == ""


def test_a_version_2_link_still_opens():
    head = struct.pack(HEAD_V2, 2, len(Z), 0.0, 3, 100.0, 40, 1, 0, 0, 4) + b"Reel"
    code = base64.urlsafe_b64encode(head + Z.astype(np.float16).tobytes()).decode().rstrip("=")
    d = decode_z(code)
    assert np.allclose(d["z"], Z, atol=2e-3) and d["backing"] == "Drone" and d["title"] == "Reel" and d["detail"] is None


def test_an_uploads_detail_travels_exactly_as_the_explorer_rounds_it():
    code = encode_z(Z, title="x" * 200, detail=DETAIL)
    d = decode_z(code)
    assert np.array_equal(d["detail"], round_detail(DETAIL))
    assert np.abs(d["detail"] - DETAIL).max() <= np.abs(DETAIL).max() / 127  # int8 per bar: within one step
    assert len(code) < MAX_CODE_CHARS  # with the longest title, too
    assert decode_z(encode_z(Z))["detail"] is None and decode_z(encode_z(Z, detail=np.zeros((4, 128))))["detail"] is None


@pytest.mark.parametrize("units, size, payload, word", [
    (4, 128, np.full(4, np.nan, "<f2").tobytes() + bytes(512), "invalid numbers"),
    (4, 128, np.ones(4, "<f2").tobytes() + bytes(100), "length"),
    (32, 40, np.ones(32, "<f2").tobytes() + bytes(32 * 40), "length"),  # more values than a detail can have
])
def test_a_tampered_detail_is_refused_with_a_sentence(units, size, payload, word):
    with pytest.raises(UserError, match=word):
        decode_z(raw_code(units=units, size=size, detail_bytes=payload))


def test_titles_are_cleaned_and_capped():
    d = decode_z(encode_z(Z, title="Sl\u00e1n\x00 chun\n carraig " + "\u00e9" * 200))
    assert d["title"].startswith("Slán chun carraig") and "\x00" not in d["title"] and "\n" not in d["title"]
    assert len(d["title"].encode()) <= MAX_TITLE_BYTES
    with pytest.raises(UserError, match="title"):
        decode_z(raw_code(title=b"\xff\xfe"))


@pytest.mark.parametrize("fields, word", [
    ({"tempo": float("inf")}, "tempo"), ({"tempo": 0.0}, "tempo"), ({"tempo": 1e9}, "tempo"),
    ({"temperature": float("nan")}, "temperature"), ({"temperature": 1e-45}, "temperature"),
    ({"temperature": -1.0}, "temperature"), ({"temperature": float("inf")}, "temperature"),
    ({"z": np.full(64, np.inf)}, "invalid numbers"), ({"z": np.full(64, 6e4)}, "invalid numbers"),
    ({"version": 9}, "version"), ({"backing": 7}, "backing"), ({"key": 13}, "key"), ({"scale": 99}, "scale"),
])
def test_tampered_fields_are_refused_with_a_sentence(fields, word):
    with pytest.raises(UserError, match=word):
        decode_z(raw_code(**fields))


def test_damaged_and_oversized_codes():
    good = encode_z(Z)
    for code in (good[:-3], "!!!", "", good + "AAAA", "A" * 100_000):
        with pytest.raises(UserError, match="does not hold a melody"):
            decode_z(code)
    assert len(good) < MAX_CODE_CHARS
