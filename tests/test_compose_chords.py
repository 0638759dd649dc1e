"""Compose over typed chords (ComposeActions.compose with play.progression): every section's beat notes are moved
onto the chords its backing plays (the typed line from the top of every section), the sections held note for note by
the model, and "Regenerate this section" draws the new section over them too. A 16-bar piece through three held-out
corpus melodies of the shipped model (the tiny model composes silence at temperature 0)."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from explorer.latent.generation import detail_row
from explorer.media.audio import read_wav
from explorer.media.files import EXPORT_RATE, Playback
from explorer.session.compose import PIECE_METER, kept, sections_chord_note
from vae.chords import ChordError
from vae.harmony import melody_fit

PROGRESSIONS = ("Am F C G", "| C | G | Am | F |", "| D | G A | Bm | A7 |", "I vi ii7 V7 in Bb")


@pytest.fixture(scope="module")
def h(shipped_handlers):
    return shipped_handlers  # built once per test session (conftest)



@pytest.fixture(scope="module")
def plain(h, shipped_waypoints):
    return h.compose(shipped_waypoints, 16, Playback(), "through")


def _share(h, notes, play):
    """Strong-beat chord-tone share of a piece's notes over the chords its backing plays."""
    return melody_fit(notes, h.files.chords(notes, play, PIECE_METER), PIECE_METER)


@pytest.mark.parametrize("line", PROGRESSIONS)
def test_piece_over_typed_chords_lands_on_them(h, shipped_waypoints, plain, line):
    play = Playback(progression=line)
    piece = h.compose(shipped_waypoints, 16, play, "through")
    assert piece["sections"] == len(plain["z"]) == 4
    before, after = _share(h, plain["notes"], play), _share(h, piece["notes"], play)
    assert after >= 0.9 and after >= before + 0.25, (line, before, after)
    assert piece["chord_note"] == ""  # four bars (or one repeated) fill a 4-bar section

    # what was scored is what is heard: the piece's notes are its sections' tokens, each section's z and detail
    # decode to it, and the MIDI's melody and the WAV are those notes
    s = h.s
    assert piece["notes"] == s.notes(piece["tokens"].reshape(-1))
    for i in range(piece["sections"]):
        again = s.decode(piece["z"][i], 0.0, None, detail_row(piece["detail"], i))
        assert s.notes(again) == s.notes(piece["tokens"][i]), (line, i)
    melody = pretty_midi.PrettyMIDI(piece["midi"]).instruments[0].notes
    step = 60 / play.tempo / 4  # seconds per 16th
    assert [(n.pitch, round(n.start / step)) for n in melody] == [(n.pitch, n.start) for n in piece["notes"]]
    wav, _ = read_wav(piece["wav"])
    heard, _ = read_wav(h.files.write_audio(piece["notes"], play, "scored", PIECE_METER, EXPORT_RATE))
    assert np.array_equal(wav, heard)


def test_without_chords_the_piece_is_as_before(h, shipped_waypoints, plain):
    again = h.compose(shipped_waypoints, 16, Playback(progression="  "), "through")
    assert np.array_equal(again["tokens"], plain["tokens"]) and again["chord_note"] == ""


@pytest.mark.parametrize("line, word", [("Am Hx F G", "Hx"), ("| C | Fmaj13 | G |", "Fmaj13")])
def test_a_bad_chord_line_gets_one_sentence(h, shipped_waypoints, plain, line, word):
    with pytest.raises(ChordError) as err:
        h.compose(shipped_waypoints, 16, Playback(progression=line), "through")
    msg = str(err.value)
    assert word in msg and msg.count("\n") == 0 and msg.rstrip().endswith(".")
    st = shipped_waypoints.but(piece=kept(plain))
    with pytest.raises(ChordError, match=word):
        h.regenerate_section(st, 2, Playback(progression=line), seed=1)


def test_a_line_longer_or_shorter_than_a_section_is_said(h, shipped_waypoints):
    piece = h.compose(shipped_waypoints, 16, Playback(progression="| C | Am | F | G | C | F | G7 | C |"), "through")
    assert "bars 5-8 are left out" in piece["chord_note"]
    assert "repeat from the top" in sections_chord_note(2, 4)
    assert sections_chord_note(4, 4) == ""


@pytest.mark.parametrize("section, keep", [(2, ()), (3, (0,))])
def test_regenerating_a_section_over_chords_keeps_the_others(h, shipped_waypoints, section, keep):
    play = Playback(progression="Am F C G")
    piece = h.compose(shipped_waypoints, 16, play, "through")
    st = shipped_waypoints.but(piece=kept(piece))
    st2, new = h.regenerate_section(st, section, play, seed=3, keep_bars=keep)
    i = section - 1
    steps = h.s.format.window_steps
    for k in range(piece["sections"]):
        if k != i:
            assert np.array_equal(new["tokens"][k], piece["tokens"][k]), k
            assert np.array_equal(new["z"][k], piece["z"][k])
    assert not np.array_equal(new["tokens"][i], piece["tokens"][i])
    notes = h.s.notes(new["tokens"][i])
    chords = h.files.chords(notes, play, PIECE_METER)
    assert melody_fit(notes, chords, PIECE_METER) >= 0.9
    bar = h.s.format.steps_per_bar
    for b in keep:  # a kept bar's notes are as they were
        old = [n for n in h.s.notes(piece["tokens"][i]) if n.start // bar == b]
        assert [n for n in notes if n.start // bar == b] == old
    # the section as the piece now plays it, and as its z and detail bring it back
    assert new["notes"][0].start < steps * piece["sections"]
    again = h.s.decode(new["z"][i], 0.0, None, detail_row(new["detail"], i))
    assert h.s.notes(again) == notes
    assert np.array_equal(st2.piece.tokens, new["tokens"])
