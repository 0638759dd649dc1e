"""A share link restores everything the page showed: title (a name given), meter, slider positions, typed chords,
count-in and Loop; codes of the earlier versions still open."""

from __future__ import annotations

import base64
import struct

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.media.files import Playback
from explorer.session import history
from explorer.session.sharecode import HEAD_V3, HEAD_V4, MAX_CODE_CHARS, decode_z, encode_z
from explorer.session.state import new_state

Z = np.linspace(-2, 2, 64).astype(np.float32)
SLIDERS = np.linspace(-2.5, 2.7, 16).astype(np.float32) + np.float32(1e-4)  # not on the 0.05 grid: kept exactly
PLAY = Playback("Flute", 96.0, 1.0, 7, "Chords: block", count_in=True, progression="Am F C G")


def test_every_page_setting_travels():
    code = encode_z(Z, 0.6, 7, 96.0, 73, "Chords: block", "My reel", "D", "dorian", meter="6/8", sliders=SLIDERS,
                    chords="| Am | F G | C |", loop=True, count_in=True)
    d = decode_z(code)
    assert (d["meter"], d["chords"], d["loop"], d["count_in"]) == ("6/8", "| Am | F G | C |", True, True)
    assert d["sliders"].dtype == np.float32 and np.array_equal(d["sliders"], SLIDERS)  # exactly as set
    assert d["title"] == "My reel" and (d["key"], d["scale"], d["backing"]) == ("D", "dorian", "Chords: block")
    plain = decode_z(encode_z(Z))
    assert (plain["meter"], plain["sliders"], plain["chords"], plain["loop"], plain["count_in"]) == (
        "4/4", None, "", False, False)


def test_the_longest_code_fits():
    code = encode_z(Z, title="é" * 200, chords="Am " * 200, sliders=np.zeros(16), meter="12/8",
                    detail=np.random.default_rng(0).normal(0, 0.4, (4, 128)))
    assert len(code) < MAX_CODE_CHARS and decode_z(code)["meter"] == "12/8"


def test_a_version_3_link_still_opens_with_the_defaults():
    title = b"Reel"
    head = struct.pack(HEAD_V3, 3, len(Z), 0.5, 3, 100.0, 40, 1, 0, 0, len(title), 0, 0) + title
    d = decode_z(base64.urlsafe_b64encode(head + Z.astype(np.float16).tobytes()).decode().rstrip("="))
    assert d["title"] == "Reel" and d["backing"] == "Drone" and np.allclose(d["z"], Z, atol=2e-3)
    assert (d["meter"], d["sliders"], d["chords"], d["loop"], d["count_in"]) == ("4/4", None, "", False, False)


def raw_v4(flags=0, num=0, den=0, sliders=b"", k=0, chords=b"") -> str:
    head = struct.pack(HEAD_V4, 4, len(Z), 0.0, 0, 120.0, 0, 0, 0, 0, 0, 0, 0, flags, num, den, k, len(chords))
    return base64.urlsafe_b64encode(head + chords + Z.astype(np.float16).tobytes() + sliders).decode().rstrip("=")


@pytest.mark.parametrize("fields, word", [
    ({"num": 7, "den": 3}, "meter"), ({"num": 0, "den": 0, "flags": 9}, "settings"),
    ({"sliders": np.full(16, np.nan, "<f4").tobytes(), "k": 16}, "invalid numbers"),
    ({"sliders": bytes(12), "k": 16}, "length"), ({"sliders": bytes(4 * 99), "k": 99}, "length"),
    ({"chords": b"Am Xyz7 C"}, "chords"), ({"chords": b"\xff\xfe"}, "chords"),
])
def test_tampered_new_fields_are_refused_with_a_sentence(fields, word):
    assert decode_z(raw_v4())["meter"] == "4/4"  # the helper makes a good code
    with pytest.raises(UserError, match=word) as refused:
        decode_z(raw_v4(**fields))
    assert str(refused.value).startswith("this link")


def test_the_page_comes_back_as_it_was_shared(h, small_corpus):
    """A 6/8 tune, moved by a slider (steered: z lands near the values, so z alone shows others), named, with
    typed chords, count-in and Loop: the link brings back every one, and the same link again."""
    row = next(i for i in range(0, len(small_corpus.tokens), 5) if h.s.window(i)["meter"] == "6/8")
    st, r0 = h.load_window(new_state(), row, PLAY)
    assert st.meter == "6/8"
    values = list(r0.sliders)
    values[2] = 2.5 if values[2] < 1 else -2.5
    st, r = h.set_sliders(st, values, PLAY)
    st = h.star(history.record(st), name="My jig").but(move="", loop=True)  # as the page's Name box and Loop checkbox leave it
    r = h.render(st, PLAY)
    own = [round(float(v), 2) for v in np.clip(h.s.sliders_of(st.z), -3, 3)]
    assert own != r.sliders  # z alone shows other slider values: the case the link must carry
    back, r2, play = h.from_share_code(new_state(), r.share_code, Playback())
    assert r2.title == "My jig" and back.meter == "6/8" and back.loop
    assert r2.sliders == r.sliders and r2.sliders[2] == values[2]
    assert (play.progression, play.count_in, play.instrument, play.accompaniment) == (
        "Am F C G", True, "Flute", "Chords: block")
    assert np.array_equal(r2.tokens, r.tokens) and r2.chord_line == r.chord_line
    assert r2.share_code == r.share_code  # the restored page shares the same link
    # and a move from there starts where the sharer's sliders were: the other sliders stay put
    moved = list(r2.sliders)
    moved[0] = 0.0 if abs(moved[0]) > 0.5 else 1.5
    _, r3 = h.set_sliders(back, moved, play)
    assert [v for i, v in enumerate(r3.sliders) if i] == [v for i, v in enumerate(r2.sliders) if i]
