"""Chords for a melody: a key-aware Viterbi harmoniser, the backing patterns that play them, and a fit score.

`harmonise` chooses one chord a bar, or two where the melody's harmony moves mid-bar, from the diatonic
triads and sevenths of the melody's key plus the chromatic chords folk and pop melodies ask for (secondary
dominants, bVII, the major IV of a minor key). Each half bar scores how much of the melody's weight (duration
times metrical strength) lies on chord tones. Two transition models score the path: "rules" (the default), a
hand-set prior (root down a fifth, IV->V, a dominant resolving, a cadence at the end), and "learned", chord-to-chord
log probabilities per boundary (bar line or mid-bar) learned from Bach chorales and POP909 songs that no benchmark
scores, mixed with half the rules (vae/pretrained/harmony/chord_transitions.json, made by
`python -m bench.harmony_learn`). bench/harmony.md sets them side by side: learned agrees more with the chorales
and lead sheets, as well with pop, and less with the folk tunes, so the page keeps the rules. Pure numpy over a few
dozen candidates: about a millisecond of CPU a window, so it can run on every slider move.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from vae.chords import INTERVALS, MAJOR_STEPS, Chord, chord_name
from vae.meter import Meter
from vae.music import estimate_key, key_correlations
from vae.tokenizer import Note

# Candidates per mode: (semitones above the tonic, quality, prior cost). Plain diatonic triads cost nothing;
# sevenths cost a little, so the triad wins unless the melody sounds the seventh; chromatic chords cost more,
# so they win only where the melody has their chromatic tone. A fourth field True marks a secondary dominant,
# which wants the chord a fifth below next.
MAJOR_CANDIDATES = (
    (0, "maj", 0.0), (2, "min", 0.05), (4, "min", 0.12), (5, "maj", 0.0), (7, "maj", 0.0), (9, "min", 0.05),
    (11, "dim", 0.3), (0, "maj7", 0.2), (2, "min7", 0.12), (5, "maj7", 0.2), (7, "7", 0.08), (9, "min7", 0.15),
    (11, "hdim7", 0.3), (10, "maj", 0.3), (5, "min", 0.35),
    # secondary dominants: V/V, V/vi, V/ii, V/IV
    (2, "7", 0.3, True), (4, "7", 0.3, True), (9, "7", 0.32, True), (0, "7", 0.35, True), (2, "maj", 0.3, True),
    (4, "maj", 0.3, True), (9, "maj", 0.32, True),
)
MINOR_CANDIDATES = (
    (0, "min", 0.0), (2, "dim", 0.3), (3, "maj", 0.05), (5, "min", 0.0), (7, "maj", 0.0), (7, "min", 0.15),
    (8, "maj", 0.05), (10, "maj", 0.05), (11, "dim", 0.3), (7, "7", 0.08), (5, "min7", 0.15), (2, "hdim7", 0.3),
    (11, "dim7", 0.3), (0, "min7", 0.2), (8, "maj7", 0.2), (5, "maj", 0.25), (0, "maj", 0.3),
    # secondary dominants: V/III, V/iv, V/V
    (10, "7", 0.25, True), (0, "7", 0.35, True), (2, "7", 0.35, True),
)

# Emission: a chord tone earns its weight; a non-chord tone in the key costs NONCHORD_SCALE of it, a tone
# outside both the chord and the key costs NONCHORD_CHROMATIC (a clash a listener hears).
NONCHORD_SCALE = 0.45
NONCHORD_CHROMATIC = 1.0
ROOT_BONUS = 0.1  # the melody on the root anchors a chord a little more than on its fifth
EMISSION = 1.0  # emission scale against the transition costs below (one half bar of solid fit)
# Step weights within a bar (16th grid): downbeat, other beats, eighths, sixteenths.
STRENGTH = (1.0, 0.7, 0.45, 0.3)
# Transition scores between different chords (added to the log score), by root motion in semitones up.
MOTION = {5: 0.25, 7: 0.05, 2: 0.1, 10: 0.05, 9: 0.05, 3: 0.0, 8: 0.0, 4: -0.05, 1: -0.2, 11: -0.2, 6: -0.3}
CHANGE_AT_BAR = 0.2  # a change of chord on a bar line
CHANGE_MID_BAR = 0.45  # a change inside the bar must be earned by the melody
UNRESOLVED = 0.35  # a chromatic dominant not followed by its resolution
START_TONIC = 0.0  # a window may start anywhere in a tune (tuned on POP909 401-425 and 12 chorales)
END_TONIC = 0.35  # the cadence: the window ends on the tonic...
END_DOMINANT = 0.15  # ...or on a half cadence
SEVENTH_TONE = 0.3  # the seventh of a seventh chord covers a melody note for this share of a triad tone
KEY_CANDIDATES = 3  # keys tried when none is given
KEY_FIT = 2.0  # weight of the key's correlation with the notes against the harmonisation's score


class _Table:
    """The candidates of one mode as arrays: roots relative to the tonic, membership [C, 12], priors, moves."""

    def __init__(self, candidates, minor: bool):
        self.chords = [(c[0], c[1]) for c in candidates]
        steps = MAJOR_STEPS if not minor else (0, 2, 3, 5, 7, 8, 10, 11)  # minor keeps its leading tone
        scale = np.zeros(12, bool)
        scale[list(steps)] = True
        n = len(candidates)
        self.member = np.zeros((n, 12))
        for i, (step, q) in enumerate(self.chords):
            tones = [(step + iv) % 12 for iv in INTERVALS[q]]
            row = np.where(scale, -NONCHORD_SCALE, -NONCHORD_CHROMATIC)
            row[tones] = 1.0
            if len(tones) == 4:
                row[tones[3]] = SEVENTH_TONE
            row[step % 12] += ROOT_BONUS
            self.member[i] = row
        self.prior = -np.array([c[2] for c in candidates])
        secondary = [len(c) > 3 and c[3] for c in candidates]
        trans = np.zeros((n, n))
        for a, (sa, qa) in enumerate(self.chords):
            for b, (sb, qb) in enumerate(self.chords):
                if a == b:
                    continue
                motion = (sb - sa) % 12
                score = MOTION.get(motion, -0.3) if motion else -0.1  # same root, new quality: a colour change
                if secondary[a] and motion != 5:
                    score -= UNRESOLVED  # a secondary dominant should resolve
                if (sa, qa) in ((7, "maj"), (7, "7")) and (sb, qb) in ((0, "maj"), (0, "min")):
                    score += 0.15  # the authentic cadence
                if sa == 5 and sb == 7:
                    score += 0.1  # IV -> V
                trans[a, b] = score
        self.trans = trans
        # The moves matrix of each kind of boundary: staying is free, a change pays for where it happens.
        self.moves = {}
        for at_bar, cost in ((True, CHANGE_AT_BAR), (False, CHANGE_MID_BAR)):
            m = trans - cost
            np.fill_diagonal(m, 0.0)
            self.moves[at_bar] = m
        self.start = np.array([START_TONIC if s == 0 and q in ("maj", "min") else 0.0 for s, q in self.chords])
        self.end = np.array([END_TONIC if s == 0 and q in ("maj", "min", "maj7", "min7") else
                             END_DOMINANT if s == 7 and q in ("maj", "7") else 0.0 for s, q in self.chords])


def build_tables() -> dict[bool, _Table]:
    """The candidate tables of both modes from the module's weights (rebuilt by a tuning script that changes them)."""
    return {False: _Table(MAJOR_CANDIDATES, False), True: _Table(MINOR_CANDIDATES, True)}


