"""`python -m bench.pop909`: is the sung line found in real pop arrangements (POP909) whose parts are not named?

Each song of ../shared/data/pop909-dev (numbers 401-909; tracks MELODY = the sung line, BRIDGE = the
instrumental lead of intros and interludes, PIANO = the accompaniment) is rewritten with its track names
removed and its tracks and channels shuffled (a fixed seed per song), then read by
vae.midi_import.extract_melodies. Reported, over all songs and over the tuning (401-699) and held-out
(700-909) halves: the share whose first candidate is the MELODY track, what was picked instead, the share whose
first offered window (the upload screen shows window 0 of candidate 0) lies where the voice sings, and the
median extraction time; and, as a harder case, the same with the lead's intro and interludes moved onto the
voice's track. Prints a markdown table and writes bench/pop909.md and bench/pop909.json.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from vae.constants import STEPS_PER_BAR, STEPS_PER_QUARTER

HERE = Path(__file__).resolve().parent
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pop909-dev"
PARTS = ("MELODY", "BRIDGE", "PIANO")
TUNE = range(401, 700)  # the songs the ranking was tuned on
HELD_OUT = range(700, 910)  # never looked at while tuning
SUNG_GAP_STEPS = 2 * STEPS_PER_BAR  # the voice's rests shorter than this are inside the sung part
WINDOW_SUNG_SHARE = 0.5  # a window lies in the sung part when at least half its steps do


@dataclass
class Shuffled:
    """One POP909 song rewritten without part names, tracks and channels shuffled."""

    number: int
    data: bytes  # the rewritten type-1 MIDI file
    part_of: dict[int, str]  # new track index -> part name (MELODY, BRIDGE, PIANO)
    sung: list[tuple[int, int]]  # the voice's phrases in 16th steps: MELODY's notes, rests under 2 bars closed


def song_numbers() -> list[int]:
    return sorted(int(p.name) for p in DATA.iterdir() if p.name.isdigit() and (p / f"{p.name}.mid").exists())


def shuffled_song(number: int, seed: int = 0, lead_on_voice: bool = False) -> Shuffled:
    """Song `number` with track names (and instrument names naming a part) removed, its note tracks in a random
    order after the conductor track and its channels mapped to random other channels (never the drum channel).

    lead_on_voice: BRIDGE's notes that start where the voice rests (intro, interludes, outro) move onto the
    MELODY track and channel, as in files whose one "melody" track plays the whole tune; the first window must
    then still lie where the voice sings.
    """
    import mido

    mid = mido.MidiFile(DATA / f"{number:03d}" / f"{number:03d}.mid")
    rng = random.Random(seed * 100_003 + number)
    names, tracks = [], []
    for tr in mid.tracks:
        name = next((m.name for m in tr if m.type == "track_name"), "").strip().upper()
        names.append(name)
        keep = mido.MidiTrack(m for m in tr if not (m.type == "track_name" or (
            m.type == "instrument_name" and m.name.strip().upper() in PARTS)))
        tracks.append(keep)
    melody = tracks[names.index("MELODY")]
    sung = _sung_spans(melody, mid.ticks_per_beat)
    if lead_on_voice and "BRIDGE" in names:
        b = names.index("BRIDGE")
        tracks[names.index("MELODY")], tracks[b] = _move_rests(melody, tracks[b], sung, mid.ticks_per_beat)
    conductor = [i for i, tr in enumerate(tracks) if not any(m.type == "note_on" for m in tr)][:1]
    order = conductor + rng.sample([i for i in range(len(tracks)) if i not in conductor], len(tracks) - len(conductor))
    channels = rng.sample([c for c in range(16) if c != 9], 15)
    out = mido.MidiFile(type=1, ticks_per_beat=mid.ticks_per_beat)
    for i in order:
        out.tracks.append(mido.MidiTrack(m.copy(channel=channels[m.channel]) if hasattr(m, "channel") else m
                                         for m in tracks[i]))
    buf = io.BytesIO()
    out.save(file=buf)
    return Shuffled(number, buf.getvalue(), {k: names[i] for k, i in enumerate(order) if names[i] in PARTS}, sung)


def _absolute(track) -> list:
    tick, out = 0, []
    for m in track:
        tick += m.time
        out.append((tick, m))
    return out


def _relative(events: list):
    import mido

    now, track = 0, mido.MidiTrack()
    for tick, m in sorted(events, key=lambda e: (e[0], e[1].type == "end_of_track")):
        if m.type != "end_of_track":
            track.append(m.copy(time=tick - now))
            now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _move_rests(voice, lead, sung: list[tuple[int, int]], tpb: int):
    """(voice, lead) tracks with the lead's notes that start outside the sung spans moved onto the voice's channel."""
    channel = next(m.channel for m in voice if m.type == "note_on")
    moved, kept, voice_events, moving = [], [], _absolute(voice), set()
    for tick, m in _absolute(lead):
        if m.type == "note_on" and m.velocity > 0:
            step = round(tick * STEPS_PER_QUARTER / tpb)
            if not any(a - STEPS_PER_BAR <= step < b for a, b in sung):
                moving.add(m.note)
        if m.type in ("note_on", "note_off") and m.note in moving:
            moved.append((tick, m.copy(channel=channel)))
            if m.type == "note_off" or m.velocity == 0:
                moving.discard(m.note)
        else:
            kept.append((tick, m))
    return _relative(voice_events + moved), _relative(kept)


def _sung_spans(track, tpb: int) -> list[tuple[int, int]]:
    """The voice's phrases [start, end) in 16th steps: its notes joined over rests shorter than 2 bars."""
    tick, on, notes = 0, {}, []
    for m in track:
        tick += m.time
        if m.type == "note_on" and m.velocity > 0:
            on[m.note] = tick
        elif m.type in ("note_on", "note_off") and m.note in on:
            notes.append((on.pop(m.note), tick))
    spans: list[list[int]] = []
    for a, b in sorted(notes):
        s, e = round(a * STEPS_PER_QUARTER / tpb), max(round(b * STEPS_PER_QUARTER / tpb), round(a * STEPS_PER_QUARTER / tpb) + 1)
        if spans and s - spans[-1][1] < SUNG_GAP_STEPS:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    return [(a, b) for a, b in spans]


