"""Human chords to measure a harmoniser against, per beat: POP909's annotations, quoted ABC chords, lead sheets
and chordified Bach chorales as 4-bar windows, the two baselines (tonic everywhere, best diatonic triad per beat)
and the agreement of vae.harmony.harmonise with them. bench.harmony and `python -m explorer report` read these.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import numpy as np

from vae.chords import INTERVALS, MAJOR_STEPS, MINOR_STEPS, Chord, ChordError, parse_chord
from vae.harmony import METHODS, chord_at, harmonise
from vae.meter import Meter
from vae.music import estimate_key
from vae.paths import REPO
from vae.tokenizer import Note

POP909 = REPO.parent / "shared" / "data" / "pop909-dev"  # POP909 songs with chord_midi.txt, where present

BARS = 4
FAMILY = {"maj": "maj", "7": "maj", "maj7": "maj", "min": "min", "min7": "min", "dim": "dim", "hdim7": "dim",
          "dim7": "dim", "aug": "aug", "sus4": "sus4"}
# POP909's qualities (Harte syntax, inversion dropped) -> ours; anything else keeps its root and matches no quality.
HARTE = {"maj": "maj", "min": "min", "dim": "dim", "aug": "aug", "7": "7", "maj7": "maj7", "min7": "min7",
         "hdim7": "hdim7", "dim7": "dim7", "sus4": "sus4", "maj6": "maj", "min6": "min", "minmaj7": "min",
         "sus4(b7)": "sus4"}
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


class Window:
    """One melody window and its human chords, one label per beat (None where the human gave no chord)."""

    def __init__(self, notes: list[Note], meter: Meter, labels: list[tuple[int, str] | None]):
        self.notes, self.meter, self.labels = notes, meter, labels


# Sources ---------------------------------------------------------------------------------------------------

def _harte(label: str) -> tuple[int, str] | None:
    """'A:min7' -> (9, 'min7'); 'C:maj/3' -> (0, 'maj'); 'D:sus2' -> (2, 'sus2'); 'N' -> None."""
    if ":" not in label:
        return None
    root, qual = label.split(":", 1)
    pc = (_PC[root[0]] + root[1:].count("#") - root[1:].count("b")) % 12
    qual = qual.split("/")[0]
    return pc, HARTE.get(qual, qual)


def pop909_windows(songs: int, first: int = 700, folder: Path = POP909) -> list[Window]:
    """4-bar windows (hop 4 bars, 4/4 bars only) of `songs` POP909 songs numbered from `first` in `folder`."""
    import pretty_midi

    numbers = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit() and int(p.name) >= first)[:songs]
    root = folder
    out = []
    for number in numbers:
        folder = root / f"{number:03d}"
        beats = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
        times, down = beats[:, 0], np.flatnonzero(beats[:, 2] == 1)
        chords = [(float(a), float(b), _harte(c)) for a, b, c in
                  (line.split() for line in (folder / "chord_midi.txt").read_text().splitlines() if line.strip())]
        pm = pretty_midi.PrettyMIDI(str(folder / f"{number:03d}.mid"))
        melody = next(i for i in pm.instruments if i.name.strip().upper() == "MELODY")
        # seconds -> beats (linear between beat times; NaN after the last beat) -> 16th steps
        index = np.arange(len(times))
        notes_all = [(n.pitch, float(np.interp(n.start, times, index, right=np.nan)),
                      float(np.interp(n.end, times, index, right=np.nan))) for n in melody.notes]
        k = 0
        while k + 4 < len(down):
            d = down[k]
            if any(down[k + j] - d != 4 * j for j in range(1, 5)):  # not four 4/4 bars
                k += 1
                continue
            notes = [Note(p, int(round((s - d) * 4)), int(round((e - d) * 4))) for p, s, e in notes_all
                     if np.isfinite(s) and np.isfinite(e) and d <= s < d + 16]
            notes = [n._replace(end=min(max(n.end, n.start + 1), 64)) for n in notes]
            labels = []
            for b in range(16):
                mid = (times[d + b] + times[d + b + 1]) / 2 if d + b + 1 < len(times) else times[d + b]
                labels.append(next((c for a, e, c in chords if a <= mid < e), None))
            if len(notes) >= 4 and sum(lab is not None for lab in labels) >= 8:
                out.append(Window(_monophonic(notes), Meter(4, 4), labels))
            k += 4
    return out


def _monophonic(notes: list[Note]) -> list[Note]:
    notes = sorted(set(notes), key=lambda n: (n.start, -n.pitch))
    out: list[Note] = []
    for n in notes:
        if out and n.start == out[-1].start:
            continue
        if out and out[-1].end > n.start:
            out[-1] = out[-1]._replace(end=n.start)
        out.append(n)
    return [n for n in out if n.end > n.start]


def _symbol(text: str) -> tuple[int, str] | None:
    """A quoted ABC chord ('Am/c', 'D7', 'G7/b') -> (root, quality); None for an annotation that is no chord."""
    text = text.strip().split("/")[0].replace("min", "m")
    try:
        c = parse_chord(text)
    except ChordError:
        return None
    return c.root, c.quality


def abc_windows() -> tuple[list[Window], int]:
    """Windows of every corpus ABC tune with at least four quoted chord symbols; returns (windows, tunes)."""
    import music21
    from music21.abcFormat import ABCBar, ABCHandler, ABCNote

    from vae.abc_reader import parse_tune, split_tunes
    from vae.constants import STEPS_PER_QUARTER
    from vae.text import decode_text

    root = Path(music21.__file__).parent / "corpus"
    out, tunes = [], 0
    for path in sorted(root.rglob("*.abc")):
        text = decode_text(path.read_bytes())
        if "josquin" in path.parts or not re.search(r'"[A-G][^"]*"', text):  # Josquin: section letters
            continue
        for number, body in split_tunes(text):
            if len(re.findall(r'"[A-G][#b]?m?\d*(?:/[^"]*)?"', body)) < 4:
                continue
            try:
                tune = parse_tune(body, "abc", str(path.relative_to(root)), number)
                handler = ABCHandler()
                handler.process(body)
            except Exception:  # a tune the reader refuses is not material here
                continue
            symbols, pos = [], 0.0  # the same position walk as abc_reader.parse_tune
            for tok in handler.tokens:
                if isinstance(tok, ABCBar) or not isinstance(tok, ABCNote) or tok.inGrace:
                    continue
                for q in re.findall(r'"([^"]*)"', tok.src):
                    sym = _symbol(q)
                    if sym:
                        symbols.append((int(round(pos * STEPS_PER_QUARTER)), sym))
                ql = float(tok.quarterLength)
                if tok.activeTuplet is not None:
                    ratio = getattr(tok.activeTuplet, "tupletObj", tok.activeTuplet)
                    ql *= ratio.numberNotesNormal / ratio.numberNotesActual
                pos += ql
            if len(symbols) < 4:
                continue
            tunes += 1
            out += _windows_from(tune.notes, tune.bar_lines, Meter.parse(tune.meter), symbols)
    return out, tunes


def _windows_from(notes: list[Note], bar_lines: list[int], meter: Meter,
                  symbols: list[tuple[int, tuple[int, str]]]) -> list[Window]:
    """4-bar windows from bar lines (hop 4 bars); each beat's label is the last chord symbol at or before it."""
    out = []
    span = BARS * meter.bar_steps
    bars = sorted(set(bar_lines))
    for i in range(0, len(bars), BARS):
        start = bars[i]
        inside = [Note(n.pitch, n.start - start, min(n.end - start, span)) for n in notes
                  if start <= n.start < start + span]
        labels = []
        for b in range(0, span, meter.beat_steps):
            before = [sym for s, sym in symbols if s <= start + b]
            labels.append(before[-1] if before else None)
        if len(inside) >= 4 and sum(lab is not None for lab in labels) >= len(labels) // 2:
            out.append(Window(inside, meter, labels))
    return out


