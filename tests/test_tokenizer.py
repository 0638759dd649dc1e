"""Tokenizer round trips with hand-written expected tokens."""

import numpy as np
import pytest
from conftest import notes

from vae.constants import HOLD, NOTE_OFF, VOCAB_SIZE, pitch_to_token, token_to_pitch
from vae.tokenizer import MelodyTokenizer, Note

TOK = MelodyTokenizer()
C4, E4, G4 = 41, 45, 48  # note-on tokens of MIDI 60, 64, 67


def test_constants():
    assert VOCAB_SIZE == 90
    assert pitch_to_token(21) == 2 and pitch_to_token(108) == 89
    assert token_to_pitch(C4) == 60
    with pytest.raises(ValueError):
        pitch_to_token(20)
    with pytest.raises(ValueError):
        token_to_pitch(HOLD)


@pytest.mark.parametrize("melody, expected", [
    # three notes and a rest: note-off only where silence follows
    (notes((60, 0, 4), (64, 4, 8), (67, 12, 16)),
     [C4, 0, 0, 0, E4, 0, 0, 0, NOTE_OFF, 0, 0, 0, G4, 0, 0, 0]),
    # leading rest is plain hold; a note ending before the window end gets an off
    (notes((60, 2, 3)), [0, 0, C4, NOTE_OFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    # repeated pitch: a new note-on, no off between
    (notes((60, 0, 8), (60, 8, 16)), [C4, 0, 0, 0, 0, 0, 0, 0, C4, 0, 0, 0, 0, 0, 0, 0]),
])
def test_encode_expected_and_round_trip(melody, expected):
    tokens = TOK.encode(melody, 16)
    assert tokens.tolist() == expected
    assert TOK.decode(tokens) == melody


def test_chord_keeps_top_note_and_overlap_is_cut():
    tokens = TOK.encode(notes((60, 0, 4), (67, 0, 4), (64, 0, 4), (62, 2, 6)), 8)
    assert tokens.tolist() == [G4, 0, pitch_to_token(62), 0, 0, 0, NOTE_OFF, 0]
    assert TOK.decode(tokens) == [Note(67, 0, 2), Note(62, 2, 6)]


def test_notes_past_window_are_cut_and_default_length():
    tokens = TOK.encode(notes((60, 0, 4), (64, 6, 20)), 8)
    assert tokens.tolist() == [C4, 0, 0, 0, NOTE_OFF, 0, E4, 0]
    assert len(TOK.encode(notes((60, 0, 4), (64, 6, 20)))) == 20


def test_decode_rejects_bad_tokens_and_describe():
    with pytest.raises(ValueError):
        TOK.decode([C4, 95])
    assert TOK.describe([C4, HOLD, NOTE_OFF]) == ["C4", "hold", "off"]


def test_random_round_trip():
    rng = np.random.default_rng(0)
    for _ in range(50):
        t = 0
        mel = []
        while t < 64:
            if rng.random() < 0.2:
                t += int(rng.integers(1, 4))
                continue
            d = int(rng.integers(1, 8))
            mel.append(Note(int(rng.integers(40, 90)), t, min(t + d, 64)))
            t += d
        assert TOK.decode(TOK.encode(mel, 64)) == mel