_TABLES = build_tables()

TRANSITIONS = Path(__file__).resolve().parent / "pretrained" / "harmony" / "chord_transitions.json"
METHODS = ("learned", "rules")
DEFAULT_METHOD = "rules"  # bench/harmony.md: learned is not better on every held-out set (folk tunes: worse)


def candidate_names(minor: bool) -> list[str]:
    """The candidates of a mode as 'step:quality' ('7:7' is V7), the labels chord_transitions.json is keyed by."""
    return [f"{step}:{q}" for step, q in _TABLES[minor].chords]


class _Learned:
    """A mode's candidates scored by learned transitions: the rules table's chord-tone rows and (scaled by the
    file's `prior` weight) its cost of colour chords, log P(next | this) per kind of boundary (plus the rules' motion
    scores times `rules`), log P(first) at the start and the cadence weight of the file."""

    def __init__(self, base: _Table, mode: dict, weights: dict):
        if mode["chords"] != [f"{st}:{q}" for st, q in base.chords]:
            raise ValueError("the transitions file was learned for other candidates: run python -m bench.harmony_learn")
        scale = float(weights["transition"])
        self.chords, self.member = base.chords, base.member
        self.prior = float(weights.get("prior", 0.0)) * base.prior  # the rules' cost of sevenths and chromatic chords
        # a change inside the bar pays `mid_change` on top of its learned odds: folk tunes move less than chorales
        mid = scale * np.asarray(mode["mid"]) - float(weights.get("mid_change", 0.0))
        mid[np.diag_indices_from(mid)] += float(weights.get("mid_change", 0.0))
        rules = float(weights.get("rules", 0.0))  # the hand-set motion scores mixed in
        self.moves = {True: scale * np.asarray(mode["bar"]) + rules * base.moves[True],
                      False: mid + rules * base.moves[False]}
        self.start = scale * np.asarray(mode["start"]) + rules * base.start
        self.end = float(weights["end"]) * base.end / max(END_TONIC, 1e-9)
        self.emission, self.key_fit = float(weights["emission"]), float(weights["key_fit"])