def sung_share(sung: list[tuple[int, int]], start: int, steps: int) -> float:
    """Share of the window [start, start + steps) inside the voice's phrases (0 when it starts more than a bar
    before the voice's first note: a window in the intro is not where the voice sings)."""
    if not sung or start < sung[0][0] - STEPS_PER_BAR + 1:
        return 0.0
    inside = sum(max(0, min(b, start + steps) - max(a, start)) for a, b in sung)
    return inside / steps


@dataclass
class Outcome:
    number: int
    picked: str  # part of the first candidate's track
    sung_share: float  # of the first offered window
    in_sung_part: bool  # the first window lies where the voice sings
    seconds: float


def run_song(song: Shuffled) -> Outcome:
    """Extract the melodies of one rewritten song and judge its first candidate and first offered window."""
    from vae.midi_import import WINDOW_STEPS, extract_melodies

    t0 = time.perf_counter()
    found = extract_melodies(song.data)
    seconds = time.perf_counter() - t0
    best = next(c for c in found.candidates if len(c.windows))  # the upload screen skips candidates without windows
    share = sung_share(song.sung, int(best.window_starts[0]), WINDOW_STEPS)
    return Outcome(song.number, song.part_of.get(best.track, "?"), round(share, 3), share >= WINDOW_SUNG_SHARE, seconds)


def summary(outcomes: list[Outcome]) -> dict:
    n = max(len(outcomes), 1)
    melody = [o for o in outcomes if o.picked == "MELODY"]
    return {"songs": len(outcomes), "melody_first": round(len(melody) / n, 3),
            "picked_bridge": sum(o.picked == "BRIDGE" for o in outcomes),
            "picked_piano": sum(o.picked == "PIANO" for o in outcomes),
            "window_sung": round(sum(o.in_sung_part for o in outcomes) / n, 3),
            "melody_and_window_sung": round(sum(o.in_sung_part for o in melody) / n, 3),
            "p50_ms": round(1000 * statistics.median(o.seconds for o in outcomes), 1) if outcomes else None}


def markdown(rows: dict[str, dict]) -> str:
    head = ("| songs | n | MELODY first | picked BRIDGE | picked PIANO | first window sung | MELODY and window sung "
            "| p50 extract |\n|---|---|---|---|---|---|---|---|\n")
    return head + "".join(f"| {k} | {r['songs']} | {r['melody_first']:.1%} | {r['picked_bridge']} | {r['picked_piano']} "
                          f"| {r['window_sung']:.1%} | {r['melody_and_window_sung']:.1%} | {r['p50_ms']} ms |\n"
                          for k, r in rows.items())


