"""Chord symbols, progressions, the harmoniser, backing patterns and the melody-fit score (vae.chords, vae.harmony)."""

from __future__ import annotations

import pytest

from vae.chords import (
    Chord,
    ChordError,
    chord_name,
    parse_chord,
    parse_key,
    parse_numeral,
    parse_progression,
    progression_name,
)
from vae.errors import MusicReadError
from vae.harmony import (
    PATTERNS,
    backing,
    chord_bars,
    chord_line,
    dance_pattern,
    harmonise,
    melody_fit,
    spans_from_bars,
)
from vae.tokenizer import Note


def line(*spec: tuple[int | None, int]) -> list[Note]:
    """Notes one after another from (pitch or None for a rest, length in 16ths)."""
    out, t = [], 0
    for pitch, length in spec:
        if pitch is not None:
            out.append(Note(pitch, t, t + length))
        t += length
    return out


def names(spans) -> list[tuple[int, int, str]]:
    return [(s, e, chord_name(c)) for s, e, c in spans]


# Chord symbols ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, chord", [
    ("C", Chord(0, "maj")), ("Am", Chord(9, "min")), ("Am7", Chord(9, "min7")), ("F#m", Chord(6, "min")),
    ("Bb7", Chord(10, "7")), ("Ebmaj7", Chord(3, "maj7")), ("Bdim", Chord(11, "dim")), ("Caug", Chord(0, "aug")),
    ("Bm7b5", Chord(11, "hdim7")), ("C#dim7", Chord(1, "dim7")), ("Gsus4", Chord(7, "sus4")), ("C/E", Chord(0, "maj")),
    ("G+", Chord(7, "aug")), ("Cb", Chord(11, "maj")), ("Dø7", Chord(2, "hdim7")),
])
def test_parse_chord(text, chord):
    assert parse_chord(text) == chord


@pytest.mark.parametrize("chord, name", [
    (Chord(0, "maj"), "C"), (Chord(9, "min7"), "Am7"), (Chord(3, "maj"), "Eb"), (Chord(6, "min"), "F#m"),
    (Chord(11, "hdim7"), "Bm7b5"), (Chord(1, "dim7"), "C#dim7"), (Chord(7, "7"), "G7"), (Chord(5, "maj7"), "Fmaj7"),
    (Chord(8, "aug"), "Abaug"), (Chord(2, "sus4"), "Dsus4"), (Chord(11, "dim"), "Bdim"),
])
def test_chord_name_round_trip(chord, name):
    assert chord_name(chord) == name
    assert parse_chord(name) == chord


def test_pitch_classes():
    assert Chord(9, "min7").pitch_classes == (9, 0, 4, 7)
    assert Chord(7, "7").pitch_classes == (7, 11, 2, 5)


@pytest.mark.parametrize("bad", ["H7", "Cmaj9", "am", "X", "", "C#m#"])
def test_unknown_chord_is_a_sentence(bad):
    with pytest.raises(ChordError) as err:
        parse_chord(bad)
    msg = str(err.value)
    assert isinstance(err.value, MusicReadError)
    assert "m7b5" in msg and msg.endswith(".") and msg.count("\n") == 0
    if bad:
        assert repr(bad) in msg


# Progressions ----------------------------------------------------------------------------------------------

def test_progression_one_chord_a_bar():
    assert parse_progression("Am F C G") == [[Chord(9, "min")], [Chord(5, "maj")], [Chord(0, "maj")], [Chord(7, "maj")]]


def test_progression_with_bar_lines():
    bars = parse_progression("| D | G A | Bm | A7 |")
    assert bars == [[Chord(2, "maj")], [Chord(7, "maj"), Chord(9, "maj")], [Chord(11, "min")], [Chord(9, "7")]]
    assert progression_name(bars) == "| D | G A | Bm | A7 |"
    assert parse_progression("|: C | F G :|") == [[Chord(0, "maj")], [Chord(5, "maj"), Chord(7, "maj")]]


@pytest.mark.parametrize("text, symbols", [
    ("I vi IV V7 in G", "| G | Em | C | D7 |"),
    ("ii7 V7 Imaj7 in C", "| Dm7 | G7 | Cmaj7 |"),
    ("I7 IV7 in C", "| Cmaj7 | Fmaj7 |"),  # a plain 7 is the scale's own seventh
    ("i iv V7 i in A minor", "| Am | Dm | E7 | Am |"),
    ("i VI III VII in e", "| Em | C | G | D |"),
    ("vii°7 i in Am", "| Abdim7 | Am |"),  # spelled with the flats of NOTE_NAMES
    ("I V/V V I in C", "| C | D | G | C |"),
    ("V7/ii ii V7 I in F", "| D7 | Gm | C7 | F |"),
    ("I bVII IV I in D", "| D | C | G | D |"),
    ("| I | IV V | in Bb", "| Bb | Eb F |"),
])
def test_roman_numerals(text, symbols):
    assert progression_name(parse_progression(text)) == symbols