@lru_cache(maxsize=64)
def learned_tables(path: Path = TRANSITIONS) -> dict[bool, _Learned]:
    """Both modes' learned tables from chord_transitions.json (read once)."""
    data = json.loads(Path(path).read_text())
    return {minor: _Learned(_TABLES[minor], data["minor" if minor else "major"], data["weights"])
            for minor in (False, True)}


def step_strengths(meter: Meter, total: int) -> np.ndarray:
    """Metrical weight of each step [total]: downbeat, beat, eighth, sixteenth (from STRENGTH)."""
    s = np.arange(total) % meter.bar_steps
    return np.where(s == 0, STRENGTH[0], np.where(s % meter.beat_steps == 0, STRENGTH[1],
                    np.where(s % 2 == 0, STRENGTH[2], STRENGTH[3])))


def segments(meter: Meter, total: int) -> list[tuple[int, int, bool]]:
    """Half bars (start, end, starts_a_bar) covering `total` steps; bars of an odd number of beats are not split
    (3/4, 9/8, 5/4), nor is a partial last bar."""
    bar = meter.bar_steps
    beats = bar // meter.beat_steps
    out = []
    for b in range(0, total, bar):
        end = min(b + bar, total)
        if beats % 2 == 0 and end - b == bar:
            half = b + bar // 2
            out += [(b, half, True), (half, end, False)]
        else:
            out.append((b, end, True))
    return out


def _resolve_key(notes: list[Note], key) -> tuple[int, bool]:
    if key is None:
        tonic, mode = estimate_key(notes)
        return tonic, mode == "minor"
    if isinstance(key, str):
        from vae.chords import parse_key

        return parse_key(key.replace(" major", "").replace(" minor", "m"))
    tonic, mode = key
    return int(tonic) % 12, mode in ("minor", True)


