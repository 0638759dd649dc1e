"""Bad chord input becomes one sentence: an unknown symbol (named, with the accepted forms), an empty line, and a
progression longer or shorter than the melody (how it is fitted)."""

import pytest

from vae.chords import ChordError, parse_progression
from vae.harmony import progression_fit, spans_from_bars


@pytest.mark.parametrize("word", ["H7", "Cmaj9", "Xyz"])
def test_unknown_symbol_is_named_with_the_accepted_forms(word):
    with pytest.raises(ChordError) as e:
        parse_progression(f"C {word} G")
    text = str(e.value)
    assert repr(word) in text and "m7b5" in text and "sus4" in text
    assert text.count(".") >= 1 and "\n" not in text


@pytest.mark.parametrize("line", ["", "   ", None])
def test_empty_line_is_one_sentence(line):
    with pytest.raises(ChordError, match="empty"):
        parse_progression(line)


def test_longer_progression_says_which_bars_are_played():
    bars = parse_progression("C F G C Am Dm")
    text = progression_fit(bars, "4/4", 64)
    assert "first 4" in text and "bars 5-6" in text
    assert [str(c) for _, _, c in spans_from_bars(bars, "4/4", 64)] == ["C", "F", "G", "C"]  # as the sentence says
    assert "bar 5)" in progression_fit(parse_progression("C F G C Am"), "4/4", 64)


def test_shorter_progression_repeats_and_an_exact_one_says_nothing():
    assert "repeat" in progression_fit(parse_progression("C G"), "4/4", 64)
    assert progression_fit(parse_progression("C F G C"), "4/4", 64) == ""
    assert progression_fit(parse_progression("C F G C"), "3/4", 48) == ""
