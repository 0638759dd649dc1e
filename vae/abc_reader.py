"""Fast ABC reader: music21's ABC token stream straight to notes on the 16th grid (no Streams).

Building full music21 Streams costs ~80 ms a tune; reading the token stream costs ~1 ms. The token
stream gives pitch (with key signature and accidentals) and length (with broken rhythm), but not tuplet
ratios, so those are applied here. Chords keep their top note, grace notes are skipped, ties merge
only notes of the same pitch (O'Neill's writes slurs as `a-b`).
"""

from __future__ import annotations

import re
from pathlib import Path

from vae.constants import STEPS_PER_QUARTER, fold_pitch
from vae.errors import EmptyTuneError, MusicReadError, TuneParseError
from vae.music import snap
from vae.text import decode_text
from vae.tokenizer import Note
from vae.tune import Tune

_STEP_TO_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NAME_RE = re.compile(r"^([A-G])([#\-n~`]*)(-?\d+)$")
_X_RE = re.compile(r"^X:\s*(\S*)", re.M)


def pitch_name_to_midi(name: str) -> int:
    """music21 pitch name ('F#5', 'B-4', 'En5', 'C##4') -> MIDI number."""
    m = _NAME_RE.match(name)
    if not m:
        raise ValueError(f"unknown pitch name {name!r}")
    step, acc, octave = m.groups()
    alter = acc.count("#") - acc.count("-")
    return 12 * (int(octave) + 1) + _STEP_TO_PC[step] + alter


def meter_steps(meter: str) -> int | None:
    """Steps in one bar of a meter string ('6/8' -> 12, 'C' -> 16, 'C|' -> 16); None if unknown."""
    meter = meter.strip()
    if meter in ("C", "C|"):
        return 16
    m = re.search(r"(\d+)\s*/\s*(\d+)", meter)
    if not m:
        return None
    num, den = int(m.group(1)), int(m.group(2))
    steps = num * 16 / den if den else 0
    return int(steps) if steps >= 1 and steps == int(steps) else None


def normalise_meter(meter: str) -> str:
    """'C' -> '4/4', 'C|' -> '2/2', ' 6/8' -> '6/8', anything unreadable -> 'none'."""
    meter = meter.strip()
    if meter == "C":
        return "4/4"
    if meter == "C|":
        return "2/2"
    m = re.search(r"(\d+)\s*/\s*(\d+)", meter)
    return f"{m.group(1)}/{m.group(2)}" if m else "none"


def split_tunes(text: str) -> list[tuple[str, str]]:
    """Split an ABC book into (reference number, tune text) pairs at each `X:` line."""
    starts = [(m.start(), m.group(1)) for m in _X_RE.finditer(text)]
    return [(num, text[pos : starts[i + 1][0] if i + 1 < len(starts) else len(text)]) for i, (pos, num) in enumerate(starts)]


