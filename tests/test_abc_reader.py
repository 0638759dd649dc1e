"""Quantisation edge cases of the fast ABC reader: triplets, ties, rests, pickups, chords, grace notes."""

import pytest

from vae.abc_reader import meter_steps, normalise_meter, parse_tune, pitch_name_to_midi, split_tunes
from vae.errors import EmptyTuneError
from vae.tokenizer import Note


def tune(body: str, meter: str = "4/4", length: str = "1/8"):
    return parse_tune(f"X:1\nT:Test\nM:{meter}\nL:{length}\nK:C\n{body}\n", "test", "test.abc", "1")


def test_pitch_names():
    assert pitch_name_to_midi("C4") == 60
    assert pitch_name_to_midi("F#5") == 78
    assert pitch_name_to_midi("B-4") == 70
    assert pitch_name_to_midi("En5") == 76
    assert pitch_name_to_midi("C##4") == 62


def test_meters():
    assert meter_steps("6/8") == 12 and meter_steps("C") == 16 and meter_steps("3/4") == 12
    assert meter_steps("none") is None
    assert normalise_meter("C|") == "2/2" and normalise_meter(" 6/8") == "6/8" and normalise_meter("none") == "none"


def test_plain_notes_and_rest():
    t = tune("c2 d2 z2 e2|")
    assert t.notes == [Note(72, 0, 4), Note(74, 4, 8), Note(76, 12, 16)]
    assert t.total_steps == 16 and t.title == "Test" and t.meter == "4/4"


def test_triplet_ratio_is_applied():
    t = tune("(3cde c2 d2 e2|")  # three eighths in the time of two: a quarter = 4 steps
    assert [n.start for n in t.notes] == [0, 1, 3, 4, 8, 12]
    assert t.stats["triplet_notes"] == 3 and t.stats["offgrid_notes"] == 2
    assert t.total_steps == 16


def test_ties_merge_same_pitch_only():
    t = tune("c2-c2 a-b e2|")
    assert t.notes[0] == Note(72, 0, 8)
    assert [n.pitch for n in t.notes] == [72, 81, 83, 76]


def test_chord_top_note_and_grace_skipped():
    t = tune("[CEG]2 {g}c2 d4|")
    assert t.notes[0] == Note(67, 0, 4)
    assert t.notes[1] == Note(72, 4, 8)
    assert t.stats["grace_notes"] == 1 and t.stats["chords"] == 1


def test_broken_rhythm():
    t = tune("c>d e<f c4|")
    assert [(n.start, n.end) for n in t.notes[:4]] == [(0, 3), (3, 4), (4, 5), (5, 8)]


def test_pickup_does_not_start_a_bar():
    t = tune("G|c2 d2 e2 f2|g8|")
    assert t.notes[0] == Note(67, 0, 2)
    assert t.bar_lines[:2] == [2, 18]  # bars start after the one-eighth pickup


def test_full_first_bar_starts_at_zero():
    assert tune("c2 d2 e2 f2|g8|").bar_lines[:2] == [0, 16]


def test_empty_tune_raises():
    with pytest.raises(EmptyTuneError):
        tune("z8|")


def test_split_tunes():
    parts = split_tunes("X:1\nT:a\nK:C\nc|\n\nX:2\nT:b\nK:C\nd|\n")
    assert [p[0] for p in parts] == ["1", "2"] and "T:b" in parts[1][1]
