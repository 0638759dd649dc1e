"""Share links: every field of a code is checked, so a tampered link never leaves the page without a melody."""

import base64
import struct

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.sharecode import MAX_CODE_CHARS, VERSION, decode_z, encode_z

Z = np.linspace(-2, 2, 64).astype(np.float32)


def raw_code(temperature=0.0, seed=0, tempo=120.0, program=0, z=Z, version=VERSION) -> str:
    z = np.asarray(z, np.float16)
    head = struct.pack("<BHfIfB", version, len(z), temperature, seed, tempo, program)
    return base64.urlsafe_b64encode(head + z.tobytes()).decode().rstrip("=")


def test_round_trip():
    d = decode_z(encode_z(Z, 0.5, 7, 96.0, 40))
    assert np.allclose(d["z"], Z, atol=2e-3) and (d["temperature"], d["seed"], d["tempo"], d["program"]) == (0.5, 7, 96.0, 40)


@pytest.mark.parametrize("fields, word", [
    ({"tempo": float("inf")}, "tempo"), ({"tempo": 0.0}, "tempo"), ({"tempo": 1e9}, "tempo"),
    ({"temperature": float("nan")}, "temperature"), ({"temperature": 1e-45}, "temperature"),
    ({"temperature": -1.0}, "temperature"), ({"temperature": float("inf")}, "temperature"),
    ({"z": np.full(64, np.inf)}, "invalid numbers"), ({"z": np.full(64, 6e4)}, "invalid numbers"),
    ({"version": 9}, "version"),
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