def parse_tune(text: str, collection: str, source: str, number: str) -> Tune:
    """Parse one ABC tune's text into a Tune. Raises TuneParseError / EmptyTuneError."""
    from music21.abcFormat import ABCBar, ABCChord, ABCHandler, ABCMetadata, ABCNote

    handler = ABCHandler()
    try:
        handler.process(text)
    except Exception as exc:  # music21 raises many types on malformed ABC
        raise TuneParseError(f"music21 could not tokenize the tune: {type(exc).__name__}: {exc}") from exc

    title, meter, key = "", "", ""
    raw: list[list[float]] = []  # [pitch, start_ql, end_ql, tie_open]
    bars: list[float] = []
    pos = 0.0
    stats = {"triplet_notes": 0, "grace_notes": 0, "chords": 0}
    for tok in handler.tokens:
        if isinstance(tok, ABCMetadata):
            tag = tok.tag.strip()
            if tag == "T" and not title:
                title = tok.data.strip()
            elif tag == "M" and not meter:
                meter = tok.data.strip()
            elif tag == "K" and not key:
                key = tok.data.strip()
        elif isinstance(tok, ABCBar):
            bars.append(pos)
        elif isinstance(tok, ABCNote):  # ABCChord is a subclass
            if tok.inGrace:
                stats["grace_notes"] += 1
                continue
            ql = float(tok.quarterLength)
            if tok.activeTuplet is not None:
                ratio = tok.activeTuplet.tupletObj if hasattr(tok.activeTuplet, "tupletObj") else tok.activeTuplet
                ql *= ratio.numberNotesNormal / ratio.numberNotesActual
                stats["triplet_notes"] += 1
            if tok.isRest:
                pos += ql
                continue
            if isinstance(tok, ABCChord):
                names = [s.pitchName for s in tok.subTokens if getattr(s, "pitchName", None)]
                if not names:
                    pos += ql
                    continue
                pitch = max(pitch_name_to_midi(n) for n in names)
                stats["chords"] += 1
            elif tok.pitchName:
                pitch = pitch_name_to_midi(tok.pitchName)
            else:
                pos += ql
                continue
            pitch = fold_pitch(pitch)
            prev = raw[-1] if raw else None
            if prev and prev[3] and prev[0] == pitch and abs(prev[2] - pos) < 1e-6:
                prev[2] = pos + ql  # tie between equal pitches: one longer note
            else:
                raw.append([pitch, pos, pos + ql, False])
            raw[-1][3] = tok.tie in ("start", "continue")
            pos += ql
    if not raw:
        raise EmptyTuneError("the tune has no pitched notes")
    notes, collided, offgrid = _quantise(raw)
    stats["collided_notes"] = collided
    stats["offgrid_notes"] = offgrid
    total = max(snap(pos, STEPS_PER_QUARTER), notes[-1].end)
    bar_lines = _bar_lines(bars, total, meter_steps(meter))
    return Tune(collection, title or f"{collection} {number}", source, number, normalise_meter(meter), key,
                notes, bar_lines, total, stats)


def _quantise(raw: list[list[float]]) -> tuple[list[Note], int, int]:
    """Round onsets/ends to the 16th grid; notes landing on a taken step are dropped and counted."""
    notes: list[Note] = []
    collided = offgrid = 0
    for pitch, start, end, _ in raw:
        s_exact = start * STEPS_PER_QUARTER
        s = int(round(s_exact))
        e = max(snap(end, STEPS_PER_QUARTER), s + 1)
        if abs(s_exact - s) > 1e-3:
            offgrid += 1
        if notes and s <= notes[-1].start:
            collided += 1
            continue
        if notes and notes[-1].end > s:
            notes[-1] = notes[-1]._replace(end=s)
        notes.append(Note(int(pitch), s, e))
    return notes, collided, offgrid


def _bar_lines(bars_ql: list[float], total: int, bar_len: int | None) -> list[int]:
    """Bar-start steps. Bar 0 counts only if the first bar is full (so a pickup never starts a bar)."""
    steps = sorted({snap(b, STEPS_PER_QUARTER) for b in bars_ql})
    steps = [s for s in steps if 0 < s < total]
    if not steps:
        length = bar_len or 16
        return list(range(0, total, length))
    first = steps[0]
    full = bar_len if bar_len else (steps[1] - steps[0] if len(steps) > 1 else first)
    if first >= full:
        steps.insert(0, 0)
    return steps


def read_abc_file(path: Path, collection: str, root: Path) -> tuple[list[Tune], list[dict]]:
    """All tunes of an ABC file plus one error record per tune that failed (never raises for a tune)."""
    source = str(path.relative_to(root))
    text = decode_text(path.read_bytes())
    tunes: list[Tune] = []
    errors: list[dict] = []
    for number, body in split_tunes(text):
        try:
            tunes.append(parse_tune(body, collection, source, number))
        except MusicReadError as exc:
            errors.append({"collection": collection, "source": source, "number": number,
                           "reason": exc.reason, "message": str(exc)})
        except Exception as exc:  # a tune must never stop the build
            errors.append({"collection": collection, "source": source, "number": number,
                           "reason": "parse error", "message": f"{type(exc).__name__}: {exc}"})
    return tunes, errors


