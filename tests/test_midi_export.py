"""Exported MIDI opens anywhere and reads back to exactly the same tokens."""

from __future__ import annotations

import io

import mido
import numpy as np
import pretty_midi
import pytest

from vae.midi_export import (
    Track,
    concat_sections,
    notes_to_midi,
    tokens_to_midi,
    tokens_to_notes,
    tracks_to_midi,
    write_midi_bytes,
)
from vae.midi_import import extract_melodies
from vae.tokenizer import MelodyTokenizer, Note

TOK = MelodyTokenizer()


def notes(*triples):
    return [Note(*t) for t in triples]


MELODIES = {
    "scale": notes(*[(60 + p, 4 * k, 4 * k + 4) for k, p in enumerate([0, 2, 4, 5, 7, 9, 11, 12] * 2)]),
    "rests": notes((72, 0, 2), (74, 4, 6), (76, 8, 9), (77, 12, 16), (79, 20, 22), (72, 40, 44), (67, 50, 51)),
    "ends_at_window_end": notes((67, 0, 8), (69, 8, 16), (71, 16, 32), (72, 32, 64)),
    "repeated_pitch": notes((64, 0, 4), (64, 4, 8), (64, 8, 12), (64, 12, 13), (64, 13, 14), (65, 16, 64)),
    "bar_of_rest_inside": notes((60, 0, 8), (62, 8, 16), (64, 32, 40), (65, 40, 48), (67, 48, 60)),
    "piano_extremes": notes((21, 0, 1), (108, 1, 2), (21, 2, 3), (108, 63, 64)),
    "starts_after_a_rest": notes((76, 3, 7), (74, 7, 11), (72, 11, 27), (71, 30, 62)),
    "sixteenths": notes(*[(60 + (k * 7) % 24, k, k + 1) for k in range(64)]),
}


@pytest.mark.parametrize("name", list(MELODIES))
@pytest.mark.parametrize("tempo, program", [(120.0, 0), (73.5, 73)])
def test_export_then_import_gives_the_same_tokens(name, tempo, program):
    tokens = TOK.encode(MELODIES[name], 64)
    found = extract_melodies(write_midi_bytes(TOK.decode(tokens), tempo=tempo, program=program))
    best = found.best
    assert best.window_starts[0] == 0
    assert list(best.windows[0]) == list(tokens)
    assert best.program == program and best.name == "Melody"
    assert found.tempo == pytest.approx(tempo, abs=0.01) and found.time_signature == "4/4"


def test_several_windows_make_one_longer_piece():
    rows = np.stack([TOK.encode(MELODIES[k], 64) for k in ("scale", "ends_at_window_end", "rests")])
    buf = io.BytesIO()
    tokens_to_midi(rows).write(buf)
    best = extract_melodies(buf.getvalue()).best
    got = dict(zip(best.window_starts.tolist(), best.windows, strict=True))
    for k, row in enumerate(rows):
        assert list(got[64 * k]) == list(row)


def test_tokens_to_notes_and_concat_sections():
    a, b = TOK.encode(MELODIES["scale"], 64), TOK.encode(MELODIES["rests"], 64)
    assert tokens_to_notes(a) == MELODIES["scale"]
    joined = tokens_to_notes(np.stack([a, b]))
    assert joined == MELODIES["scale"] + [Note(n.pitch, n.start + 64, n.end + 64) for n in MELODIES["rests"]]
    assert concat_sections([MELODIES["scale"], MELODIES["rests"]], a.shape[0]) == joined


def test_written_file_has_a_named_track_time_signature_and_tempo(tmp_path):
    path = tmp_path / "out.mid"
    pm = notes_to_midi(MELODIES["scale"], path, tempo=90.0, program=40, velocity=100)
    assert pm.instruments[0].name == "Melody" and pm.instruments[0].program == 40
    mf = mido.MidiFile(str(path))
    msgs = [m for tr in mf.tracks for m in tr]
    assert any(m.type == "track_name" and m.name == "Melody" for m in msgs)
    assert any(m.type == "time_signature" and (m.numerator, m.denominator) == (4, 4) for m in msgs)
    assert any(m.type == "set_tempo" and round(mido.tempo2bpm(m.tempo), 3) == 90.0 for m in msgs)
    assert {m.velocity for m in msgs if m.type == "note_on" and m.velocity} == {100}
    assert mf.ticks_per_beat == 480


def test_chords_are_their_own_track_and_text_events(tmp_path):
    chords = [Note(48, 0, 16), Note(52, 0, 16), Note(55, 0, 16), Note(45, 16, 32), Note(52, 16, 32)]
    pm = notes_to_midi(MELODIES["scale"], tmp_path / "c.mid", tempo=120.0, program=73, backing=chords,
                       backing_program=24, backing_name="Chords", chords=[(0, "C"), (16, "Am")])
    back = pretty_midi.PrettyMIDI(str(tmp_path / "c.mid"))
    assert [(i.name, i.program) for i in back.instruments] == [("Melody", 73), ("Chords", 24)]
    assert sorted(n.pitch for n in back.instruments[1].notes) == sorted(n.pitch for n in chords)
    assert [(t.text, t.time) for t in back.text_events] == [("C", 0.0), ("Am", 2.0)]  # 16 steps at 120 bpm: 2 s
    # the melody reads back as the melody: the chords do not leak into it
    mel = extract_melodies(tmp_path / "c.mid")
    assert MelodyTokenizer().decode(mel.candidates[0].windows[0])[:3] == MELODIES["scale"][:3]
    assert len(pm.instruments) == 2


def test_a_band_is_one_track_a_part_drums_on_channel_10_and_lyrics(tmp_path):
    """tracks_to_midi, the one writer of several parts (bench.pop's songs and the tests' bands use it): each part a
    track in order, unnamed where asked, its own velocities, the drums on General MIDI's channel 10."""
    drums = [Note(36, s, s + 1) for s in range(0, 64, 4)]
    bass = [Note(36 + s % 7, s, s + 8) for s in range(0, 64, 8)]
    tune = MELODIES["rests"]
    path = tmp_path / "band.mid"
    tracks_to_midi([Track(drums, 0, "Drums", drums=True), Track(bass, 33, ""),
                    Track(tune, 73, "Flute", list(range(60, 60 + len(tune))))], path, tempo=100.0,
                   lyrics=[n.start for n in tune])
    mf = mido.MidiFile(str(path))
    assert len(mf.tracks) == 4  # the tempo track, then one per part
    names = [[m.name for m in tr if m.type == "track_name"] for tr in mf.tracks[1:]]
    assert names == [["Drums"], [], ["Flute"]]
    ons = [[m for m in tr if m.type == "note_on" and m.velocity] for tr in mf.tracks[1:]]
    assert {m.channel for m in ons[0]} == {9} and 9 not in {m.channel for m in ons[1] + ons[2]}
    assert [m.velocity for m in ons[2]] == list(range(60, 60 + len(tune)))  # per note, in the notes' order
    assert [m.program for m in mf.tracks[2] if m.type == "program_change"] == [33]
    assert sum(m.type == "lyrics" for tr in mf.tracks for m in tr) == len(tune)
    song = extract_melodies(path)
    assert song.tempo == pytest.approx(100.0) and "Flute" in song.candidates[0].label
    assert MelodyTokenizer().decode(song.candidates[0].windows[0]) == tune
    with pytest.raises(ValueError):
        tracks_to_midi([Track(tune, 128)])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        notes_to_midi(MELODIES["scale"], program=128)
    with pytest.raises(ValueError):
        notes_to_midi(MELODIES["scale"], tempo=0)
