"""On an orchestral score the melody pick prefers a line that runs through the piece to a short solo: a real
string quartet movement from the music21 corpus (Haydn op. 74 no. 1, first movement) written to MIDI, with a
clarinet's 4-bar phrase added in the middle, as in an orchestral file where the woodwinds play a few bars."""

from __future__ import annotations

import pytest

from vae.melody_pick import CARRIES_SONG, FRAGMENT_WEIGHT, line_score
from vae.midi_import import extract_melodies

# quarter and eighth notes, stepwise, in the clarinet's singing register: everything a sung line looks like
PHRASE = [(67, 1), (69, .5), (71, .5), (72, 1), (71, 1), (69, 1), (67, .5), (66, .5), (67, 2),
          (71, 1), (72, .5), (74, .5), (76, 1), (74, 1), (72, 1), (71, 1), (69, 2)]


def with_clarinet_phrase(src, dst, bar: int = 60):
    """The MIDI file `src` with one more track: a clarinet (program 72) playing PHRASE from 4/4 bar `bar`."""
    import mido

    mid = mido.MidiFile(src)
    tpb = mid.ticks_per_beat
    tr = mido.MidiTrack([mido.MetaMessage("track_name", name="Clarinet in Bb", time=0),
                         mido.Message("program_change", channel=5, program=71, time=0)])
    wait = bar * 4 * tpb
    for pitch, beats in PHRASE:
        tr.append(mido.Message("note_on", channel=5, note=pitch, velocity=80, time=wait))
        tr.append(mido.Message("note_off", channel=5, note=pitch, velocity=0, time=int(beats * tpb)))
        wait = 0
    mid.tracks.append(tr)
    mid.save(dst)
    return dst


@pytest.fixture(scope="module")
def quartet_with_solo(tmp_path_factory):
    corpus = pytest.importorskip("music21.corpus")
    folder = tmp_path_factory.mktemp("orchestral")
    score = corpus.parse("haydn/opus74no1/movement1")
    score.write("midi", fp=str(folder / "quartet.mid"))
    return with_clarinet_phrase(folder / "quartet.mid", folder / "quartet-clarinet.mid")


def test_a_four_bar_clarinet_solo_ranks_below_the_first_violins(quartet_with_solo):
    found = extract_melodies(quartet_with_solo)
    labels = [c.label for c in found.candidates]
    solo = next(i for i, c in enumerate(found.candidates) if "Clarinet" in c.name)
    violin1 = next(i for i, c in enumerate(found.candidates) if c.name == "Violin 1")
    assert found.candidates[solo].bars == 4 and found.candidates[solo].features["coverage"] < 0.05
    assert violin1 < solo, labels[: solo + 1]
    best = found.candidates[0]
    assert best.features["coverage"] >= CARRIES_SONG and "Clarinet" not in best.name  # a line through the piece


def test_a_line_in_a_few_bars_loses_the_fragment_weight_to_one_that_covers_the_piece():
    habits = {"line_monophony": 1.0, "line_chords": 0.0, "range": 9.0, "repeats": 0.2, "steps": 0.6, "entry_bars": 0.0}
    covering, _ = line_score({**habits, "coverage": 0.9})
    fragment, parts = line_score({**habits, "coverage": 0.02})
    assert parts["fragment"] < -0.9 * FRAGMENT_WEIGHT
    assert covering - fragment > FRAGMENT_WEIGHT
    assert line_score({**habits, "coverage": CARRIES_SONG})[1]["fragment"] == 0.0  # a line carrying the song
