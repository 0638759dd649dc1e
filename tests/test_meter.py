"""The melody's own meter everywhere: bar lines, bar numbers, accents, backing and the MIDI time signature."""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest
from conftest import notes

from explorer.media import figures
from vae.meter import ACCENTS, Meter, backing_notes
from vae.midi_export import notes_to_midi
from vae.midi_import import extract_melodies

JIG = notes(*[(62 + (k % 5), 2 * k, 2 * k + 2) for k in range(32)])  # 32 eighths = 64 steps


@pytest.mark.parametrize("text, bar, beat", [("4/4", 16, 4), ("6/8", 12, 6), ("3/4", 12, 4), ("9/8", 18, 6),
                                             ("2/2", 16, 8), ("7/8", 14, 2), ("C", 16, 4), ("none", 16, 4),
                                             ("5/3", 16, 4), ("", 16, 4)])
def test_parse_bar_and_beat(text, bar, beat):
    m = Meter.parse(text)
    assert (m.bar_steps, m.beat_steps) == (bar, beat)


def test_a_window_of_a_jig_spans_five_and_a_third_bars():
    m = Meter.parse("6/8")
    assert m.span(0, 64) == "bars 1-6" and m.span(12, 64) == "bars 2-7" and m.span(0, 12) == "bar 1"
    assert Meter().span(0, 64) == "bars 1-4"
    assert m.velocities([0, 6, 3, 12, 18, 1]).tolist() == [ACCENTS[0], ACCENTS[1], ACCENTS[2], ACCENTS[0],
                                                             ACCENTS[1], ACCENTS[2]]


def test_piano_roll_draws_the_meter():
    fig = figures.piano_roll(JIG, 64, meter="6/8")
    assert fig["layout"]["xaxis"]["range"] == [0, pytest.approx(64 / 12)]
    bar_lines = [s["x0"] for s in fig["layout"]["shapes"] if s["line"]["color"] == "rgba(0,0,0,0.25)"]
    assert bar_lines == [0, 1, 2, 3, 4, 5]
    assert fig["layout"]["xaxis"]["ticktext"] == ["1", "2", "3", "4", "5"]
    assert "bar 2 beat 1" in fig["data"][-1]["text"][3 * 6]  # the 7th eighth opens bar 2


def test_midi_export_keeps_meter_accents_and_backing(tmp_path):
    path = tmp_path / "jig.mid"
    back = backing_notes(JIG, "chord", tonic=2, minor=False, meter=Meter.parse("6/8"))
    assert {n.start for n in back} == {0, 12, 24, 36, 48, 60} and max(n.end for n in back) == 64
    notes_to_midi(JIG, path, tempo=100, meter="6/8", backing=back, backing_program=24, backing_name="Backing")
    pm = pretty_midi.PrettyMIDI(str(path))
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (6, 8)
    melody, backing = pm.instruments
    assert backing.name == "Backing" and backing.program == 24 and len(backing.notes) == len(back)
    vels = [n.velocity for n in sorted(melody.notes, key=lambda n: n.start)]
    assert vels[0] == ACCENTS[0] and vels[3] == ACCENTS[1] and vels[1] == ACCENTS[2] and len(set(vels)) == 3
    # read back: the melody is still found first, in 6/8, with the same notes
    found = extract_melodies(path)
    assert found.time_signature == "6/8" and found.best.notes == JIG
    assert mido.MidiFile(str(path)).tracks  # opens in mido too


def test_upload_bar_numbers_agree_between_menus(tmp_path):
    # 3/4 for 40 bars, melody from bar 9 on: candidate label and window labels count the same bars
    line = notes(*[(60 + k % 7, 96 + 4 * k, 96 + 4 * k + 4) for k in range(96)])
    path = tmp_path / "waltz.mid"
    notes_to_midi(line, path, meter="3/4")
    c = extract_melodies(path).best
    first_bar = int(c.label.split("(bars ")[1].split("-")[0])
    assert first_bar == 9
    assert c.window_labels[0].startswith(f"bars {first_bar}-")
    assert c.window_labels[0] == "bars 9-14"  # 64 steps of 12-step bars touch 6 bars
    last = int(c.label.rstrip(")").split("-")[1])
    assert int(c.window_labels[-1].split("-")[1]) <= last + 1
    assert np.all(np.diff(c.window_starts) >= 16)
