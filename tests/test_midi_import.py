"""Reading messy real-world MIDI: the right melody comes first, or one clear sentence says why not."""

from __future__ import annotations

import io
import random
import struct
from collections import Counter
from pathlib import Path

import mido
import numpy as np
import pytest

from vae.errors import MidiReadError, MusicReadError, NoMelodyError
from vae.midi_import import corpus_tunes_from_midi, extract_melodies
from vae.tokenizer import MelodyTokenizer, Note
from vae.windows import clip_notes, tune_windows

# A 4-bar tune around C5, monophonic, with a rest and a tied-over bar line.
MELODY = [Note(*t) for t in [(72, 0, 4), (74, 4, 8), (76, 8, 12), (77, 12, 14), (79, 16, 24), (77, 24, 28),
                             (76, 28, 32), (74, 32, 36), (72, 36, 44), (71, 46, 48), (72, 48, 56), (79, 56, 64)]]
BASS = [Note(p, s, s + 8) for s, p in zip(range(0, 64, 8), [36, 43, 41, 43, 36, 41, 43, 36], strict=True)]
CHORDS = [Note(p + r, s, s + 8) for s, p in zip(range(0, 64, 8), [60, 65, 67, 60, 60, 65, 67, 60], strict=True)
          for r in (0, 4, 7)]
DRUMS = [Note(p, s, s + 1) for s in range(0, 64, 4) for p in (36, 42)]


def events(notes, channel=0, tpb=480, velocity=80):
    """(absolute tick, message) pairs for notes given in 16th steps."""
    q = tpb // 4
    out = []
    for n in notes:
        out.append((n.start * q, mido.Message("note_on", channel=channel, note=n.pitch, velocity=velocity)))
        out.append((n.end * q, mido.Message("note_off", channel=channel, note=n.pitch, velocity=0)))
    return out


def track(evts, name=None, programs=()):
    """A mido track from absolute-time events; note-offs sort before note-ons at the same tick."""
    head = [(0, mido.MetaMessage("track_name", name=name))] if name is not None else []
    head += [(0, mido.Message("program_change", channel=ch, program=p)) for ch, p in programs]
    order = {"note_off": 1, "note_on": 2}
    evts = head + sorted(evts, key=lambda e: (e[0], order.get(e[1].type, 0)))
    tr, now = mido.MidiTrack(), 0
    for tick, msg in evts:
        tr.append(msg.copy(time=tick - now))
        now = tick
    return tr


def save(path, tracks, tpb=480, type=1):
    mf = mido.MidiFile(type=type, ticks_per_beat=tpb)
    mf.tracks.extend(tracks)
    mf.save(str(path))
    return path


def song(path, named=True, tpb=480, melody=MELODY):
    """Drums, bass, chords and the tune, each on its own track (tune third, so order cannot pick it)."""
    name = (lambda s: s) if named else (lambda s: None)
    return save(path, [
        track([(0, mido.MetaMessage("set_tempo", tempo=500000))], name=name("Song")),
        track(events(DRUMS, 9, tpb), name("Drums")),
        track(events(BASS, 1, tpb), name("Bass"), [(1, 33)]),
        track(events(CHORDS, 2, tpb), name("Piano"), [(2, 0)]),
        track(events(melody, 3, tpb), name("Melody"), [(3, 73)]),
    ], tpb)


def smf(tracks: list[bytes], tpb=480, fmt=1) -> bytes:
    """Raw Standard MIDI File bytes from raw track bodies (for files no library would write)."""
    out = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), tpb)
    return out + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


def one_sentence(exc: Exception) -> str:
    msg = str(exc)
    assert msg.endswith(".") and msg[0].isupper() and ". " not in msg, msg
    return msg


