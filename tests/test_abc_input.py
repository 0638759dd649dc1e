"""Your own notes in, without a MIDI file: ABC typed or pasted becomes the current melody like an upload."""

from __future__ import annotations

import pytest

from explorer.media.files import Playback
from explorer.session.handlers import Handlers
from explorer.session.state import new_state
from vae.abc_reader import read_abc_text
from vae.errors import MusicReadError

REEL = "X:1\nT:My reel\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dedB dedB|c2ec B2dB|c2A2 A2BA:|\n"


def test_a_full_abc_tune_reads_with_its_key_and_meter():
    tune = read_abc_text(REEL)
    assert tune.title == "My reel" and tune.meter == "4/4"
    assert [n.pitch for n in tune.notes[:4]] == [67, 69, 71, 72]  # G A B c
    assert tune.notes[1].start - tune.notes[0].start == 2  # eighth notes (L:1/8) are two 16ths


def test_one_line_abc_without_headers_works_too():
    one_line = read_abc_text("X:1 K:G |:GABc dedB|dedB dedB|")
    assert [n.pitch for n in one_line.notes[:5]] == [67, 69, 71, 72, 74]
    bare = read_abc_text("CDEF GABc|")  # no X:, no K: -> C major; L: defaults to 1/8
    assert [n.pitch for n in bare.notes] == [60, 62, 64, 65, 67, 69, 71, 72]
    d_major = read_abc_text("K:D\nFGAB|")  # the key signature applies: F and C are sharp in D
    assert [n.pitch % 12 for n in d_major.notes] == [6, 7, 9, 11]


@pytest.mark.parametrize("text, words", [("", "ABC notation"), ("   ", "ABC notation"), ("X:1\nT:x\nK:G\n", "no notes"),
                                         ("K:G\n" + "G" * 30_000, "20,000")])
def test_bad_abc_gets_a_sentence(text, words):
    with pytest.raises(MusicReadError, match=words):
        read_abc_text(text)


def test_typed_abc_becomes_the_current_melody_like_an_upload(tiny_services, tmp_path):
    h = Handlers(tiny_services, out_dir=tmp_path)
    st = h.read_abc(new_state(), REEL * 1)
    up = st.upload
    assert up.name == "My reel" and up.meter == "4/4" and len(up.candidates) == 1
    st, r, info = h.choose_upload(st, 0, 0, Playback())
    tune = read_abc_text(REEL)
    assert [(n.pitch, n.start) for n in info["extracted"]] == [(n.pitch, n.start) for n in tune.notes if n.start < 64]
    assert st.z is not None and st.title.startswith("My reel")
    assert 0.0 <= info["fidelity"]["fitted"] <= 1.0 and info["fidelity"]["fitted"] >= info["fidelity"]["encoder"]
