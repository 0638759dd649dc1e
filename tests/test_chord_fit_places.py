"""Where each chord over the piano roll stands in the line a composer types (explorer.media.figures.chord_places):
the page's chord-click script selects the word at that place, so the line must read back as the chords shown."""

from __future__ import annotations

import pytest

from explorer.media import figures
from explorer.media.files import named
from vae.chords import parse_progression
from vae.harmony import chord_bars, harmonise, spans_from_bars
from vae.meter import Meter
from vae.tokenizer import Note

# a reel's four bars in G (eighth notes): G A B c d e d B | d e d B d e d B | c e c e B d B d | c A A A A B A G
REEL = [Note(p, 2 * i, 2 * i + 2) for i, p in enumerate(
    [67, 69, 71, 72, 74, 76, 74, 71, 74, 76, 74, 71, 74, 76, 74, 71, 72, 76, 72, 76, 71, 74, 71, 74,
     72, 69, 69, 69, 69, 71, 69, 67])]


@pytest.mark.parametrize("spans, meter, places, line", [
    ([(0, 16, "C"), (16, 24, "F"), (24, 40, "G"), (40, 64, "C")], "4/4",
     [[0, 0], [1, 0], [1, 1], [2, 1]], "| C | F G | G C | C |"),  # G held over the bar line is written again
    ([(0, 12, "D"), (12, 18, "G"), (18, 24, "A")], "6/8", [[0, 0], [1, 0], [1, 1]], "| D | G A |"),
    ([(16, 32, "Am"), (32, 48, "E7")], "4/4", [[0, 0], [1, 0]], "| Am | E7 |"),  # a bar without a chord is left out
])
def test_chord_places(spans, meter, places, line):
    assert figures.chord_places(spans, Meter.parse(meter)) == (places, line)


def test_a_harmonised_tune_reads_back_from_its_line_and_each_symbol_is_at_its_place():
    notes = REEL
    chords = named(harmonise(notes))
    fig = figures.piano_roll(notes, 64, chords=chords)
    meta = fig["layout"]["meta"]
    bars = parse_progression(meta["chord_line"])
    assert [[str(c) for c in bar] for bar in bars] == [[str(c) for c in bar] for bar in chord_bars(harmonise(notes))]
    for (_, _, symbol), (bar, k), note in zip(chords, meta["chord_at"], fig["layout"]["annotations"], strict=True):
        assert str(bars[bar][k]) == symbol == note["text"]
        assert note["captureevents"]
    # the line typed back is played as shown: the same chord at every chord's start
    again = spans_from_bars(bars, "4/4", 64)
    assert all(any(a <= s < b and str(c) == sym for a, b, c in again) for s, _, sym in chords)