@pytest.mark.parametrize("named", [True, False])
def test_multitrack_song_picks_the_melody_track(tmp_path, named):
    found = extract_melodies(song(tmp_path / "song.mid", named=named))
    best = found.best
    assert best.track == 4 and best.channel == 3 and best.program == 73
    assert best.notes == MELODY
    assert best.start_step == 0 and best.bars == 4 and list(best.window_starts) == [0]
    assert best.windows.shape == (1, 64) and best.windows.dtype == np.uint8
    assert list(best.windows[0]) == list(MelodyTokenizer().encode(MELODY, 64))
    assert {(c.track, c.channel) for c in found.candidates} == {(2, 1), (3, 2), (4, 3)}  # no drums
    assert any("Drums" in w for w in found.warnings)
    assert (found.tempo, found.time_signature, found.ticks_per_beat, found.num_tracks) == (120.0, "4/4", 480, 5)
    assert found.duration == pytest.approx(8.0)


def test_chord_track_keeps_its_top_note(tmp_path):
    found = extract_melodies(save(tmp_path / "chords.mid", [track(events(CHORDS, 0))]))
    assert [n.pitch for n in found.best.notes] == [p + 7 for p in [60, 65, 67, 60, 60, 65, 67, 60]]
    assert found.best.features["monophony"] == 0.0 and found.best.features["chords"] == 8


def test_held_melody_note_masks_the_accompaniment_under_it(tmp_path):
    tune = [Note(84, 0, 16), Note(83, 16, 20), Note(81, 20, 32)]
    accomp = [Note(p, s, s + 2) for s in range(0, 32, 2) for p in (60, 64)]
    found = extract_melodies(save(tmp_path / "piano.mid", [track(events(tune + accomp))]))
    assert found.best.notes == tune


def test_type0_file_with_several_channels(tmp_path):
    all_events = events(DRUMS, 9) + events(BASS, 1) + events(CHORDS, 2) + events(MELODY, 3)
    all_events.append((0, mido.Message("program_change", channel=1, program=33)))
    found = extract_melodies(save(tmp_path / "type0.mid", [track(all_events, "Everything")], type=0))
    assert found.format == 0 and found.best.channel == 3 and found.best.notes == MELODY
    assert found.best.name == "Everything (channel 4)"


def test_type2_file(tmp_path):
    path = save(tmp_path / "type2.mid", [track(events(BASS, 0)), track(events(MELODY, 0))], type=2)
    found = extract_melodies(path)
    assert found.format == 2 and found.best.track == 1 and found.best.notes == MELODY


@pytest.mark.parametrize("tpb", [96, 120, 384, 1024])
def test_any_ticks_per_beat_gives_the_same_grid(tmp_path, tpb):
    found = extract_melodies(song(tmp_path / "song.mid", tpb=tpb))
    assert found.ticks_per_beat == tpb and found.best.notes == MELODY


def test_hundreds_of_tempo_changes_do_not_move_the_grid(tmp_path):
    tempos = [(k * 7, mido.MetaMessage("set_tempo", tempo=300_000 + 997 * k)) for k in range(400)]
    found = extract_melodies(save(tmp_path / "tempi.mid", [track(tempos), track(events(MELODY))]))
    assert found.best.notes == MELODY and found.tempo == 200.0


def test_no_tempo_means_120_bpm(tmp_path):
    found = extract_melodies(save(tmp_path / "plain.mid", [track(events(MELODY))]))
    assert found.tempo == 120.0 and found.duration == pytest.approx(8.0)


def test_pickup_in_a_short_first_bar_starts_windows_on_the_first_full_bar(tmp_path):
    sigs = [(0, mido.MetaMessage("time_signature", numerator=1, denominator=4)),
            (480, mido.MetaMessage("time_signature", numerator=4, denominator=4))]
    tune = [Note(67, 0, 4)] + [Note(n.pitch, n.start + 4, n.end + 4) for n in MELODY]
    found = extract_melodies(save(tmp_path / "pickup.mid", [track(sigs), track(events(tune))]))
    best = found.best
    assert found.time_signature == "4/4"
    assert best.notes[0] == Note(67, 0, 4) and best.start_step == 4 and best.window_starts[0] == 4
    assert list(best.windows[0]) == list(MelodyTokenizer().encode(MELODY, 64))


