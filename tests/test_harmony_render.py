"""Harmony in every render (explorer.session.handlers): a chord backing's chords on the result, in the audio, as the MIDI
file's "Chords" track and text events, above the piano roll and in the title line; none of it when it is off."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest
from conftest import busy_train_window

from explorer.media.audio import ACCOMP_PROGRAMS, read_wav
from explorer.media.files import ACCOMPANIMENTS, CHORD_BACKINGS, Playback
from explorer.session.handlers import Handlers
from explorer.session.sharecode import BACKINGS, decode_z
from explorer.session.state import new_state
from vae.chords import parse_chord
from vae.harmony import backing, chord_line, dance_pattern, harmonise
from vae.meter import Meter
from vae.tokenizer import Note

SAMPLED = Playback(temperature=1.0, seed=3)  # the tiny model's greedy melodies are mostly silent
BLOCK = Playback(temperature=1.0, seed=3, accompaniment="Chords: block")


@pytest.fixture(scope="module")
def loaded(h, small_corpus):
    """The busy training window (a 2/4 tune: its bars are not the grid's) as the current melody."""
    return h.load_window(new_state(), busy_train_window(small_corpus), SAMPLED)[0]


def steps_of(seconds: float, tempo: float) -> int:
    return int(round(seconds / (60.0 / tempo / 4)))


def chord_at(chords, step):
    return next((parse_chord(name) for s, e, name in chords if s <= step < e), None)


def check_chords(r, meter: str, total: int = 64) -> None:
    """The render's chords: known symbols, one after another from step 0 to the end of the last note's bar."""
    assert r.chords and r.notes
    starts = [s for s, _, _ in r.chords]
    assert starts[0] == 0 and all(e == s2 for (_, e, _), s2 in zip(r.chords, starts[1:], strict=False))
    bar = Meter.parse(meter).bar_steps
    last = max(n.end for n in r.notes)
    assert r.chords[-1][1] == min(-(-last // bar) * bar, total)
    for _, _, name in r.chords:
        parse_chord(name)  # a symbol the chord parser reads back


@pytest.mark.parametrize("menu", list(CHORD_BACKINGS))
def test_a_chord_backing_harmonises_plays_and_exports_the_melody(h, loaded, menu):
    play = Playback(temperature=1.0, seed=3, accompaniment=menu)
    r, off = h.render(loaded, play), h.render(loaded, SAMPLED)
    assert r.notes == off.notes  # the melody itself is untouched
    check_chords(r, loaded.meter)
    # the chords are the harmoniser's, in the melody's meter
    expected = harmonise(r.notes, meter=loaded.meter)
    assert [(s, name) for s, _, name in r.chords] == [(s, str(c)) for s, _, c in expected if s < r.chords[-1][1]]
    assert r.chord_line == chord_line([(s, e, parse_chord(n)) for s, e, n in r.chords], loaded.meter)
    assert r.chord_line.count("|") >= 2
    # the MIDI file: the melody as without harmony, then a "Chords" track of chord tones
    pm, plain = pretty_midi.PrettyMIDI(r.midi_path), pretty_midi.PrettyMIDI(off.midi_path)
    assert [i.name for i in pm.instruments] == ["Melody", "Chords"] and len(plain.instruments) == 1
    assert pm.instruments[1].program == ACCOMP_PROGRAMS["chords"]
    assert [(n.pitch, n.start) for n in pm.instruments[0].notes] == [(n.pitch, n.start) for n in plain.instruments[0].notes]
    tempo = play.tempo
    chord_notes = pm.instruments[1].notes
    assert chord_notes
    for n in chord_notes:
        c = chord_at(r.chords, steps_of(n.start, tempo))
        assert c is not None and n.pitch % 12 in c.pitch_classes, (n, c)
    # every chord of the span is sounded by the backing (its root at least)
    for s, _, name in r.chords:
        sounded = {n.pitch % 12 for n in chord_notes if s <= steps_of(n.start, tempo) < s + 16}
        assert parse_chord(name).root in sounded
    assert [(steps_of(t.time, tempo), t.text) for t in pm.text_events] == [(s, name) for s, _, name in r.chords]
    # the backing's pattern: the meter's dance for the last entry
    pattern = dance_pattern(loaded.meter) if CHORD_BACKINGS[menu] == "dance" else CHORD_BACKINGS[menu]
    want = backing([(s, e, parse_chord(n)) for s, e, n in r.chords], pattern, loaded.meter,
                   melody_low=min(n.pitch for n in r.notes))
    assert len(chord_notes) == len(want)
    # the audio: the backing is heard
    a, _ = read_wav(r.wav_path)
    b, _ = read_wav(off.wav_path)
    size = max(len(a), len(b))
    diff = np.pad(a, (0, size - len(a))).astype(float) - np.pad(b, (0, size - len(b)))
    assert np.sqrt(np.mean(diff ** 2)) > 100
    # the piano roll: one annotation per chord, at its start, above the notes; the traces are as without harmony
    notes = [a for a in r.figure["layout"]["annotations"] if a["name"] == "chord"]
    bar = Meter.parse(loaded.meter).bar_steps
    assert [(a["x"], a["text"]) for a in notes] == [(s / bar, name) for s, _, name in r.chords]
    assert all(a["yref"] == "paper" and a["y"] >= 1 for a in notes)
    assert [t["name"] for t in r.figure["data"]] == [t["name"] for t in off.figure["data"]]


def test_harmony_off_leaves_the_render_as_it_was(h, loaded):
    for menu in ("None", "Drone", "Tonic chord"):
        r = h.render(loaded, Playback(temperature=1.0, seed=3, accompaniment=menu))
        assert r.chords == [] and r.chord_line == ""
        assert not [a for a in r.figure["layout"].get("annotations", []) if a["name"] == "chord"]  # padlocks only
        pm = pretty_midi.PrettyMIDI(r.midi_path)
        assert pm.text_events == [] and "Chords" not in [i.name for i in pm.instruments]
    assert h.files.chords(h.render(loaded, SAMPLED).notes, SAMPLED, loaded.meter) == []


def test_chords_follow_the_key_the_melody_is_played_in(h, loaded):
    r = h.render(loaded, BLOCK)
    up = h.render(loaded, Playback(temperature=1.0, seed=3, accompaniment="Chords: block", key="F#"))
    shift = (up.notes[0].pitch - r.notes[0].pitch) % 12
    assert shift and all((b.pitch - a.pitch) % 12 == shift for a, b in zip(r.notes, up.notes, strict=True))
    assert len(up.chords) == len(r.chords)
    for (s1, _, a), (s2, _, b) in zip(r.chords, up.chords, strict=True):
        ca, cb = parse_chord(a), parse_chord(b)
        assert s1 == s2 and cb.quality == ca.quality and (cb.root - ca.root) % 12 == shift


def test_a_drag_preview_and_its_finish_carry_the_chords(h, loaded):
    values = list(np.clip(h.s.sliders_of(loaded.z), -3, 3) + 0.5)
    st, preview = h.set_sliders(loaded, values, BLOCK, preview=True)
    assert preview.chords and preview.midi_path == ""
    assert [a["text"] for a in preview.figure["layout"]["annotations"]
            if a["name"] == "chord"] == [n for _, _, n in preview.chords]
    assert preview.timings_ms["harmony"] >= 0
    done = h.finish(st, BLOCK)
    assert done.chords == preview.chords and done.chord_line == preview.chord_line
    assert [i.name for i in pretty_midi.PrettyMIDI(done.midi_path).instruments] == ["Melody", "Chords"]
    st2, full = h.set_sliders(loaded, values, BLOCK)
    assert full.chords == preview.chords


def test_blends_and_pieces_harmonise_each_section(h, loaded, small_corpus):
    st = h.set_slot(loaded, "A")
    st = h.set_slot(h.load_window(st, busy_train_window(small_corpus, after=500), SAMPLED)[0], "B")
    b = h.blend(st, 3, BLOCK)
    pm = pretty_midi.PrettyMIDI(b["midi"])
    assert [i.name for i in pm.instruments] == ["Melody", "Chords"]
    starts = [steps_of(t.time, BLOCK.tempo) for t in pm.text_events]
    sounding = [k for k, ns in enumerate(b["notes"]) if ns]
    assert {s // 64 for s in starts} == set(sounding) and 0 in starts
    assert all(k * 64 in starts for k in sounding)  # each section starts its own harmonisation
    st = h.add_waypoint(h.add_waypoint(st.but(waypoints=(), z=st.slots["A"].z)).but(z=st.slots["B"].z))
    c = h.compose(st, 8, BLOCK)
    pm = pretty_midi.PrettyMIDI(c["midi"])
    assert [i.name for i in pm.instruments] == ["Melody", "Chords"] and pm.text_events


def test_the_harmony_setting_travels_in_the_share_code(h, loaded):
    assert BACKINGS == tuple(ACCOMPANIMENTS)  # the share code's backings are the menu, in its order
    play = Playback(temperature=1.0, seed=3, accompaniment="Chords: bass and chord", tempo=96)
    r = h.render(loaded, play)
    assert decode_z(r.share_code)["backing"] == "Chords: bass and chord"
    st, r2, play2 = h.from_share_code(new_state(), r.share_code, SAMPLED)
    assert play2.accompaniment == "Chords: bass and chord"
    assert st.meter == loaded.meter and r2.chords == r.chords  # the link carries the meter: the same chords


def test_the_title_line_shows_the_chords_outside_the_bold_title(h, loaded):
    from explorer.ui.common import Page

    r = h.render(loaded, BLOCK)
    title = Page.title_line(r)
    bold, _, rest = title.rpartition("**")
    assert "chords: " in rest and "chords" not in bold and "\n" not in title
    assert rest.endswith(r.chord_line.replace("|", "\\|").replace("#", "\\#"))
    assert "chords" not in Page.title_line(h.render(loaded, SAMPLED))


def test_silence_gets_no_chords(h, loaded):
    assert h.files.chords([], BLOCK) == [] and h.files.backing([], BLOCK) == ([], 0, "")
    notes = [Note(60, 0, 4), Note(64, 4, 8), Note(67, 8, 16)]
    chords = h.files.chords(notes, BLOCK)
    assert [(s, e) for s, e, _ in chords] == [(0, 16)]  # to the end of the last note's bar, no further


def test_your_chords_are_played_and_the_melody_can_be_fitted_to_them(tiny_services):
    """A typed progression replaces the harmoniser's chords (heard as block chords even with no chord backing
    picked, bar by bar, in the MIDI file's Chords track); 'Fit the melody to my chords' keeps a candidate whose
    strong beats sit on the chords at least as well as the melody did; a bad line gets a sentence."""
    from explorer.media.files import Playback
    from explorer.session.state import new_state
    from vae.chords import chord_name
    from vae.errors import MusicReadError
    from vae.harmony import melody_fit

    h = Handlers(tiny_services)
    play = Playback(temperature=1.0, seed=3, progression="Am F C G")  # the tiny model's greedy melodies are silent
    st, r = next((s, r) for w in range(0, 400, 7) for s, r in [h.load_window(new_state(), w, play)] if r.notes)
    assert [c for _, _, c in r.chords][:4] == ["Am", "F", "C", "G"] and r.chords[0][0] == 0
    back, program, track = h.files.backing(r.notes, play, st.meter)
    assert track == "Chords" and back  # heard, though the backing menu says None
    fitted, r2, info = h.fit_to_chords(st, play)
    assert info["after"] >= info["before"] and info["candidates"] > 1
    heard = h.s.notes(h.s.decode(fitted.z, 0.0, None, fitted.detail))  # the steering scores greedy decodes
    assert not heard or abs(melody_fit(heard, h.files.chords(heard, play, fitted.meter), fitted.meter) - info["after"]) < 1e-9
    if info["changed"]:
        assert fitted.made_by == "Fit to your chords" and not np.array_equal(fitted.z, st.z)
    with pytest.raises(MusicReadError):
        h.fit_to_chords(st, Playback(progression="Am Q7 C"))
    assert chord_name  # the symbols above come from vae.chords.chord_name