def leadsheet_windows() -> list[Window]:
    """The corpus's MusicXML lead sheets: the melody and its chord symbols."""
    import music21
    from music21 import harmony

    kinds = {"major": "maj", "minor": "min", "diminished": "dim", "augmented": "aug", "dominant-seventh": "7",
             "major-seventh": "maj7", "minor-seventh": "min7", "half-diminished-seventh": "hdim7",
             "diminished-seventh": "dim7", "suspended-fourth": "sus4", "dominant": "7"}
    out = []
    for path in sorted((Path(music21.__file__).parent / "corpus" / "leadSheet").glob("*.mxl")):
        score = music21.converter.parse(path)
        part = score.parts[0]
        ts = part.recurse().getElementsByClass("TimeSignature")
        meter = Meter.parse(ts[0].ratioString if ts else "4/4")
        symbols, notes = [], []
        for el in part.recurse():
            off = int(round(float(el.getOffsetInHierarchy(part)) * 4))
            if isinstance(el, harmony.ChordSymbol):
                symbols.append((off, (el.root().pitchClass, kinds.get(el.chordKind, el.chordKind))))
            elif isinstance(el, music21.note.Note):
                notes.append(Note(el.pitch.midi, off, off + max(int(round(float(el.quarterLength) * 4)), 1)))
        bar_lines = [int(round(float(m.getOffsetInHierarchy(part)) * 4)) for m in part.getElementsByClass("Measure")]
        bar_lines = [b for b in bar_lines if b >= 0 and (b > 0 or (notes and notes[0].start == 0))]
        out += _windows_from(_monophonic(notes), bar_lines, meter, symbols)
    return out