def test_odd_and_changing_meters(tmp_path):
    sigs = [(0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
            (480 * 12, mido.MetaMessage("time_signature", numerator=21, denominator=8)),
            (480 * 54, mido.MetaMessage("time_signature", numerator=11, denominator=4))]
    tune = [Note(60 + (k * 5) % 12, 4 * k, 4 * k + 3) for k in range(60)]
    found = extract_melodies(save(tmp_path / "meters.mid", [track(sigs), track(events(tune))]))
    best = found.best
    assert found.time_signature == "3/4"
    assert best.bar_lines[:5] == [0, 12, 24, 36, 48]  # 3/4 bars
    assert 90 in best.bar_lines and 132 in best.bar_lines  # 21/8 bars of 42 steps from step 48
    assert all(b - a >= 16 for a, b in zip(best.window_starts, best.window_starts[1:], strict=False))
    assert set(best.window_starts) <= set(best.bar_lines)


def test_silence_splits_a_line_and_short_phrases_are_padded(tmp_path):
    phrase = [Note(72, 0, 4), Note(74, 4, 8), Note(76, 8, 16)]  # one bar
    later = [Note(n.pitch, n.start + 96, n.end + 96) for n in MELODY]  # after 5 bars of silence
    found = extract_melodies(save(tmp_path / "split.mid", [track(events(phrase + later))]))
    assert [(c.start_step, c.bars) for c in found.candidates] == [(96, 4), (0, 1)]  # the longer one first
    short = found.candidates[1]
    assert short.windows.shape == (1, 64) and list(short.windows[0, 16:]) == [1] + [0] * 47  # off, then rest


def test_windows_equal_clip_and_encode(tmp_path):
    rng = random.Random(3)
    notes, t = [], 0
    while t < 400:
        d = rng.choice([1, 2, 3, 4, 6, 8, 12])
        notes.append(Note(rng.randint(60, 84), t, t + d))
        t += d + rng.choice([0, 0, 0, 1, 2, 5, 16, 20]) + (40 if len(notes) % 12 == 0 else 0)
    found = extract_melodies(save(tmp_path / "random.mid", [track(events(notes))]))
    assert len(found.candidates) > 1  # split at the long rests; windows still see the whole line
    tok = MelodyTokenizer()
    checked = 0
    for c in found.candidates:
        for s, row in zip(c.window_starts, c.windows, strict=True):
            assert list(row) == list(tok.encode(clip_notes(notes, int(s), 64), 64))
            checked += 1
    assert checked > 15


def test_notes_match_pretty_midi(tmp_path):
    import pretty_midi

    path = song(tmp_path / "song.mid", tpb=384)
    pm = pretty_midi.PrettyMIDI(str(path))
    flute = next(i for i in pm.instruments if i.program == 73)
    expected = [Note(n.pitch, pm.time_to_tick(n.start) // 96, pm.time_to_tick(n.end) // 96) for n in flute.notes]
    assert extract_melodies(path).best.notes == expected


def test_karaoke_lyrics_point_at_the_sung_line(tmp_path):
    counter = [Note(n.pitch + 7, n.start + 2, n.end + 2) for n in MELODY]  # as melodic, higher, off the words
    words = [(0, mido.MetaMessage("text", text="@KMIDI KARAOKE FILE"))]
    words += [(n.start * 120, mido.MetaMessage("text", text=f"la{k} ")) for k, n in enumerate(MELODY)]
    path = save(tmp_path / "song.kar", [track(words, "Words"), track(events(counter, 1)), track(events(MELODY, 2))])
    found = extract_melodies(path)
    assert found.best.track == 2 and found.best.features["lyrics"] == 1.0
    # The same text events in an ordinary file (no karaoke header, no "Words" track) are not lyrics.
    plain = save(tmp_path / "plain.mid", [track(words[1:], "Notes"), track(events(counter, 1)), track(events(MELODY, 2))])
    assert all(c.features["lyrics"] == 0.0 for c in extract_melodies(plain).candidates)


def test_riff_wrapped_rmi(tmp_path):
    data = song(tmp_path / "song.mid").read_bytes()
    riff = b"RMID" + b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    (tmp_path / "song.rmi").write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    assert extract_melodies(tmp_path / "song.rmi").best.notes == MELODY


@pytest.mark.parametrize("name", ["SONG.MID", "Mélodie d'été 日本の歌.mid", "no extension"])
def test_file_names(tmp_path, name):
    path = song(tmp_path / name)
    found = extract_melodies(path)
    assert found.best.notes == MELODY and found.path == str(path)


def test_bytes_input_and_junk_before_the_header(tmp_path):
    data = song(tmp_path / "song.mid").read_bytes()
    assert extract_melodies(b"\0" * 128 + data).best.notes == MELODY  # MacBinary-style prefix


def _varlen(v: int) -> bytes:
    out = [v & 0x7F]
    while v > 127:
        v >>= 7
        out.insert(0, (v & 0x7F) | 0x80)
    return bytes(out)


def _with_rests(notes) -> bytes:
    """A raw track with running status, bad velocity bytes and stray 0xF4 status bytes."""
    body, now = b"", 0
    for n in notes:
        body += _varlen((n.start - now) * 120) + bytes([0x90, n.pitch, 200])  # velocity above 127
        body += b"\x00\xf4"  # undefined status byte
        body += _varlen((n.end - n.start) * 120) + bytes([0x90, n.pitch, 0])  # running status note-off
        now = n.end
    return body + b"\x00\xff\x2f\x00"


def test_corrupt_bytes_that_mido_refuses_are_repaired():
    data = smf([_with_rests(MELODY)])
    with pytest.raises((OSError, ValueError, KeyError, EOFError, IndexError)):
        mido.MidiFile(file=io.BytesIO(data))
    found = extract_melodies(data)
    assert found.best.notes == MELODY
    assert any("clipped" in w for w in found.warnings) and any("skipped" in w for w in found.warnings)


def test_a_wrong_track_length_does_not_hide_the_next_track():
    bass = b"".join(_varlen(0) + bytes([0x90, n.pitch, 64]) + _varlen((n.end - n.start) * 120) + bytes([0x80, n.pitch, 0])
                    for n in BASS) + b"\x00\xff\x2f\x00"
    tune = _with_rests(MELODY)
    data = bytearray(smf([bass, tune]))
    data[18:22] = struct.pack(">I", len(bass) + 20)  # the first track claims the next one's header
    found = extract_melodies(bytes(data))
    assert found.num_tracks == 2 and found.best.track == 1 and found.best.notes == MELODY


def test_truncated_file_keeps_the_notes_before_the_cut(tmp_path):
    data = smf([_with_rests(MELODY)])
    found = extract_melodies(data[: len(data) // 2])
    assert 0 < len(found.best.notes) < len(MELODY) and found.best.notes[0] == MELODY[0]
    assert any("truncated" in w for w in found.warnings)


@pytest.mark.parametrize("data, error, sentence", [
    (b"", MidiReadError, "The file is empty."),
    (b"Hello, this is a text file\n" * 10, MidiReadError, "This is not a MIDI file."),
    (b"MThd\0\0\0\x06\0\x01", MidiReadError, "The file ends inside its header: it is truncated."),
    (smf([b"\x00\x90\x3c"]), MidiReadError, "The file ends in the middle of a track: it is truncated."),
    (smf([_with_rests(MELODY)])[:30], MidiReadError, "The file ends in the middle of a track: it is truncated."),
    (smf([]), NoMelodyError, "The file has no notes."),
    (smf([b"\x00\xff\x03\x04Song\x00\xb0\x07\x64\x00\xff\x2f\x00"]), NoMelodyError, "The file has no notes."),
    (smf([b"\x00\x90\x3c\x40\x10\x80\x3c\x00"]), NoMelodyError, "The file has too few notes to make a melody."),
    (smf([b"\x00\xff\x2f\x00"], tpb=0), MidiReadError, "The file header gives no time resolution: it is corrupt."),
])
def test_unusable_files_give_one_clear_sentence(data, error, sentence):
    with pytest.raises(error) as info:
        extract_melodies(data)
    assert one_sentence(info.value) == sentence


def test_only_drums(tmp_path):
    with pytest.raises(NoMelodyError) as info:
        extract_melodies(save(tmp_path / "drums.mid", [track(events(DRUMS, 9))]))
    assert one_sentence(info.value) == "This file has only drum tracks."


def test_zero_byte_and_missing_files(tmp_path):
    (tmp_path / "zero.mid").write_bytes(b"")
    with pytest.raises(MidiReadError, match="The file is empty."):
        extract_melodies(tmp_path / "zero.mid")
    for path in (tmp_path / "missing.mid", tmp_path):
        with pytest.raises(MidiReadError) as info:
            extract_melodies(path)
        assert one_sentence(info.value) == "The file could not be opened."


def test_too_big_files_and_too_many_notes_are_refused_before_parsing(tmp_path):
    big = smf([_with_rests(MELODY)]) + b"\0" * (5 * 2**20)
    with pytest.raises(MidiReadError) as info:
        extract_melodies(big)
    assert one_sentence(info.value) == "The file is larger than the 5 MB limit."
    with pytest.raises(MidiReadError, match="more than 5 notes"):
        extract_melodies(smf([_with_rests(MELODY)]), max_notes=5)


def test_a_stray_event_hours_later_is_ignored():
    body = _with_rests(MELODY)[:-4] + _varlen(2**27) + b"\x90\x3c\x40\x00\x80\x3c\x00\x00\xff\x2f\x00"
    found = extract_melodies(smf([body]))
    assert found.best.notes == MELODY and any("ignored" in w for w in found.warnings)


def test_a_note_released_hours_later_and_overlong_delta_times_stay_bounded():
    held = b"\x00\x90\x3c\x40" + _varlen(2**27) + b"\x80\x3c\x00"  # released after ~8 days at 120 bpm
    body = _with_rests(MELODY)[:-4] + held + b"\xff" * 40 + b"\x7f\x90\x3e\x40\x00\xff\x2f\x00"
    found = extract_melodies(smf([body]))
    assert found.best.notes[: len(MELODY)] == MELODY
    assert found.best.end_step <= 10_000 * 16 + 16


def test_thirty_minute_piano_performance_returns(tmp_path):
    rng = np.random.default_rng(0)
    n = 14_400  # 8 chords a second for 30 minutes at 120 bpm: 57,600 notes, sustain pedal on each
    durs = rng.choice([60, 120, 180], n).tolist()
    tops, lows = rng.integers(67, 84, n).tolist(), rng.integers(40, 62, (n, 3)).tolist()
    body = bytearray(b"\x00\xc0\x00")
    for dur, top, low in zip(durs, tops, lows, strict=True):
        body += bytes([0, 0x90, top, 70, 7, low[0], 60, 7, low[1], 60, 7, low[2], 60, 0, 0xB0, 64, 127])
        body += _varlen(dur - 21) + bytes([0x80, top, 0, 0, low[0], 0, 0, low[1], 0, 0, low[2], 0, 0, 0xB0, 64, 0])
    body += b"\x00\xff\x2f\x00"
    path = tmp_path / "performance.mid"
    path.write_bytes(smf([bytes(body)]))
    found = extract_melodies(path)
    assert 1700 < found.duration < 1900 and found.best.bars > 800
    assert len(found.best.windows) == len(found.best.window_starts) > 800


def test_never_crashes_on_corrupted_files(tmp_path):
    good = song(tmp_path / "song.mid").read_bytes()
    rng = random.Random(0)
    outcomes, light = Counter(), Counter()
    for k in range(300):
        data = bytearray(good)
        cut = k % 3 == 0
        if cut:
            data = data[: rng.randrange(len(data))]
        changed = rng.randint(1, 20)
        for _ in range(changed):
            data[rng.randrange(len(data))] = rng.randrange(256) if data else 0
        try:
            extract_melodies(bytes(data))
            outcome = "melody"
        except MusicReadError as exc:
            one_sentence(exc)
            outcome = type(exc).__name__
        outcomes[outcome] += 1
        if not cut and changed <= 5:
            light[outcome] += 1
    # the reader is lenient: a whole file with a few bytes changed still gives its melody (46 of 46 here), most
    # damaged files do (229 of 300), and what cannot be read is refused with a typed error and a sentence
    assert light["melody"] == sum(light.values()) >= 30
    assert outcomes["melody"] >= 200
    assert outcomes["MidiReadError"] > 0 and outcomes["NoMelodyError"] > 0


def test_corpus_tunes_from_midi(tmp_path):
    (tmp_path / "sub").mkdir()
    path = song(tmp_path / "sub" / "song.mid")
    tunes, errors = corpus_tunes_from_midi(path, tmp_path)
    assert errors == [] and len(tunes) == 1
    tune = tunes[0]
    assert (tune.collection, tune.source, tune.meter) == ("midi", "sub/song.mid", "4/4")
    assert tune.notes == MELODY and tune.bar_lines == [0, 16, 32, 48] and tune.total_steps == 64
    assert tune.stats == {"offgrid_notes": 0, "chords": 0}
    windows, starts, _ = tune_windows(tune, 64, 16, 2)
    assert list(starts) == [0] and list(windows[0]) == list(MelodyTokenizer().encode(MELODY, 64))


@pytest.mark.parametrize("data, reason", [(b"", "unreadable MIDI"), (smf([]), "no melody"), (None, "unreadable MIDI")])
def test_corpus_tunes_from_midi_never_raises(tmp_path, data, reason):
    path = tmp_path / "bad.mid"
    if data is not None:
        path.write_bytes(data)
    tunes, errors = corpus_tunes_from_midi(path, tmp_path)
    assert tunes == [] and len(errors) == 1
    assert errors[0]["reason"] == reason and errors[0]["source"] == "bad.mid" and errors[0]["collection"] == "midi"


def _offset_song(tmp_path, name: str, melody: list[Note], offset_ticks: int) -> Path:
    """A melody and a bass on the beat, every event moved `offset_ticks` late (480 ticks per beat)."""
    bass = [Note(40 + (i % 3), 4 * i, 4 * i + 3) for i in range(melody[-1].end // 4)]
    late = lambda evts: [(tick + offset_ticks, msg) for tick, msg in evts]  # noqa: E731
    tracks = [track(late(events(melody))), track(late(events(bass, channel=1)))]
    return save(tmp_path / name, tracks)


@pytest.mark.parametrize("offset", [60, 120, 420, 30])
def test_a_file_played_a_constant_offset_late_reads_on_the_beat(tmp_path, offset):
    # POP909 song 401 sits an eighth of a beat (60 ticks of 480) late on every note, others a whole 16th;
    # the nearest 16th alone would make every note an off-beat.
    melody = [Note(60 + (i % 5), 2 * i, 2 * i + 2) for i in range(48)]  # eighth notes on the beat
    found = extract_melodies(_offset_song(tmp_path, f"late{offset}.mid", melody, offset))
    best = found.candidates[0]
    assert [n.start % 2 for n in best.notes] == [0] * len(best.notes)


def test_a_syncopated_tune_on_the_grid_keeps_its_off_beats(tmp_path):
    melody = []
    for bar in range(8):  # dotted-eighth figures: onsets on 0, 3, 6, 10, 12 of each bar (two on odd 16ths)
        melody += [Note(64, 16 * bar + s, 16 * bar + e) for s, e in [(0, 3), (3, 6), (6, 10), (10, 12), (12, 16)]]
    found = extract_melodies(_offset_song(tmp_path, "sync.mid", melody, 0))
    starts = [n.start for n in found.candidates[0].notes]
    assert starts == [n.start for n in melody]