def test_parse_key():
    assert parse_key("G") == (7, False)
    assert parse_key("F# minor") == (6, True)
    assert parse_key("Am") == (9, True)
    assert parse_key("a") == (9, True)
    assert parse_key("Bb major") == (10, False)


@pytest.mark.parametrize("text, words", [
    ("", "empty"), ("   ", "empty"), ("C Hm G", "'Hm'"), ("I vi IV V", "Roman numeral"),
    ("I IX in C", "'IX'"), ("I IV in H", "'H'"), ("| C D E F G |", "at most 4"), ("| | |", "no chords"),
])
def test_progression_refusals(text, words):
    with pytest.raises(ChordError) as err:
        parse_progression(text)
    assert words in str(err.value)
    assert str(err.value).endswith(".")


def test_numeral_in_minor_key_uses_leading_tone_for_v_and_vii():
    assert parse_numeral("V", 9, True) == Chord(4, "maj")
    assert parse_numeral("v", 9, True) == Chord(4, "min")
    assert parse_numeral("VII", 9, True) == Chord(7, "maj")
    assert parse_numeral("vii°", 9, True) == Chord(8, "dim")


def test_spans_from_bars_share_beats_and_repeat():
    bars = parse_progression("| C | F G |")
    assert names(spans_from_bars(bars, "4/4", 64)) == [
        (0, 16, "C"), (16, 24, "F"), (24, 32, "G"), (32, 48, "C"), (48, 56, "F"), (56, 64, "G")]
    # 3/4: two chords in a bar of three beats split 1 + 2 beats; five bars of 12 fill 64 steps with a cut last bar
    assert names(spans_from_bars([[Chord(0), Chord(7)]], "3/4", 24)) == [(0, 4, "C"), (4, 12, "G"), (12, 16, "C"),
                                                                         (16, 24, "G")]
    assert names(spans_from_bars(parse_progression("C G Am F E"), "4/4", 32)) == [(0, 16, "C"), (16, 32, "G")]


# Harmonise -------------------------------------------------------------------------------------------------

C_ARPEGGIO = line(*[(60, 4), (64, 4), (67, 4), (72, 4)] * 4)
# C | F | G7 (outlined G B D F) | C
TO_G7 = line((60, 4), (64, 4), (67, 4), (64, 4), (65, 4), (69, 4), (72, 4), (69, 4),
             (67, 4), (71, 4), (74, 4), (77, 4), (72, 16))
# A minor: Am | Dm | E (with G#) | Am
MINOR = line((69, 4), (72, 4), (76, 4), (72, 4), (74, 4), (77, 4), (81, 4), (77, 4),
             (76, 4), (80, 4), (83, 4), (80, 4), (81, 16))
# C major with F# leading to G in bar 2: the melody asks for D7 (V/V)
SECONDARY = line((72, 4), (67, 4), (64, 4), (67, 4), (66, 4), (69, 4), (72, 4), (66, 4),
                 (67, 4), (71, 4), (74, 4), (71, 4), (72, 16))


def test_c_arpeggio_gets_c_every_bar():
    assert names(harmonise(C_ARPEGGIO)) == [(0, 16, "C"), (16, 32, "C"), (32, 48, "C"), (48, 64, "C")]


def test_dominant_seventh_resolves_to_tonic():
    spans = harmonise(TO_G7)
    assert names(spans) == [(0, 16, "C"), (16, 32, "F"), (32, 48, "G7"), (48, 64, "C")]


def test_minor_tune_gets_minor_key_chords():
    assert names(harmonise(MINOR)) == [(0, 16, "Am"), (16, 32, "Dm"), (32, 48, "E"), (48, 64, "Am")]


def test_raised_fourth_to_fifth_gets_a_secondary_dominant():
    chords = [c for _, _, c in harmonise(SECONDARY)]
    assert chords[1].root == 2 and chords[1].quality in ("maj", "7")
    assert chords[2].root == 7


def test_given_key_is_used():
    # the same arpeggio read in F major: C is then V, still the chord of the notes
    assert {chord_name(c) for _, _, c in harmonise(C_ARPEGGIO, key="F")} <= {"C", "C7"}
    assert harmonise(MINOR, key=(9, "minor")) == harmonise(MINOR, key="A minor")