def _chord_label(ch) -> tuple[int, str] | None:
    """A chordified verticality -> (root, quality) from music21's analysis; None for fewer than 3 pitch classes."""
    pcs = {p.pitchClass for p in ch.pitches}
    if len(pcs) < 3:
        return None
    root = ch.root().pitchClass
    rel = frozenset((pc - root) % 12 for pc in pcs)
    for q, iv in sorted(INTERVALS.items(), key=lambda kv: -len(kv[1])):
        if set(iv) <= rel:
            return root, q
    return root, "other"


def chorale_windows(limit: int, skip: int = 0) -> list[Window]:
    """`limit` Bach chorales after the first `skip` (corpus order): the soprano against the chordified parts."""
    from music21 import corpus

    out = []
    for path in corpus.getComposer("bach")[skip:skip + limit]:
        try:
            score = corpus.parse(path)
        except Exception:
            continue
        if len(score.parts) < 4:
            continue
        sop = score.parts[0]
        ts = sop.recurse().getElementsByClass("TimeSignature")
        meter = Meter.parse(ts[0].ratioString if ts else "4/4")
        notes = [Note(n.pitch.midi, int(round(float(n.getOffsetInHierarchy(sop)) * 4)),
                      int(round(float(n.getOffsetInHierarchy(sop) + n.quarterLength) * 4)))
                 for n in sop.recurse().notes if n.isNote]
        chords = [(int(round(float(c.getOffsetInHierarchy(score)) * 4)), c)
                  for c in score.chordify().recurse().getElementsByClass("Chord")]
        symbols = [(s, lab) for s, c in chords if (lab := _chord_label(c))]
        measures = sop.getElementsByClass("Measure")
        bar_lines = [int(round(float(m.getOffsetInHierarchy(sop)) * 4)) for m in measures]
        if measures and measures[0].paddingLeft:
            bar_lines = bar_lines[1:]
        # a chordified label holds only until the next verticality: use the one sounding at each beat
        out += _windows_from(_monophonic(notes), bar_lines, meter, symbols)
    return out