def harmonise(notes: Iterable, steps_per_bar: int = 16, bars: int = 4, key=None,
              meter: str | Meter = "4/4", method: str = DEFAULT_METHOD,
              transitions: Path = TRANSITIONS) -> list[tuple[int, int, Chord]]:
    """Chords for a melody: [(start_step, end_step, Chord)], one a bar of `meter`, or two where the melody's
    harmony moves mid-bar, covering the window of steps_per_bar * bars steps (the grid's window; a 6/8 window
    of 64 steps holds 5 1/3 bars of 12, each gets its chord).

    notes: Note(pitch, start, end) on the 16th grid. key: None (the best-harmonised of the KEY_CANDIDATES keys
    that fit the notes best), a name ('G', 'E minor', 'Em') or (tonic 0..11, 'major' | 'minor').
    method: "learned" (the transitions file `transitions`, chord_transitions.json unless a tuning run gives
    another) or "rules" (the hand-set prior). Deterministic; a silent window gets the tonic chord (of C major when
    no key is given).
    """
    notes = [Note(*n) for n in notes]
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    total = steps_per_bar * bars
    segs = segments(meter, total)

    # Weight of each pitch class in each segment: duration x metrical strength, onsets counting extra.
    strength = step_strengths(meter, total)
    pcs = np.full(total, -1)
    onset = np.zeros(total)
    for n in notes:
        s, e = max(n.start, 0), min(n.end, total)
        if e > s:
            pcs[s:e] = n.pitch % 12
            onset[s] = 1.0
    weight = strength * (1.0 + onset)
    seg_of = np.zeros(total, np.int64)
    for i, (s, e, _) in enumerate(segs):
        seg_of[s:e] = i
    sounding = pcs >= 0
    hist = np.zeros((len(segs), 12))
    np.add.at(hist, (seg_of[sounding], pcs[sounding]), weight[sounding])
    mass = hist.sum(axis=1, keepdims=True)
    norm = np.minimum(mass, 1.0) / np.maximum(mass, 1e-9)  # a half bar of near-silence counts for little

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    tables = learned_tables(Path(transitions)) if method == "learned" else _TABLES
    keys = _keys(notes, key)
    if not sounding.any():  # nothing to harmonise: the tonic chord each bar
        tonic, minor, _ = keys[0]
        return [(s, min(s + meter.bar_steps, total), Chord(tonic, "min" if minor else "maj"))
                for s in range(0, total, meter.bar_steps)]
    best = None
    for tonic, minor, fit in keys:
        table = tables[minor]
        scale, key_fit = (table.emission, table.key_fit) if method == "learned" else (EMISSION, KEY_FIT)
        emit = scale * (np.roll(hist, -tonic, axis=1) @ table.member.T) * norm + table.prior
        total_score, path = _viterbi(emit, segs, table)
        total_score += key_fit * fit
        if best is None or total_score > best[0] + 1e-9:
            best = (total_score, tonic, table, path)
    _, tonic, table, path = best

    out: list[tuple[int, int, Chord]] = []
    for (s, e, bar_start), c in zip(segs, path, strict=True):
        step, q = table.chords[c]
        chord = Chord((tonic + step) % 12, q)
        if out and not bar_start and out[-1][2] == chord:
            out[-1] = (out[-1][0], e, chord)  # the same chord through the bar: one symbol
        else:
            out.append((s, e, chord))
    return out


def key_of(notes: Iterable) -> tuple[int, bool]:
    """The key harmonise tries first for a melody: (tonic 0..11, minor)."""
    tonic, minor, _ = _keys([Note(*n) for n in notes], None)[0]
    return tonic, minor


def _keys(notes: list[Note], key) -> list[tuple[int, bool, float]]:
    """The keys to try: (tonic, minor, fit to the notes' pitch classes). A given key alone; otherwise the
    KEY_CANDIDATES best by Krumhansl-Schmuckler correlation (a 4-bar melody often leaves its relative or
    dominant key close behind), C major for silence."""
    if key is not None:
        tonic, minor = _resolve_key(notes, key)
        return [(tonic, minor, 0.0)]
    hist = np.zeros((1, 12))
    for n in notes:
        hist[0, n.pitch % 12] += max(n.end - n.start, 1)
    corr = key_correlations(hist)[0]
    if not np.isfinite(corr).all():
        return [(0, False, 0.0)]
    order = np.argsort(-corr, kind="stable")[:KEY_CANDIDATES]
    return [(int(k) % 12, bool(k >= 12), float(corr[k])) for k in order]