def test_spans_tile_the_window_in_any_meter():
    for meter, steps_per_bar, bars in (("4/4", 16, 4), ("3/4", 16, 4), ("6/8", 16, 4), ("6/8", 12, 4)):
        spans = harmonise(MINOR, steps_per_bar=steps_per_bar, bars=bars, meter=meter)
        assert spans[0][0] == 0 and spans[-1][1] == steps_per_bar * bars
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        bar = {"4/4": 16, "3/4": 12, "6/8": 12}[meter]
        assert all(s % (bar // 2) == 0 for s, _, _ in spans)  # changes on bar lines or half bars only


def test_silence_gets_the_tonic():
    assert names(harmonise([])) == [(0, 16, "C"), (16, 32, "C"), (32, 48, "C"), (48, 64, "C")]


def test_harmonise_is_deterministic():
    a = harmonise(SECONDARY)
    assert all(harmonise(SECONDARY) == a for _ in range(3))


# Backing ---------------------------------------------------------------------------------------------------

SPANS = [(0, 16, Chord(0)), (16, 32, Chord(9, "min")), (32, 48, Chord(7, "7")), (48, 64, Chord(0))]


def test_block_holds_each_chord():
    notes = backing(SPANS, "block")
    assert len(notes) == 4 + 4 + 5 + 4  # bass + triad, bass + seventh chord
    assert all(n.end - n.start == 16 for n in notes)
    basses = [n for n in notes if n.pitch < 48]
    assert [b.pitch for b in basses] == [36, 45, 43, 36]  # C2, A2, G2, C2


def test_registers_lie_below_the_melody():
    for pattern in PATTERNS:
        notes = backing(SPANS, pattern, "3/4" if pattern == "waltz" else "6/8" if pattern == "jig" else "4/4")
        assert min(n.pitch for n in notes) >= 36 and max(n.pitch for n in notes) <= 61
    low = backing(SPANS, "block", melody_low=58)
    assert max(n.pitch for n in low) < 58


def test_broken_is_eighth_notes():
    notes = backing(SPANS, "broken")
    assert len(notes) == 32 and all(n.end - n.start == 2 for n in notes)
    assert [n.pitch for n in notes[:5]] == [36, 52, 55, 60, 55]  # C2 then E3 G3 C4 back down


def test_bass_chord_in_four_four():
    notes = backing(SPANS[:1], "bass-chord")
    assert [(n.start, n.pitch) for n in notes if n.pitch < 48] == [(0, 36)]
    assert sorted({n.start for n in notes if n.pitch >= 48}) == [4, 8, 12]


def test_waltz_follows_three_four():
    spans = [(0, 12, Chord(7)), (12, 24, Chord(2, "7"))]
    notes = backing(spans, "waltz", "3/4")
    assert [n.start for n in notes if n.pitch < 48] == [0, 12]
    assert sorted({n.start for n in notes if n.pitch >= 48}) == [4, 8, 16, 20]
    assert all(n.end - n.start == 2 for n in notes if n.pitch >= 48)  # "pah" chords are short


def test_jig_is_bass_chord_chord_per_dotted_beat():
    notes = backing([(0, 12, Chord(2))], "jig", "6/8")
    basses = [(n.start, n.pitch) for n in notes if n.pitch < 48]
    assert basses == [(0, 38), (6, 45)]  # D2 then its fifth A2
    assert sorted({n.start for n in notes if n.pitch >= 48}) == [2, 4, 8, 10]
    assert len(notes) == 2 + 4 * 3


def test_unknown_pattern_is_refused():
    with pytest.raises(ValueError, match="block"):
        backing(SPANS, "samba")


# Melody fit ------------------------------------------------------------------------------------------------

def test_melody_fit():
    assert melody_fit(C_ARPEGGIO, [(0, 64, Chord(0))]) == 1.0
    assert melody_fit(C_ARPEGGIO, [(0, 64, Chord(2, "min"))]) == 0.0  # D F A: no C, E or G
    half = [(0, 32, Chord(0)), (32, 64, Chord(2, "min"))]
    assert melody_fit(C_ARPEGGIO, half) == 0.5
    # notes between the beats do not count
    offbeat = [Note(61, 2, 4), Note(60, 4, 8)]
    assert melody_fit(offbeat, [(0, 16, Chord(0))]) == 1.0
    assert melody_fit([], SPANS) == 1.0


# Reading chords back as bars -------------------------------------------------------------------------------

def test_chord_line_writes_bars_as_a_musician_does():
    spans = [(0, 16, Chord(0)), (16, 32, Chord(9, "min")), (32, 40, Chord(5)), (40, 48, Chord(7, "7")),
             (48, 64, Chord(0))]
    assert chord_line(spans) == "C | Am | F G7 | C"
    assert chord_bars(spans) == [[Chord(0)], [Chord(9, "min")], [Chord(5), Chord(7, "7")], [Chord(0)]]
    # the inverse of spans_from_bars, in any meter
    bars = parse_progression("| D | G A | Bm | A7 |")
    assert chord_bars(spans_from_bars(bars, "3/4", 48), "3/4") == bars
    assert chord_line(spans_from_bars(bars, "6/8", 64), "6/8") == "D | G A | Bm | A7 | D | G"  # the last bar is a third: G only
    # a chord held over a bar line is written again in the next bar; an empty window has no line
    assert chord_line([(0, 32, Chord(2)), (32, 48, Chord(7))]) == "D | D | G"
    assert chord_line([]) == "" and chord_bars([]) == []


@pytest.mark.parametrize("meter, pattern", [("3/4", "waltz"), ("3/8", "waltz"), ("6/8", "jig"), ("9/8", "jig"),
                                            ("4/4", "jig"), ("2/4", "jig"), ("5/4", "jig")])
def test_the_dance_backing_follows_the_meter(meter, pattern):
    assert dance_pattern(meter) == pattern