# Scoring ---------------------------------------------------------------------------------------------------

def _key(notes: list[Note]) -> tuple[int, bool]:
    tonic, mode = estimate_key(notes)
    return tonic, mode == "minor"


def tonic_baseline(w: Window) -> list[Chord]:
    tonic, minor = _key(w.notes)
    return [Chord(tonic, "min" if minor else "maj")] * len(w.labels)


def triad_baseline(w: Window) -> list[Chord]:
    """Per beat, the diatonic triad with the most chord-tone duration in that beat (the earlier degree on a tie,
    the previous beat's triad when the beat is silent)."""
    tonic, minor = _key(w.notes)
    steps = MINOR_STEPS if minor else MAJOR_STEPS
    triads = []
    for d in range(7):
        root = steps[d]
        third, fifth = steps[(d + 2) % 7], steps[(d + 4) % 7]
        q = {(4, 7): "maj", (3, 7): "min", (3, 6): "dim", (4, 8): "aug"}[((third - root) % 12, (fifth - root) % 12)]
        triads.append(Chord((tonic + root) % 12, q))
    if minor:
        triads[4] = Chord((tonic + 7) % 12, "maj")  # the major V of harmonic minor
    out, prev = [], triads[0]
    b = w.meter.beat_steps
    for k in range(len(w.labels)):
        dur = np.zeros(12)
        for n in w.notes:
            over = min(n.end, (k + 1) * b) - max(n.start, k * b)
            if over > 0:
                dur[n.pitch % 12] += over
        if dur.sum():
            prev = max(triads, key=lambda c: sum(dur[p] for p in c.pitch_classes))
        out.append(prev)
    return out


HARMONISERS = METHODS  # vae.harmony's two transition models, side by side
BASELINES = ("tonic", "best triad")
REPEATS = 3  # harmonise calls per window and method; the fastest is its time


def score(windows: list[Window]) -> dict:
    """Agreement of both harmonisers and the two baselines with the human labels, and each harmoniser's CPU time
    per window (ms lists under "_ms", percentiles under "ms")."""
    hits = {m: {"root": 0, "triad": 0, "full": 0} for m in (*HARMONISERS, *BASELINES)}
    beats, times = 0, {m: [] for m in HARMONISERS}
    for w in windows:
        span = len(w.labels) * w.meter.beat_steps
        preds = {}
        for m in HARMONISERS:
            # CPU time of the best of REPEATS calls: wall time on a busy shared machine measures its neighbours
            cpu = []
            for _ in range(REPEATS):
                t0 = time.process_time()
                spans = harmonise(w.notes, steps_per_bar=span // BARS, bars=BARS, meter=w.meter, method=m)
                cpu.append(time.process_time() - t0)
            times[m].append(min(cpu))
            preds[m] = [chord_at(spans, k * w.meter.beat_steps) for k in range(len(w.labels))]
        preds["tonic"], preds["best triad"] = tonic_baseline(w), triad_baseline(w)
        for name, pred in preds.items():
            for lab, c in zip(w.labels, pred, strict=True):
                if lab is None or c is None:
                    continue
                root_ok = lab[0] == c.root
                hits[name]["root"] += root_ok
                hits[name]["triad"] += root_ok and FAMILY.get(lab[1], lab[1]) == FAMILY[c.quality]
                hits[name]["full"] += root_ok and lab[1] == c.quality
        beats += sum(lab is not None for lab in w.labels)
    acc = {m: {k: round(v / max(beats, 1), 3) for k, v in h.items()} for m, h in hits.items()}
    ms = {m: sorted(t * 1000 for t in ts) for m, ts in times.items()}
    return {"windows": len(windows), "beats": beats, "accuracy": acc,
            "ms": {m: percentiles(v) for m, v in ms.items()}, "_ms": ms}


def percentiles(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {"p50_ms": round(statistics.median(ms), 3) if ms else None,
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3) if ms else None}