def _viterbi(emit: np.ndarray, segs, table) -> tuple[float, list[int]]:
    """Best chord path through the segments' emission scores [S, C]: (its total score, candidate indices)."""
    n_seg = len(segs)
    score = emit[0] + table.start
    back = np.zeros((n_seg, len(table.chords)), np.int64)
    for i in range(1, n_seg):
        cand = score[:, None] + table.moves[segs[i][2]]
        back[i] = cand.argmax(axis=0)
        score = cand.max(axis=0) + emit[i]
    score = score + table.end
    path = [int(score.argmax())]
    for i in range(n_seg - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    path.reverse()
    return float(score.max()), path


def spans_from_bars(bars: Sequence[Sequence[Chord]], meter: str | Meter = "4/4",
                    total: int = 64) -> list[tuple[int, int, Chord]]:
    """A typed progression (parse_progression's bars) laid over `total` steps: each bar's chords share its
    beats evenly (a chord starts on a beat), and the progression repeats from the top to fill the window
    (a longer one is cut at the window's end)."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    if not bars:
        return []
    out = []
    bar, i = meter.bar_steps, 0
    for b in range(0, total, bar):
        chords = bars[i % len(bars)]
        i += 1
        beats = max(bar // meter.beat_steps, 1)
        for k, c in enumerate(chords):
            s = b + (k * beats // len(chords)) * meter.beat_steps
            e = b + ((k + 1) * beats // len(chords)) * meter.beat_steps if k + 1 < len(chords) else b + bar
            s, e = min(s, total), min(e, total)
            if e > s:
                out.append((s, e, c))
    return out


def progression_fit(bars: Sequence[Sequence[Chord]], meter: str | Meter = "4/4", total: int = 64) -> str:
    """One sentence on how spans_from_bars lays a typed progression over `total` steps, '' when it fits exactly:
    a longer one is cut (its later bars are not played), a shorter one repeats from the top."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    have, need = len(bars), -(-total // meter.bar_steps)
    if have > need:
        cut = (f"the last one (bar {have}) is" if have - need == 1
               else f"the last {have - need} (bars {need + 1}-{have}) are")
        return (f"Your chords run {have} bars and the melody {need}: the first {need} are played over it and {cut} "
                "left out.")
    if have < need and have:
        return (f"Your chords run {have} {'bar' if have == 1 else 'bars'} and the melody {need}: they repeat from "
                f"the top to fill it.")
    return ""


def chord_at(chords: Sequence[tuple[int, int, Chord]], step: int) -> Chord | None:
    """The chord sounding at `step`, or None outside every span."""
    for s, e, c in chords:
        if s <= step < e:
            return c
    return None


def melody_fit(notes: Iterable, chords: Sequence[tuple[int, int, Chord]], meter: str | Meter = "4/4") -> float:
    """Share of the strong-beat melody on chord tones: each beat where a note sounds counts that note's duration,
    and scores it when the note is a tone of the chord at that beat. 1.0 when no note sounds on a beat."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    on = total = 0.0
    for n in notes:
        n = Note(*n)
        first = -(-n.start // meter.beat_steps) * meter.beat_steps
        for beat in range(first, n.end, meter.beat_steps):
            c = chord_at(chords, beat)
            if c is None:
                continue
            w = n.end - n.start
            total += w
            on += w if n.pitch % 12 in c.pitch_classes else 0.0
    return on / total if total else 1.0


# Backing ---------------------------------------------------------------------------------------------------

PATTERNS = ("block", "broken", "bass-chord", "waltz", "jig")
BASS_LOW = 36  # C2: the bass lies in C2..B2
CHORD_LOW = 50  # D3: the upper voices lie in one octave from here, below most melodies
CHORD_FLOOR = 43  # G2: under a very low melody the chord may go this low, no lower (it would turn to mud)


def voicing(chord: Chord, melody_low: int | None = None) -> tuple[int, list[int]]:
    """(bass pitch in C2..B2, close-position upper voices in the octave from CHORD_LOW, or in the octave just
    under the melody's lowest note when that is lower, never starting below CHORD_FLOOR)."""
    bass = BASS_LOW + chord.root % 12
    low = CHORD_LOW if melody_low is None else max(min(CHORD_LOW, melody_low - 12), CHORD_FLOOR)
    upper = sorted(low + (pc - low) % 12 for pc in chord.pitch_classes)
    return bass, upper


def backing(chords: Sequence[tuple[int, int, Chord]], pattern: str = "block", meter: str | Meter = "4/4",
            steps_per_bar: int = 16, melody_low: int | None = None) -> list[Note]:
    """The notes that play `chords` (harmonise's spans) under a melody, sorted by (start, pitch).

    block: bass and chord held through each span. broken: bass on the span's start, then the chord tones up and
    down in eighths. bass-chord: bass on each bar's first beat, the chord on every other beat. waltz: bass on
    the downbeat, short chords on the other beats (3/4: oom-pah-pah). jig: on every beat, bass on its first
    eighth and short chords on the others (6/8: bass-chord-chord per dotted beat), bass alternating root and
    fifth. steps_per_bar is the grid's bar (16); bars and beats follow `meter`.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"backing pattern must be one of {', '.join(PATTERNS)}, not {pattern!r}")
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    bar, beat = meter.bar_steps, meter.beat_steps
    del steps_per_bar  # bars and beats come from the meter; kept so callers pass the format's value alike
    out: list[Note] = []
    for s, e, chord in chords:
        bass, upper = voicing(chord, melody_low)
        fifth = bass + 7 if bass + 7 < BASS_LOW + 12 else bass - 5
        if pattern == "block":
            out += [Note(p, s, e) for p in (bass, *upper)]
        elif pattern == "broken":
            order = [bass, *upper, *upper[-2:0:-1]]
            for k, t in enumerate(range(s, e, 2)):
                out.append(Note(order[k % len(order)], t, min(t + 2, e)))
        elif pattern in ("bass-chord", "waltz"):
            for t in range(s, e, beat):
                if t % bar == 0 or t == s:
                    out.append(Note(bass, t, min(t + beat, e)))
                else:
                    end = min(t + (beat if pattern == "bass-chord" else max(beat // 2, 1)), e)
                    out += [Note(p, t, end) for p in upper]
        else:  # jig
            pulse = max(beat // 3, 1) if meter.compound else max(beat // 2, 1)
            for k, t in enumerate(range(s - (s % beat), e, beat)):
                for j, u in enumerate(range(t, t + beat, pulse)):
                    if not s <= u < e:
                        continue
                    if j == 0:
                        out.append(Note(bass if k % 2 == 0 else fifth, u, min(u + pulse, e)))
                    else:
                        out += [Note(p, u, min(u + pulse, e)) for p in upper]
    return sorted(out, key=lambda n: (n.start, n.pitch))


def dance_pattern(meter: str | Meter = "4/4") -> str:
    """The dance backing of a meter: a waltz's oom-pah-pah in a bar of three beats (3/4, 3/8, 3/2), a jig's
    bass-chord-chord in compound time (6/8, 9/8, 12/8), and the reel's or polka's bass-chord on the eighths
    (the jig pattern on simple beats) in any other meter (4/4, 2/4, 2/2, 5/4)."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    return "waltz" if not meter.compound and meter.num % 3 == 0 else "jig"


def chord_bars(chords: Sequence[tuple[int, int, Chord]], meter: str | Meter = "4/4",
               total: int | None = None) -> list[list[Chord]]:
    """harmonise's spans read back as bars of `meter` (parse_progression's shape, the inverse of spans_from_bars):
    each bar lists the chords sounding in it, in order, a chord held over a bar line again in the next bar.
    Bars run to `total` steps (default: the last span's end); a bar without a chord is left out."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    total = max((e for _, e, _ in chords), default=0) if total is None else total
    out = []
    for b in range(0, total, meter.bar_steps):
        bar = [c for s, e, c in chords if s < b + meter.bar_steps and e > b]
        bar = [c for i, c in enumerate(bar) if i == 0 or c != bar[i - 1]]
        if bar:
            out.append(bar)
    return out


def chord_line(chords: Sequence[tuple[int, int, Chord]], meter: str | Meter = "4/4",
               total: int | None = None) -> str:
    """The chords as a musician writes them, bar lines between bars: 'C | Am | F G | C' ('' for no chords)."""
    return " | ".join(" ".join(chord_name(c) for c in bar) for bar in chord_bars(chords, meter, total))
