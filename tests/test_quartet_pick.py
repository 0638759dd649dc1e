"""On a string quartet the melody pick is the first violins, in a chorale the sopranos: real movements and chorales
from the music21 corpus (Haydn, Mozart, Bach) written to MIDI, their part names removed and their tracks shuffled, as
an upload without names would be. Every part plays through the piece in one voice, so the sung-line habits
(vae.melody_pick.line_score) told the parts apart poorly and ranked an inner voice or the bass first in most of them;
among an ensemble's parts the tune is the one on top (vae.melody_pick.on_top_shares, ensemble_weight)."""

from __future__ import annotations

import io
import random

import pytest

from vae.melody_pick import ENSEMBLE_PARTS, ensemble_weight, on_top_shares
from vae.midi_import import extract_melodies
from vae.tokenizer import Note

CHORALES = ["bach/bwv66.6", "bach/bwv7.7", "bach/bwv10.7", "bach/bwv11.6", "bach/bwv13.6", "bach/bwv14.5",
            "bach/bwv20.11", "bach/bwv24.6"]
MOVEMENTS = ["haydn/opus1no1/movement1", "haydn/opus1no1/movement3", "haydn/opus1no1/movement5",
             "haydn/opus74no1/movement1", "mozart/k155/movement1", "mozart/k156/movement4", "mozart/k80/movement2"]


def unnamed_shuffled(path, seed: int) -> tuple[bytes, dict[int, str]]:
    """The MIDI file at `path` without track and instrument names, its note tracks in a random order after the
    conductor track. Returns (file bytes, new track index -> the part's old name)."""
    import mido

    mid = mido.MidiFile(path)
    names = [next((m.name for m in tr if m.type == "track_name"), "") for tr in mid.tracks]
    tracks = [mido.MidiTrack(m for m in tr if m.type not in ("track_name", "instrument_name")) for tr in mid.tracks]
    notes = [i for i, tr in enumerate(tracks) if any(m.type == "note_on" for m in tr)]
    order = [i for i in range(len(tracks)) if i not in notes] + random.Random(seed).sample(notes, len(notes))
    out = mido.MidiFile(type=1, ticks_per_beat=mid.ticks_per_beat)
    out.tracks.extend(tracks[i] for i in order)
    buf = io.BytesIO()
    out.save(file=buf)
    return buf.getvalue(), {k: names[i] for k, i in enumerate(order)}


def unnamed_scores(names: list[str], folder) -> dict[str, tuple[bytes, dict[int, str], str]]:
    """Scores of the music21 corpus written to MIDI, unnamed and shuffled: name -> (file bytes, new track index ->
    part name, the name of the score's top staff)."""
    corpus = pytest.importorskip("music21.corpus")
    out = {}
    for k, name in enumerate(names):
        path = folder / (name.replace("/", "-") + ".mid")
        score = corpus.parse(name)
        score.write("midi", fp=str(path))
        out[name] = (*unnamed_shuffled(path, seed=k), score.parts[0].partName)
    return out


@pytest.fixture(scope="module")
def quartets(tmp_path_factory):
    return unnamed_scores(MOVEMENTS, tmp_path_factory.mktemp("quartets"))


def test_the_first_violins_come_first_in_most_quartet_movements(quartets):
    picked = {}
    for name, (data, part_of, first) in quartets.items():
        found = extract_melodies(data)
        best = found.candidates[0]
        picked[name] = part_of[best.track]
        if picked[name] == first:
            assert best.features["ensemble"] == 1.0 and best.features["on_top"] > 0.8
    hits = [n for n in picked if picked[n] == quartets[n][2]]
    assert len(hits) >= len(MOVEMENTS) - 1, picked  # was 0 of 7 (the viola first in 2, the seconds in 3, the cello in 2)


def test_the_sopranos_come_first_in_bach_chorales(tmp_path):
    chorales = unnamed_scores(CHORALES, tmp_path)
    picked = [part_of[extract_melodies(data).candidates[0].track] for data, part_of, _ in chorales.values()]
    assert picked == [top for *_, top in chorales.values()]  # was 3 of 8 (the altos in 3, the tenors in 2)


def test_the_line_on_top_is_the_one_heard_above_the_others():
    melody = [Note(72 + i % 5, 4 * i, 4 * i + 4) for i in range(16)]
    inner = [Note(64 + i % 3, 4 * i, 4 * i + 4) for i in range(16)]
    above_late = [Note(84, 32, 64)]  # above the melody in the second half only
    tops = on_top_shares([melody, inner, above_late])
    assert tops[0] == pytest.approx(0.5) and tops[1] == 0.0 and tops[2] == 1.0
    assert on_top_shares([melody]) == [0.0]  # alone, a line is on top of nothing


def test_an_ensemble_is_three_single_voiced_parts_through_the_piece():
    quartet = ensemble_weight([0.95, 0.9, 0.92, 0.9], [0.7, 0.95, 0.97, 1.0])
    band = ensemble_weight([0.75, 0.83, 0.99], [1.0, 0.82, 0.13])  # POP909's medians: voice, lead, piano
    assert quartet == 1.0 and band == 0.0
    assert ensemble_weight([0.9] * ENSEMBLE_PARTS, [0.9] * (ENSEMBLE_PARTS - 1) + [0.2]) == 0.0  # one is a piano
    assert ensemble_weight([0.9, 0.9, 0.3], [1.0] * 3) == 0.0  # one plays only a few bars