MAX_ABC_CHARS = 20_000  # typed or pasted ABC: a long tune is ~2,000 characters
MAX_METER_BEATS = 32  # the largest numerator of a meter we accept (21/8, 15/16 and 12/8 are real; 999/1 is not)
NOTE_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)  # a note length or meter's denominator is one of these
MAX_LENGTH_NUMBER = 64  # the largest number in a note length (C64 is eight whole notes at L:1/8)
_LENGTH_RE = re.compile(r"([A-Ga-gzZxX\]][,']*|/)(\d+)")  # a note, rest or chord's length, or a divisor
_KEY_RE = re.compile(r"(?:^|\[)\s*K\s*:([^\n\]]*)", re.M)
_KEY_VALUE_RE = re.compile(r"^(?:(?:[A-G][#b]?[A-Za-z]*|none|HP|Hp)(?:\s|$)|[a-z]+=)", re.I)  # G, Am, Dmix, clef=
# Letters that are neither notes (A-G a-g), rests and spacers (z Z x X y), nor ABC's shorthand decorations
# (H L M O P S T u v): in a music line they mean prose or a typo.
_NOT_MUSIC_RE = re.compile(r"[hijklmnopqrstw]|[IJKNQRUVWY]")
_FIELD_RE = re.compile(r"(?:^|\[)\s*([ML])\s*:([^\n\]]*)", re.M)  # header lines and inline [M:...] fields
_FRACTION_RE = re.compile(r"(\d+(?:\s*\+\s*\d+)*)\s*\)?\s*/\s*(\d+)")


def check_fields(text: str) -> None:
    """Refuse meters and unit note lengths no tune has (M:0/0, M:99999/1, L:0/0, L:1/99999) before music21 sees
    them: its cost grows with the meter's size (M:999/1 took seconds, M:99999/1 minutes) and zero divides.
    Also refuses letters outside ABC's alphabet in the music (an 'ü' there was read as a C).
    Raises MusicReadError with a sentence."""
    for field, raw in _FIELD_RE.findall(text):
        value = raw.split("%")[0].strip()
        if field == "M" and value in ("", "C", "C|", "none"):
            continue
        m = _FRACTION_RE.search(value)
        if m is None and field == "M" and not re.search(r"\d", value):
            continue  # a free meter in words ("none", "frei"): music21 reads it as no meter
        if m is None:
            kind = "meter (M:)" if field == "M" else "unit note length (L:)"
            raise MusicReadError(f"The {kind} {value[:20]!r} is not a fraction like "
                                 f"{'6/8' if field == 'M' else '1/8'}.")
        num = sum(int(n) for n in re.findall(r"\d+", m.group(1)))
        den = int(m.group(2))
        if field == "M" and not (1 <= num <= MAX_METER_BEATS and den in NOTE_DENOMINATORS):
            raise MusicReadError(f"The meter M:{value[:20]} is not one we can play: use 1 to {MAX_METER_BEATS} "
                                 f"beats of a whole, half, quarter, eighth or sixteenth note (e.g. 6/8).")
        if field == "L" and not (1 <= num <= 4 and den in NOTE_DENOMINATORS):
            raise MusicReadError(f"The unit note length L:{value[:20]} is not one we can play: use 1/4, 1/8 or 1/16.")
    for m in _KEY_RE.finditer(text):
        value = m.group(1).split("%")[0].strip()
        if value and not _KEY_VALUE_RE.match(value):
            raise MusicReadError(f"The key K:{value[:20]} is not a key: write it like K:G, K:Am, K:Dmix or K:none.")
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(r"^\s*([A-Za-z]:|%)", line):
            continue  # a header or comment line: titles and lyrics may use any letters
        music = re.sub(r'"[^"]*"|![^!]*!|\+[^+\s]*\+|%.*$', "", line)  # chords, annotations, decorations, comments
        odd = sorted({ch for ch in music if ord(ch) > 126 or (ord(ch) < 32 and ch != "\t")})
        if odd:
            raise MusicReadError(f"Line {number} has {', '.join(repr(c) for c in odd[:3])}, which ABC music does not "
                                 "use: write notes with the letters A-G and a-g.")
        bare = re.sub(r"\[[A-Za-z]:[^\]]*\]", "", music)
        odd_letters = _NOT_MUSIC_RE.findall(bare)
        letters = sorted(set(odd_letters))
        # prose ("Hello my friend" once became a 3-note tune): a quarter of the letters or more are no notes; a
        # stray letter is left to the books that use it as a decoration (O'Neill's 'K', Nottingham's 'k')
        if len(odd_letters) >= 2 and len(odd_letters) >= 0.25 * len(re.findall(r"[A-Za-z]", bare)):
            raise MusicReadError(f"Line {number} has letters that are not notes ({', '.join(letters[:5])}): "
                                 "write notes with A-G and a-g, rests with z.")
        for m in _LENGTH_RE.finditer(music):
            if int(m.group(2)) > MAX_LENGTH_NUMBER:
                raise MusicReadError(f"Line {number} has a note length of {m.group(2)[:12]} ({m.group(0)[:16]}): "
                                     f"use lengths up to {MAX_LENGTH_NUMBER} units (a long note is tied across bars).")


