"""Read any MIDI file a user may upload and extract its candidate melodies, ranked, as 4-bar token windows.

Real-world files are messy (type 0/1/2, RIFF .rmi, karaoke, no tempo or hundreds of tempo changes,
corrupt bytes): they are read by the tolerant reader in vae.smf, not mido, and every failure becomes a MidiReadError or NoMelodyError whose text is one sentence
for the user. Work is bounded: files above 5 MB and 200,000 notes are refused before any heavy work.

Extraction follows MusicVAE's melody extractor: one line per instrument (track and channel; drums on
channel 10 dropped), onsets quantised in ticks (ticks / ticks_per_beat * 4, so tempo changes never shift
the grid), the top voice kept (skyline), lines split at long silences, 4-bar windows on bar lines. Each
segment is scored by its own features and by those of its whole instrument line (vae.melody_pick: a voice
sings one note at a time, in a singer's range, and enters after the intro), so the sung line of a pop
arrangement ranks above the instrumental lead that plays its intro and interludes.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae.constants import (
    FIRST_NOTE_ON,
    HOLD,
    MIN_PITCH,
    NOTE_OFF,
    STEPS_PER_BAR,
    STEPS_PER_QUARTER,
    fold_pitch,
)
from vae.errors import MidiReadError, MusicReadError, NoMelodyError
from vae.format import DEFAULT_FORMAT
from vae.melody_pick import ensemble_weight, line_features, line_score, on_top_shares
from vae.smf import read_smf
from vae.tokenizer import Note
from vae.tune import Tune

MAX_BYTES = 5 * 2**20  # bigger uploads are refused before parsing
MAX_NOTES = 200_000  # parsing stops here: a dense 30-minute piano performance has 30k-60k
MAX_STEPS = 10_000 * STEPS_PER_BAR  # notes after 10,000 bars (hours of music) are ignored
# A note held longer than this lost its note-off (a damaged or truncated file): it ends here. Unbounded, one such
# note made a "melody" of 4,115 bars of one held pitch, whose 4,115 windows all went to the page's menu.
MAX_NOTE_STEPS = 8 * STEPS_PER_BAR
WINDOW_STEPS = DEFAULT_FORMAT.window_steps
HOP_STEPS = STEPS_PER_BAR  # window starts sit on bar lines at least one 16-step bar apart (as in the corpus)
SPLIT_REST_STEPS = 2 * STEPS_PER_BAR  # a line is split at 2 bars of silence: sung phrases often rest 1 bar
MIN_NOTES = 2  # fewer notes are not a melody
DRUM_CHANNEL = 9  # channel 10 in musicians' numbering

_MELODY_NAME = re.compile(r"melod|vocal|voice|vox|\blead|solo|\bsing|\btune|theme|canto|\bvoz\b|stimme|gesang|chant")
_ACCOMP_NAME = re.compile(r"bass|drum|perc|chord|\bpad|string|accomp|\bcomp\b|rhythm|harmony|arp|backing|kick|"
                          r"snare|hat\b|cymbal|click|metronome")


@dataclass
class MidiCandidate:
    """One melody line found in a file: a track's top voice between long silences, with its 4-bar windows.

    Steps are 16th notes from the start of the file. `notes` may start before `start_step` (a pickup).
    `windows` are [n, 64] uint8 token windows starting at `window_starts` (steps on bar lines, at least
    16 apart, from start_step while a whole window fits before end_step; one padded window if the line is
    shorter). They are cut from the instrument's whole line, so one reaching past end_step holds what the
    instrument plays there.
    """

    track: int  # index of the track in the file (0-based)
    channel: int  # MIDI channel 0..15 (channel 10 = 9 is drums and never a candidate)
    name: str  # track or instrument name, "" if none
    program: int  # General MIDI program 0..127
    notes: list[Note]
    start_step: int  # first bar line of the line
    end_step: int  # bar line after its last note
    bars: int  # bars from start_step to end_step (bars of the file's meter)
    start_bar: int  # index of the bar at start_step (0-based)
    bar_lines: list[int]  # bar-start steps from start_step to before end_step (bars follow the file's meter)
    score: float  # higher = more likely the tune a person would hum
    features: dict[str, float]  # what the score was made of
    windows: np.ndarray
    window_starts: np.ndarray
    window_bars: list[tuple[int, int]] = field(default_factory=list)  # (first, last) bar number each window touches

    @property
    def window_labels(self) -> list[str]:
        """'bars 39-42' per window, numbered as in `label` (bars of the file's meter, the first full bar = 1)."""
        return [f"bar {a}" if a == b else f"bars {a}-{b}" for a, b in self.window_bars]

    @property
    def label(self) -> str:
        """Short description for a menu, e.g. 'Track 2 "Melody" (bars 1-32)'."""
        name = f' "{self.name}"' if self.name else ""
        return f"Track {self.track + 1}{name} (bars {self.start_bar + 1}-{self.start_bar + self.bars})"


@dataclass
class MidiMelodies:
    """Everything read from one file: candidates best first, file facts and what was repaired or skipped."""

    path: str  # "" when read from bytes
    candidates: list[MidiCandidate]
    tempo: float  # quarter notes per minute at the start (120 when the file gives none)
    time_signature: str  # first time signature, e.g. "4/4" (the MIDI default when none is given)
    ticks_per_beat: float
    num_tracks: int
    format: int  # 0, 1 or 2
    duration: float  # seconds to the end of the last note, through the tempo map
    warnings: list[str] = field(default_factory=list)  # one sentence each

    @property
    def best(self) -> MidiCandidate:
        return self.candidates[0]


def extract_melodies(source: str | Path | bytes, max_bytes: int = MAX_BYTES, max_notes: int = MAX_NOTES) -> MidiMelodies:
    """Read a MIDI file (path or bytes) and return its candidate melodies, best first.

    Raises MidiReadError (not MIDI, truncated before any note, too big, unreadable) or NoMelodyError
    (no notes, only drums, too few notes); str(error) is one sentence for the user.
    """
    path = ""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = str(source)
        try:
            with open(source, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise MidiReadError("The file could not be opened.") from exc
    if len(data) > max_bytes:
        raise MidiReadError(f"The file is larger than the {max_bytes / 2**20:g} MB limit.")
    song = read_smf(data, max_notes)
    warnings = sorted(song.repaired)
    pitched = [(t, tr) for t, tr in enumerate(song.tracks) if any(nt[0] != DRUM_CHANNEL for nt in tr.notes)]
    if not pitched:
        if any(tr.notes for tr in song.tracks):
            raise NoMelodyError("This file has only drum tracks.")
        if song.truncated:
            raise MidiReadError("The file ends in the middle of a track: it is truncated.")
        raise NoMelodyError("The file has no notes.")
    if song.truncated:
        warnings.append("The file is truncated: only the music before the cut was read.")
    if any(nt[0] == DRUM_CHANNEL for tr in song.tracks for nt in tr.notes):
        warnings.append("Drums (channel 10) were left out.")

    shift = grid_shift(np.array([nt[2] for _, tr in pitched for nt in tr.notes if nt[0] != DRUM_CHANNEL], np.int64),
                       song.tpb)
    step_of = _step_fn(song.tpb, shift)
    last_tick = max(nt[3] for tr in song.tracks for nt in tr.notes)
    end = min(int(step_of(last_tick)), MAX_STEPS) + STEPS_PER_BAR
    bars = _bar_lines(song.meters, song.tpb, end)
    first_onset = int(step_of(min(nt[2] for _, tr in pitched for nt in tr.notes if nt[0] != DRUM_CHANNEL)))
    song_start = int(step_of(min(nt[2] for tr in song.tracks for nt in tr.notes))) // STEPS_PER_BAR * STEPS_PER_BAR
    # Text events are syllables only in karaoke files; elsewhere they may be chord names or comments.
    syllables = song.lyrics + (song.texts if song.karaoke or any(t.name.lower() == "words" for t in song.tracks) else [])
    lyric_steps = np.unique(step_of(np.array(syllables, np.int64)))
    programs = {}
    for tr in song.tracks:
        for ch, prog in tr.programs.items():
            programs.setdefault(ch, prog)
    candidates: list[MidiCandidate] = []
    clipped = False
    lines = []
    for t, tr in pitched:
        channels = sorted({nt[0] for nt in tr.notes} - {DRUM_CHANNEL})
        for ch in channels:
            raw = np.array([nt[1:] for nt in tr.notes if nt[0] == ch], np.int64)
            name = tr.name or tr.instrument
            if len(channels) > 1:
                name = f"{name} (channel {ch + 1})".strip()
            program = tr.programs.get(ch, programs.get(ch, 0))
            line, found, cut, whole = _line_candidates(raw, song.tpb, step_of, lyric_steps, first_onset, shift)
            clipped |= cut
            lines.append((t, ch, name, program, line, found, whole))
    # Coverage: share of the song's bars in which an instrument's line has an onset.
    song_bars = max((end - song_start) // STEPS_PER_BAR, 1)
    coverage = [min(len({n.start // STEPS_PER_BAR for n in line}) / song_bars, 1.0) for *_, line, _, _ in lines]
    # Parts that play together through the piece (a string quartet, an orchestra, a choir): the tune is the one on
    # top more than the one that looks sung (vae.melody_pick.on_top_shares, ensemble_weight).
    on_top = on_top_shares([line for *_, line, _, _ in lines])
    ensemble = ensemble_weight(coverage, [whole.get("line_monophony", 0.0) for *_, whole in lines])
    for (t, ch, name, program, line, found, whole), cov, top_share in zip(lines, coverage, on_top, strict=True):
        for notes, feats in found:
            feats = dict(feats, coverage=cov, on_top=top_share, ensemble=ensemble, **whole)
            candidates.append(_candidate(t, ch, name, program, notes, line, bars, feats))
    if clipped:
        warnings.append(f"Notes after bar {MAX_STEPS // STEPS_PER_BAR:,} were ignored.")
    if not candidates:
        if song.truncated:
            raise MidiReadError("The file ends in the middle of a track: it is truncated.")
        raise NoMelodyError("The file has too few notes to make a melody.")
    candidates.sort(key=lambda c: (-c.score, c.track, c.channel, c.start_step))
    # The meter of the first full bar (not of a pickup), the tempo where the music starts.
    first_bar = bars[0] if bars else 0
    meter = "4/4"
    for tick, num, den in sorted(song.meters, key=lambda m: m[0]):
        if step_of(tick) <= first_bar:
            meter = f"{num}/{den}"
    first_tick = min(nt[2] for _, tr in pitched for nt in tr.notes)
    uspq = 500_000
    for tick, u in sorted(song.tempos, key=lambda x: x[0]):
        if tick <= first_tick:
            uspq = u
    return MidiMelodies(path, candidates, round(60e6 / uspq, 2), meter, song.tpb, len(song.tracks), song.format,
                        round(_seconds(last_tick, song.tempos, song.tpb), 2), warnings)


def _step_fn(tpb: float, shift: int = 0):
    """Tick -> nearest 16th step (ints or int arrays) after moving it by `shift` ticks (vae.midi_import.grid_shift),
    exact in integers when ticks per beat is whole."""
    if tpb == int(tpb):
        q = int(tpb)
        return lambda tick: ((tick + shift) * 2 * STEPS_PER_QUARTER + q) // (2 * q)  # round half up
    return lambda tick: np.floor((np.asarray(tick) + shift) * STEPS_PER_QUARTER / tpb + 0.5).astype(np.int64)


GRID_FOCUS = 0.6  # onsets this concentrated around one phase (mean resultant length) share an offset
MAX_SHIFT = 1.5  # the largest move, in 16th steps
OFFSET_EVEN_SHARE = 0.6  # a file moved past its nearest grid line has at least this share of onsets on eighths
ON_GRID_EVEN_SHARE = 0.25  # a file exactly on the 16th grid moves a whole 16th only below this share on eighths


def _phase(onsets: np.ndarray, unit: float) -> tuple[float, float]:
    """(circular mean phase of onsets within `unit` ticks, in (-unit/2, unit/2]; its concentration 0..1)."""
    ang = 2 * np.pi * np.mod(onsets, unit) / unit
    m = np.exp(1j * ang).mean()
    return float(np.angle(m)) * unit / (2 * np.pi), float(abs(m))


def grid_shift(onsets: np.ndarray, tpb: float) -> int:
    """Ticks to add to every event so that a file's onsets sit on the 16th grid; 0 for a file already on it.

    Real arrangements are often played in or exported with a constant offset: every note of POP909 song 401
    sits an eighth of a beat late, which the nearest 16th turns into a melody of off-beats. When the onsets
    agree on one phase, they are moved onto the nearest grid line, or one 16th further when that puts most of the
    song's onsets (every instrument's) on eighths, then more on beats: some POP909 songs sit half a 16th off,
    others a whole 16th late on every note. A syncopated tune keeps its off-beats: its onsets are not mostly
    on odd 16ths across all its instruments.
    """
    onsets = np.asarray(onsets, np.float64)
    if len(onsets) < 8 or tpb < 8:
        return 0
    sixteenth = tpb / STEPS_PER_QUARTER
    phase, focus = _phase(onsets, sixteenth)
    if focus < GRID_FOCUS:
        return 0
    nearest = -phase if abs(phase) >= sixteenth / 8 else 0.0  # on the grid already: nothing to round away

    def shares(cand: float) -> tuple[float, float]:
        steps = np.floor((onsets + cand) / sixteenth + 0.5).astype(np.int64)
        return float((steps % 2 == 0).mean()), float((steps % STEPS_PER_QUARTER == 0).mean())

    best, (even, beat) = nearest, shares(nearest)
    # One 16th further only for a file mostly on odd 16ths across all its instruments (an offset file, as
    # about one POP909 song in seven is) that the move puts mostly on eighths; a syncopated tune keeps its
    # off-beats, since its other instruments (and most of its own notes) still play on the beat.
    if even < (1 - OFFSET_EVEN_SHARE if nearest else ON_GRID_EVEN_SHARE):
        for cand in (nearest - sixteenth, nearest + sixteenth):
            got = shares(cand)
            if abs(cand) <= MAX_SHIFT * sixteenth and got[0] >= OFFSET_EVEN_SHARE and got > (even, beat):
                best, (even, beat) = cand, got
    best = int(round(best))
    return best


def _seconds(tick: int, tempos: list[tuple[int, int]], tpb: float) -> float:
    """Seconds from the start to `tick` through the tempo map (tempo events of every track, as type 1)."""
    secs, last_tick, uspq = 0.0, 0, 500_000
    for t, u in sorted(tempos, key=lambda x: x[0]):
        if t >= tick:
            break
        secs += (t - last_tick) * uspq / 1e6 / tpb
        last_tick, uspq = t, u
    return secs + (tick - last_tick) * uspq / 1e6 / tpb


def _bar_lines(meters: list[tuple[int, int, int]], tpb: float, end_step: int) -> list[int]:
    """Bar-start steps up to end_step from the time-signature map (4/4 where none is given).

    A bar restarts at every change of signature. A first bar shorter than the next is a pickup and
    starts no bar (as in the ABC reader), so windows begin on the first full bar.
    """
    sigs: dict[int, tuple[int, int]] = {0: (4, 4)}
    for tick, num, den in sorted(meters, key=lambda m: m[0]):
        if num * 4 * tpb / den >= tpb / 4:  # ignore signatures shorter than one step
            sigs[tick] = (num, den)
    ticks = sorted(sigs)
    out: list[float] = []
    for k, t0 in enumerate(ticks):
        num, den = sigs[t0]
        t1 = ticks[k + 1] if k + 1 < len(ticks) else math.inf
        bar = num * 4 * tpb / den
        t = float(t0)
        while t < t1 and t * STEPS_PER_QUARTER / tpb < end_step:
            out.append(t * STEPS_PER_QUARTER / tpb)
            t += bar
    steps = sorted({int(math.floor(s + 0.5)) for s in out})
    if len(steps) >= 3 and steps[1] - steps[0] < steps[2] - steps[1]:
        steps = steps[1:]
    return steps


def _line_candidates(raw: np.ndarray, tpb: float, step_of, lyric_steps: np.ndarray, song_start: int, shift: int = 0):
    """Top voice of one instrument's notes [n, 3] (pitch, start tick, end tick), split at long silences.

    Returns (whole line, [(segment notes, features)], clipped, line features) where clipped says notes past
    MAX_STEPS were dropped and line features are vae.melody_pick.line_features of the whole line ({} if empty).
    """
    starts = step_of(raw[:, 1])
    ends = np.minimum(np.maximum(step_of(raw[:, 2]), starts + 1), np.minimum(starts + MAX_NOTE_STEPS, MAX_STEPS))
    keep = starts < MAX_STEPS
    clipped = not keep.all()
    order = np.lexsort((-raw[keep, 0], starts[keep]))
    pitch, starts, ends = raw[keep, 0][order], starts[keep][order], ends[keep][order]
    # For the corpus report: onsets moved to the grid, and chords (onsets of several notes, top one kept).
    offgrid = np.abs((raw[keep, 1][order] + shift) * STEPS_PER_QUARTER / tpb - starts) > 0.05
    same = starts[1:] == starts[:-1]
    chord = np.concatenate([same, [False]]) & ~np.concatenate([[False], same])
    # Monophony: a note is alone when nothing else sounds during it (1 step of legato overlap allowed).
    prev_end = np.maximum.accumulate(np.concatenate([[-1], ends[:-1]]))
    next_start = np.concatenate([starts[1:], [np.iinfo(np.int64).max]])
    alone = (prev_end <= starts + 1) & (next_start >= ends - 1) & (next_start > starts)
    # Skyline: a note is dropped if it shares its onset with a higher one, or if a higher kept note
    # started earlier and covers at least half of it (accompaniment under a held melody note).
    line: list[list[int]] = []
    active: list[tuple[int, int]] = []  # (end, pitch) of kept notes still sounding
    last_start = -1
    for p, s, e in zip(pitch.tolist(), starts.tolist(), ends.tolist(), strict=True):
        if s == last_start:
            continue
        if active:
            active = [a for a in active if a[0] > s]
            half = s + (e - s + 1) // 2
            if any(ap > p and ae >= half for ae, ap in active):
                continue
        last_start = s
        active.append((e, p))
        if line and line[-1][2] > s:
            line[-1][2] = s
        line.append([fold_pitch(p), s, e])
    found = []
    group: list[list[int]] = []
    for item in line + [None]:
        if item is None or (group and item[1] - group[-1][2] >= SPLIT_REST_STEPS):
            if len(group) >= MIN_NOTES:
                notes = [Note(*g) for g in group]
                lo, hi = np.searchsorted(starts, [notes[0].start, notes[-1].end])
                lyr = lyric_steps[(lyric_steps >= notes[0].start) & (lyric_steps < notes[-1].end)]
                found.append((notes, {"monophony": float(alone[lo:hi].mean()) if hi > lo else 1.0,
                                      "lyrics": _lyric_share(lyr, notes),
                                      "offgrid_notes": int(offgrid[lo:hi].sum()), "chords": int(chord[lo:hi].sum())}))
            group = []
        if item is not None:
            group.append(item)
    top = [Note(*g) for g in line]
    return top, found, clipped, line_features(alone, chord, top, song_start) if top else {}


def _lyric_share(lyric_steps: np.ndarray, notes: list[Note]) -> float:
    """Share of lyric syllables that fall on an onset of this line (karaoke files name their tune so)."""
    if len(lyric_steps) < 8:
        return 0.0
    onsets = np.array([n.start for n in notes])
    idx = np.clip(np.searchsorted(onsets, lyric_steps), 1, len(onsets) - 1)
    dist = np.minimum(np.abs(onsets[idx] - lyric_steps), np.abs(onsets[idx - 1] - lyric_steps))
    return float((dist <= 1).mean())


def _candidate(track: int, channel: int, name: str, program: int, notes: list[Note], line: list[Note],
               bars: list[int], feats: dict[str, float]) -> MidiCandidate:
    """A segment of an instrument's line with its windows; windows are cut from the whole line, so a
    window reaching past the segment's end holds what the file plays there (a melody with a long rest
    inside exports and re-imports to the same tokens)."""
    first, last = notes[0].start, notes[-1].end
    b0 = max(bisect.bisect_right(bars, first) - 1, 0)  # a line starting in a pickup starts at the first full bar
    start = bars[b0]
    if last <= start:  # the whole line sits in a pickup bar
        start = first // STEPS_PER_BAR * STEPS_PER_BAR
    b1 = bisect.bisect_left(bars, last)
    end = bars[b1] if b1 < len(bars) else start + -(-(last - start) // STEPS_PER_BAR) * STEPS_PER_BAR
    nbars = max(b1 - b0, 1)
    starts = []
    for b in bars[b0:b1] or [start]:
        if (not starts or b - starts[-1] >= HOP_STEPS) and (b + WINDOW_STEPS <= max(end, start + WINDOW_STEPS)):
            starts.append(b)
    windows = _windows(line, np.asarray(starts, np.int64))
    window_bars = [_bar_numbers(bars, st, WINDOW_STEPS) for st in starts]
    feats = dict(feats, mean_pitch=float(np.mean([n.pitch for n in notes])), notes_per_bar=len(notes) / nbars,
                 distinct_pitches=len({n.pitch for n in notes}), bars=nbars, **_phrasing(notes))
    score, parts = _score(name, program, feats)
    return MidiCandidate(track, channel, name, program, notes, start, end, nbars, b0, bars[b0:b1] or [start],
                         round(score, 3), {**feats, **parts}, windows, np.asarray(starts, np.int32), window_bars)


BREATH_STEPS = 4  # a gap of a beat or more between notes is room to breathe
PHRASE_STEPS = 4 * STEPS_PER_BAR  # a singer breathes at least once in about four bars


def _phrasing(notes: list[Note]) -> dict[str, float]:
    """What tells a sung line from an instrumental one, from the notes alone.

    breaths: share of 4-bar spans holding a gap of a beat or more (a riff or an arpeggio never stops).
    ostinato: share of consecutive bars with the very same onset rhythm (an accompaniment figure repeats
    every bar; a sung line repeats at the phrase, 2-8 bars, with variation).
    """
    on = np.array([n.start for n in notes], np.int64)
    off = np.array([n.end for n in notes], np.int64)
    gaps = on[1:] - off[:-1]
    gap_at = on[1:][gaps >= BREATH_STEPS]
    first, last = int(on[0]), int(off[-1])
    spans = max((last - first) // PHRASE_STEPS, 1)
    hit = np.unique((gap_at - first) // PHRASE_STEPS)
    breaths = float(min(len(hit[hit < spans]) / spans, 1.0))
    bar = (on - first) // STEPS_PER_BAR
    pos = (on - first) % STEPS_PER_BAR
    patterns: dict[int, int] = {}
    for b, p in zip(bar.tolist(), pos.tolist(), strict=True):
        patterns[b] = patterns.get(b, 0) | (1 << p)
    pairs = [(patterns[b], patterns[b + 1]) for b in patterns if b + 1 in patterns]
    ostinato = float(np.mean([a == c for a, c in pairs])) if len(pairs) >= 3 else 0.0
    return {"breaths": breaths, "ostinato": ostinato}


def _bar_numbers(bars: list[int], start: int, steps: int) -> tuple[int, int]:
    """(first, last) 1-based bar numbers touched by [start, start + steps): bars after the last bar line
    continue at the last bar's length."""
    first = max(bisect.bisect_right(bars, start) - 1, 0)
    end = start + steps - 1
    last = bisect.bisect_right(bars, end) - 1
    if last == len(bars) - 1 and len(bars) >= 2:
        length = bars[-1] - bars[-2]
        last += (end - bars[-1]) // max(length, 1)
    return first + 1, max(last, first) + 1


def _windows(notes: list[Note], starts: np.ndarray) -> np.ndarray:
    """Token windows [len(starts), 64] uint8 of a monophonic line, one per start step.

    Equal to MelodyTokenizer().encode(clip_notes(notes, s, 64), 64) for each start s (tested), but the
    line is tokenised once and sliced, so a 30-minute line costs milliseconds, not a second.
    """
    pitch = np.array([n.pitch for n in notes], np.int64)
    on = np.array([n.start for n in notes], np.int64)
    off = np.array([n.end for n in notes], np.int64)
    origin = min(int(on[0]), int(starts[0]))
    line = np.full(max(int(off[-1]), int(starts[-1]) + WINDOW_STEPS) - origin + 1, HOLD, np.uint8)
    ends_free = np.append(off[:-1] < on[1:], True)  # a rest follows, so the note needs an explicit off
    line[off[ends_free] - origin] = NOTE_OFF
    line[on - origin] = pitch - MIN_PITCH + FIRST_NOTE_ON
    windows = line[(starts - origin)[:, None] + np.arange(WINDOW_STEPS)]
    # A window's first step: the note sounding there (re-struck, as clip_notes does) or a rest.
    idx = np.searchsorted(on, starts, side="right") - 1
    sounding = (idx >= 0) & (off[np.maximum(idx, 0)] > starts)
    windows[:, 0] = np.where(sounding, pitch[np.maximum(idx, 0)] - MIN_PITCH + FIRST_NOTE_ON, HOLD)
    return windows


def _score(name: str, program: int, f: dict[str, float]) -> tuple[float, dict[str, float]]:
    """How much a line looks like the tune: name, instrument, register, density, monophony, length, lyrics, and
    (when `f` holds vae.melody_pick.line_features) the habits of the whole instrument line."""
    low = name.lower()
    parts = {
        # Names help but may lie ("Strings" on the vocal, a "Melody" that is a riff): one signal among others.
        "name": 1.5 if _MELODY_NAME.search(low) else (-1.0 if _ACCOMP_NAME.search(low) else 0.0),
        "instrument": _program_bonus(program),
        # C4..C6 is where tunes are sung and played; a point per octave outside, bass register worse.
        "register": -max(0.0, 60 - f["mean_pitch"], f["mean_pitch"] - 84) / 12 - (2.0 if f["mean_pitch"] < 48 else 0.0),
        # 2..12 notes a bar is melodic; a pad (1 a bar) or a run of 32nds is not.
        "density": -abs(math.log2(f["notes_per_bar"] / min(max(f["notes_per_bar"], 2.0), 12.0))),
        "monophony": 2.0 * f["monophony"],
        "length": min(1.0, f["bars"] / 16),
        "lyrics_bonus": 3.0 * f["lyrics"],
        "variety": -2.0 if f["distinct_pitches"] < 3 else 0.0,
        "breathing": 1.5 * f["breaths"],
        "ostinato_penalty": -2.5 * f["ostinato"],
        "coverage_bonus": 2.0 * f.get("coverage", 0.0),
    }
    if "line_monophony" in f:  # what the whole instrument line says (vae.melody_pick)
        parts.update(line_score(f)[1])
    return sum(parts.values()), parts


def _program_bonus(program: int) -> float:
    if 32 <= program <= 39:  # basses
        return -2.0
    if 112 <= program or program == 47:  # percussive, sound effects, timpani
        return -2.0
    if 88 <= program <= 103:  # pads and synth effects
        return -1.0
    if 52 <= program <= 54 or 64 <= program <= 87:  # voices, reeds, pipes, lead synths
        return 0.5
    return 0.0


# --- corpus builder entry point ----------------------------------------------------------------


def corpus_tunes_from_midi(path: Path, root: Path) -> tuple[list[Tune], list[dict]]:
    """Tunes of one MIDI file for the corpus: every segment of the best-ranked instrument line.

    Returns (tunes, errors) like the ABC reader; an unreadable file gives one error record. Never raises.
    """
    path = Path(path)
    try:
        source = str(path.relative_to(root))
    except ValueError:
        source = path.name
    try:
        found = extract_melodies(path)
        best = found.best
        tunes = []
        for k, c in enumerate(x for x in found.candidates if (x.track, x.channel) == (best.track, best.channel)):
            origin = min(c.start_step, c.notes[0].start)
            bar_lines = [b - origin for b in c.bar_lines]
            notes = [Note(n.pitch, n.start - origin, n.end - origin) for n in c.notes]
            title = f"{path.stem} - {c.name}" if c.name else path.stem
            stats = {"offgrid_notes": int(c.features["offgrid_notes"]), "chords": int(c.features["chords"])}
            tunes.append(Tune("midi", title, source, f"track{c.track + 1}-ch{c.channel + 1}-{k + 1}", found.time_signature,
                              "", notes, bar_lines, c.end_step - origin, stats))
        return tunes, []
    except MusicReadError as exc:
        return [], [{"collection": "midi", "source": source, "number": "", "reason": exc.reason, "message": str(exc)}]
    except Exception as exc:  # a reader bug must never stop a corpus build
        return [], [{"collection": "midi", "source": source, "number": "", "reason": "parse error",
                     "message": f"{type(exc).__name__}: {exc}"}]