def measure(seed: int = 0, limit: int | None = None) -> tuple[dict[str, dict], list[Outcome]]:
    """Summaries over all songs, the tuning and held-out halves and the intro-lead-on-the-voice's-track case,
    and the outcome of every song (names removed, tracks and channels shuffled)."""
    numbers = song_numbers()[:limit]
    outcomes = [run_song(shuffled_song(n, seed)) for n in numbers]
    merged = [run_song(shuffled_song(n, seed, lead_on_voice=True)) for n in numbers]
    rows = {"all": summary(outcomes), "tune 401-699": summary([o for o in outcomes if o.number in TUNE]),
            "held out 700-909": summary([o for o in outcomes if o.number in HELD_OUT]),
            "all, intro lead on the voice's track": summary(merged)}
    return rows, outcomes


def offbeat_shares(numbers: list[int]) -> dict:
    """Per song, the share of the sung line's onsets (first candidate, as the upload screen reads it) on odd 16ths,
    with the file's constant offset read away (vae.midi_import.grid_shift) and without: median and songs above
    half. A song played on the beat has few; a song read a half or whole 16th off has most."""
    import numpy as np

    import vae.midi_import as mi

    def shares() -> np.ndarray:
        out = []
        for n in numbers:
            try:
                notes = mi.extract_melodies(DATA / f"{n:03d}" / f"{n:03d}.mid").best.notes
            except Exception:  # noqa: BLE001 - a song that cannot be read counts nowhere
                continue
            out.append(float(np.mean([x.start % 2 for x in notes])))
        return np.asarray(out)

    now = shares()
    kept, mi.grid_shift = mi.grid_shift, (lambda onsets, tpb: 0)
    try:
        before = shares()
    finally:
        mi.grid_shift = kept
    return {"songs": len(now), "median_odd_share": float(np.median(now)), "songs_mostly_odd": int((now > 0.5).sum()),
            "before_median_odd_share": float(np.median(before)), "before_songs_mostly_odd": int((before > 0.5).sum())}


def run(ctx=None):
    """Section `pop909` for `python -m bench` (bench.worker): the same numbers as rows of a Section."""
    from bench.context import Section

    sec = Section("pop909")
    if not DATA.is_dir():
        sec.add("POP909 sung line first", None, note=f"skipped: no songs at {DATA}")
        return sec
    rows, _ = measure()
    for key in ("tune 401-699", "held out 700-909"):
        sec.add(f"POP909 {key}: sung line first", rows[key]["melody_first"], ge=0.95, note="names removed, shuffled")
        sec.add(f"POP909 {key}: first window sung", rows[key]["window_sung"], ge=0.95)
    sec.add("POP909 extraction p50", rows["all"]["p50_ms"], "ms")
    sec.data = rows
    return sec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pop909", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0, help="shuffle seed (default 0)")
    p.add_argument("--limit", type=int, default=None, help="only the first N songs (a quick look)")
    p.add_argument("--out", type=Path, default=HERE / "pop909.json", help="results JSON; the markdown goes beside it")
    a = p.parse_args(argv)
    if not DATA.is_dir():
        print(f"skipped: POP909 songs not found at {DATA} (the data folder lives beside the checkout, in "
              "../shared/data/pop909-dev)")
        return 0
    rows, outcomes = measure(a.seed, a.limit)
    off = offbeat_shares(song_numbers()[: a.limit])
    table = markdown(rows) + (
        f"\nOn the beat (`vae.midi_import.grid_shift`): the sung line's onsets on odd 16ths, median over "
        f"{off['songs']} songs: {off['median_odd_share']:.2f} ({off['before_median_odd_share']:.2f} without reading the "
        f"file's offset away); songs with most onsets on odd 16ths: {off['songs_mostly_odd']} "
        f"({off['before_songs_mostly_odd']} without).\n")
    misses = [asdict(o) for o in outcomes if o.picked != "MELODY" or not o.in_sung_part]
    a.out.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "seed": a.seed,
                                 "data": str(DATA), "summary": rows, "on_the_beat": off, "misses": misses}, indent=1))
    md = a.out.with_suffix(".md")
    md.write_text("# Sung line in real pop arrangements (POP909, names removed, tracks and channels shuffled)\n\n"
                  f"`python -m bench.pop909` (seed {a.seed}), {time.strftime('%Y-%m-%d')}. The first window is the one "
                  "the upload screen shows (window 0 of candidate 0); it is sung when at least "
                  f"{WINDOW_SUNG_SHARE:.0%} of its steps lie in the voice's phrases (MELODY's notes, rests under 2 bars "
                  "closed) and it starts no earlier than the bar before the voice's first note. The last row moves "
                  "BRIDGE's notes that start where the voice rests onto the MELODY track (one track playing intro, "
                  "song and interludes, as in many amateur files).\n\n" + table)
    print(table)
    missed = " ".join(f"{m['number']}:{m['picked']}" for m in misses[:40])
    print(f"wrote {a.out.name} and {md.name}; misses (song:first candidate's part): {missed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
