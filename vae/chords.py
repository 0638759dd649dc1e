"""Chord symbols: the Chord type, reading "Am7", "| D | G A |" and "I vi IV V7 in G", and writing a chord back.

A progression is a list of bars, each a list of chords that share the bar evenly. Anything a composer types
that is not a chord becomes a ChordError whose message names the word and lists the accepted forms.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from vae.errors import MusicReadError
from vae.music import NOTE_NAMES

# Semitones above the root of each quality, and how a symbol writes it (the first alias is the one we write).
INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8), "7": (0, 4, 7, 10),
             "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "hdim7": (0, 3, 6, 10), "dim7": (0, 3, 6, 9),
             "sus4": (0, 5, 7)}
SUFFIXES = {"maj": ("", "maj", "M", "major"), "min": ("m", "min", "-", "minor"), "dim": ("dim", "o", "°"),
            "aug": ("aug", "+"), "7": ("7", "dom7"), "maj7": ("maj7", "M7", "Δ", "Δ7", "ma7"),
            "min7": ("m7", "min7", "-7"), "hdim7": ("m7b5", "ø", "ø7", "hdim7", "min7b5", "-7b5"),
            "dim7": ("dim7", "o7", "°7"), "sus4": ("sus4", "sus")}
_QUALITY_OF = {alias: q for q, aliases in SUFFIXES.items() for alias in aliases}
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SYMBOL = re.compile(r"^([A-G])([#b♯♭]?)(.*?)(?:/([A-G][#b♯♭]?))?$")
FORMS = "a root A-G with an optional # or b, then nothing (major), m, dim, aug, 7, maj7, m7, m7b5, dim7 or sus4"
MAX_CHORDS_PER_BAR = 4


class ChordError(MusicReadError):
    """A chord symbol, Roman numeral or progression could not be read. str(e) is one sentence."""

    reason = "unknown chord"


class Chord(NamedTuple):
    """A chord: root pitch class (0 = C) and a quality, one of INTERVALS' keys."""

    root: int
    quality: str = "maj"

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Pitch classes, root first: Chord(9, 'min7') -> (9, 0, 4, 7)."""
        return tuple((self.root + i) % 12 for i in INTERVALS[self.quality])

    def __str__(self) -> str:
        return chord_name(self)


def chord_name(chord: Chord) -> str:
    """Chord(9, 'min7') -> 'Am7'; Chord(3, 'maj') -> 'Eb' (flats for black-key roots, as in NOTE_NAMES)."""
    return NOTE_NAMES[chord.root % 12] + SUFFIXES[chord.quality][0]


def parse_chord(text: str) -> Chord:
    """'Am7' -> Chord(9, 'min7'); 'F#m' -> Chord(6, 'min'); 'Bb' -> Chord(10, 'maj'). A slash bass ('C/E') is
    accepted and dropped (the backing voices its own bass). Raises ChordError naming the word otherwise."""
    word = (text or "").strip()
    m = _SYMBOL.match(word)
    quality = _QUALITY_OF.get(m.group(3)) if m else None
    if quality is None:
        raise ChordError(f"{word[:20]!r} is not a chord symbol we know: write {FORMS} (e.g. Am7, F#m, Bb7).")
    alter = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(m.group(2), 0)
    return Chord((_PC[m.group(1)] + alter) % 12, quality)


# Roman numerals --------------------------------------------------------------------------------------------

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)  # natural minor; a lower-case or diminished vii is the raised leading tone
_NUMERALS = ("i", "ii", "iii", "iv", "v", "vi", "vii")
_ROMAN = re.compile(r"^([#b♯♭]?)(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(.*)$")
_ROMAN_SUFFIX = {"": None, "7": "7th", "maj7": "maj7", "M7": "maj7", "o": "dim", "°": "dim", "dim": "dim",
                 "o7": "dim7", "°7": "dim7", "dim7": "dim7", "ø": "hdim7", "ø7": "hdim7", "+": "aug",
                 "aug": "aug", "sus4": "sus4", "sus": "sus4"}
_KEY = re.compile(r"^([A-Ga-g])([#b♯♭]?)\s*(m|min|minor|maj|major)?$")
ROMAN_FORMS = ("Roman numerals I-VII (upper case major, lower case minor) with an optional b or # before them and "
               "7, maj7, o, o7, ø7, + or sus4 after them, or V/V for a secondary chord")


def parse_key(text: str) -> tuple[int, bool]:
    """'G' -> (7, False); 'Am', 'A minor' or a lower-case 'a' -> (9, True). Raises ChordError otherwise."""
    m = _KEY.match((text or "").strip())
    if not m:
        raise ChordError(f"{text.strip()[:20]!r} is not a key: write a tonic A-G with an optional # or b, "
                         "and 'minor' for a minor key (e.g. G, Bb, F# minor, Am).")
    letter, acc, mode = m.groups()
    alter = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(acc, 0)
    minor = mode in ("m", "min", "minor") or (mode is None and letter.islower())
    return (_PC[letter.upper()] + alter) % 12, minor


def parse_numeral(text: str, tonic: int, minor: bool) -> Chord:
    """'V7' in (0, major) -> G7; 'ii' -> Dm; 'bVII' -> Bb; 'V/V' -> D; 'vii°7' in A minor -> G#dim7.
    A plain 7 takes the seventh the scale gives (I7 in major is Cmaj7, V7 is G7, ii7 is Dm7)."""
    word = text.strip()
    if "/" in word:  # secondary chord: read the target first, then this numeral in the target's key
        head, target = word.split("/", 1)
        t = parse_numeral(target, tonic, minor)
        return parse_numeral(head, t.root, t.quality in ("min", "min7", "dim", "hdim7", "dim7"))
    m = _ROMAN.match(word)
    if not m or m.group(3) not in _ROMAN_SUFFIX:
        raise ChordError(f"{word[:20]!r} is not a Roman numeral we know: write {ROMAN_FORMS}.")
    acc, numeral, suffix = m.groups()
    degree = _NUMERALS.index(numeral.lower())
    upper = numeral.isupper()
    kind = _ROMAN_SUFFIX[suffix]
    steps = MINOR_STEPS if minor else MAJOR_STEPS
    step = steps[degree]
    if minor and degree == 6 and (not upper or kind in ("dim", "dim7", "hdim7")):
        step = 11  # the leading-tone chord of a minor key
    root = (tonic + step + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(acc, 0)) % 12
    if kind == "7th":
        seventh = (steps[(degree + 6) % 7] - steps[degree]) % 12 if not (minor and degree == 6) else 10
        if upper:
            kind = "maj7" if seventh == 11 else "7"
        else:
            kind = "min7"
    if kind is None:
        kind = "maj" if upper else "min"
    return Chord(root, kind)


# Progressions ----------------------------------------------------------------------------------------------

_IN_KEY = re.compile(r"^(.*?)\s+in\s+(.+?)\s*$", re.S)


def parse_progression(text: str) -> list[list[Chord]]:
    """A typed progression -> bars, each a list of the chords that share it:
    'Am F C G' (one chord a bar) -> [[Am], [F], [C], [G]]; '| D | G A | Bm | A7 |' -> [[D], [G, A], [Bm], [A7]];
    'I vi IV V7 in G' -> [[G], [Em], [C], [D7]]. Repeat signs (':') and double bars are read as bar lines.
    Raises ChordError with one sentence for an empty line, an unknown word or too many chords in a bar."""
    line = (text or "").strip()
    if not line:
        raise ChordError("The chord line is empty: type chords like 'Am F C G', '| D | G A | Bm | A7 |' "
                         "or 'I vi IV V7 in G'.")
    key = None
    m = _IN_KEY.match(line)
    if m:
        line, key = m.group(1), parse_key(m.group(2))
    line = line.replace(":", "|").replace("[", "|").replace("]", "|")
    if "|" in line:
        groups = [seg.split() for seg in line.split("|")]
        groups = [g for g in groups if g]
    else:
        groups = [[w] for w in line.split()]
    if not groups:
        raise ChordError("The chord line has bar lines but no chords: put a chord between them, e.g. '| C | G |'.")
    bars = []
    for number, words in enumerate(groups, 1):
        if len(words) > MAX_CHORDS_PER_BAR:
            raise ChordError(f"Bar {number} has {len(words)} chords; a bar holds at most {MAX_CHORDS_PER_BAR} "
                             "(one a beat): put bar lines '|' between the bars.")
        bars.append([parse_numeral(w, *key) if key else _chord_or_hint(w) for w in words])
    return bars


def _chord_or_hint(word: str) -> Chord:
    """parse_chord, with a hint when the word is a Roman numeral typed without its key."""
    try:
        return parse_chord(word)
    except ChordError:
        if _ROMAN.match(word):
            raise ChordError(f"{word!r} looks like a Roman numeral: say the key at the end, "
                             "e.g. 'I vi IV V7 in G'.") from None
        raise


def progression_name(bars: list[list[Chord]]) -> str:
    """[[D], [G, A]] -> '| D | G A |' (the form parse_progression reads back)."""
    return "| " + " | ".join(" ".join(chord_name(c) for c in bar) for bar in bars) + " |"
