"""Share links: every field of a code is checked, so a tampered link never leaves the page without a melody."""

import base64
import struct

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.sharecode import HEAD_V1, HEAD_V2, MAX_CODE_CHARS, MAX_TITLE_BYTES, VERSION, decode_z, encode_z

Z = np.linspace(-2, 2, 64).astype(np.float32)


def raw_code(temperature=0.0, seed=0, tempo=120.0, program=0, z=Z, version=VERSION, backing=0, key=0, scale=0,
             title=b"") -> str:
    z = np.asarray(z, np.float16)
    head = struct.pack(HEAD_V2, version, len(z), temperature, seed, tempo, program, backing, key, scale, len(title)) + title
    return base64.urlsafe_b64encode(head + z.tobytes()).decode().rstrip("=")


def test_round_trip():
    d = decode_z(encode_z(Z, 0.6, 7, 96.0, 40, "Tonic chord", "Reel · bars 1-4", "Eb", "dorian"))
    assert (d["key"], d["scale"]) == ("Eb", "dorian")
    assert np.allclose(d["z"], Z, atol=2e-3)
    assert (d["temperature"], d["seed"], d["tempo"], d["program"]) == (0.6, 7, 96.0, 40)  # 0.6, not 0.6000000238
    assert d["backing"] == "Tonic chord" and d["title"] == "Reel · bars 1-4"


def test_a_version_1_link_still_opens():
    head = struct.pack(HEAD_V1, 1, len(Z), 0.5, 3, 100.0, 40)
    code = base64.urlsafe_b64encode(head + Z.astype(np.float16).tobytes()).decode().rstrip("=")
    d = decode_z(code)
    assert np.allclose(d["z"], Z, atol=2e-3) and d["tempo"] == 100.0 and d["backing"] == "None" and d["title"] == ""


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