def read_abc_text(text: str) -> Tune:
    """A tune typed or pasted in ABC notation (`X:1 K:G |:GABc dedB|...`) -> Tune. A missing X: header is
    added, a missing K: means C major (ABC's default), and the first tune is read if several are given.
    Raises MusicReadError with a sentence for text that is not ABC or has no notes."""
    if not isinstance(text, str) or not text.strip():
        raise MusicReadError("Type or paste a tune in ABC notation, e.g. X:1 K:G |:GABc dedB|dedB dedB|")
    if len(text) > MAX_ABC_CHARS:
        raise MusicReadError(f"The ABC text is over {MAX_ABC_CHARS:,} characters; paste one tune.")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_fields(text)
    # Headers typed on one line ("X:1 K:G |:GABc ...") go on their own lines, as ABC wants them.
    text = re.sub(r"(?<!\n)\s+(?=[XTMLKQR]:)", "\n", text.strip())
    text = re.sub(r"^(K:[^|\n]*?)\s*(\|.*)$", r"\1\n\2", text, flags=re.M)  # "K:G |:GABc" -> K:G / |:GABc
    if not _X_RE.search(text):
        text = "X:1\n" + text
    if not re.search(r"^L:", text, re.M):  # ABC's default unit: 1/16 below a 3/4 meter, else 1/8
        m = re.search(r"^M:\s*(\d+)\s*/\s*(\d+)", text, re.M)
        unit = "1/16" if m and int(m.group(2)) and int(m.group(1)) / int(m.group(2)) < 0.75 else "1/8"
        text = re.sub(r"^(X:[^\n]*)", rf"\1\nL:{unit}", text, count=1, flags=re.M)
    if not re.search(r"^K:", text, re.M):  # the body starts after K:, so it must be there
        lines = text.split("\n")
        head = [ln for ln in lines if re.match(r"^[A-Za-z]:", ln)]
        body = [ln for ln in lines if not re.match(r"^[A-Za-z]:", ln)]
        text = "\n".join([*head, "K:C", *body])
    number, tune_text = split_tunes(text)[0]
    try:
        return parse_tune(tune_text, "abc", "typed", number)
    except ValueError as exc:  # a pitch music21 could not name
        raise MusicReadError(f"This is not ABC music21 can read ({str(exc)[:120]}).") from None
    except EmptyTuneError:
        raise MusicReadError("The ABC has no notes: write them after the K: line, e.g. K:G then GABc dedB.") from None
    except TuneParseError as exc:
        raise MusicReadError(f"This is not ABC music21 can read ({str(exc)[:120]}).") from None
