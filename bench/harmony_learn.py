"""`python -m bench.harmony_learn`: learn the learned harmoniser's vae/pretrained/harmony/chord_transitions.json.

Material, none of it scored by bench.harmony: POP909 songs 426-575 (the MELODY track against chord_midi.txt;
bench.harmony scores songs from 700 up; the rules were tuned on 401-425) and the music21 corpus's Bach
chorales 100-249 (the soprano against the chordified parts; bench.harmony scores chorales 12-71). Each 4-bar
window is cut into vae.harmony.segments (half bars); a segment's label is the human chord on most of its beats,
written relative to the key vae.harmony finds for the window's melody and matched to that mode's candidates
(the exact quality, else the triad on the same root). Counted per source and per kind of boundary (a bar line,
mid-bar) and smoothed toward the source's chord frequencies; the two sources' probabilities are averaged so
neither dominates. Then a small grid over the transition, emission, key-fit, cadence, mid-bar change, colour-chord
and rules-mixing weights picks the set with the best per-beat root accuracy on the same learning windows. Writes
the JSON with its provenance.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import tempfile
from pathlib import Path

import numpy as np

from vae.chord_truth import POP909, Window, chorale_windows, pop909_windows
from vae.chords import Chord
from vae.harmony import TRANSITIONS, candidate_names, chord_at, harmonise, key_of, segments

FAMILY = {"7": "maj", "maj7": "maj", "min7": "min", "hdim7": "dim", "dim7": "dim", "sus4": "maj"}
SMOOTH = 2.0  # pseudo-counts per row, spread as the source's chord frequencies
FIRST_SONG, SONGS = 426, 150  # POP909 songs 426-575
CHORALE_SKIP, CHORALES = 100, 150  # chorales 100-249 in music21's corpus order
GRID = {"transition": (0.5, 1.0), "emission": (6.0, 9.0), "key_fit": (3.0, 6.0), "end": (0.0,), "mid_change": (0.0,),
        "prior": (0.0, 1.0), "rules": (0.0, 0.5, 1.0)}
TUNE_WINDOWS = 250  # learning windows per source the grid is scored on


def _candidate(label, tonic: int, minor: bool, names: list[str]) -> int | None:
    """A human chord (root, quality) -> the index of the matching candidate of the key, None when none matches."""
    if label is None:
        return None
    rel = (label[0] - tonic) % 12
    for q in (label[1], FAMILY.get(label[1])):
        if q and f"{rel}:{q}" in names:
            return names.index(f"{rel}:{q}")
    return None


def segment_labels(w: Window) -> tuple[int, bool, list[tuple[int | None, bool]]]:
    """A window's key (tonic, minor) as harmonise finds it from the melody, and per half bar (candidate index of
    the human chord on most of its beats or None, starts_a_bar)."""
    tonic, minor = key_of(w.notes)
    names = candidate_names(minor)
    beat = w.meter.beat_steps
    out = []
    for s, e, at_bar in segments(w.meter, len(w.labels) * beat):
        idx = [_candidate(w.labels[k], tonic, minor, names) for k in range(s // beat, -(-e // beat))
               if k < len(w.labels)]
        idx = [i for i in idx if i is not None]
        out.append((max(set(idx), key=idx.count) if idx else None, at_bar))
    return tonic, minor, out


def count(windows: list[Window]) -> dict:
    """Counts per mode: first segment [C], and transitions [C, C] across a bar line and inside a bar."""
    out = {}
    for minor in (False, True):
        n = len(candidate_names(minor))
        out[minor] = {"start": np.zeros(n), "bar": np.zeros((n, n)), "mid": np.zeros((n, n)), "all": np.zeros(n)}
    for w in windows:
        _, minor, labs = segment_labels(w)
        c = out[minor]
        if labs and labs[0][0] is not None:
            c["start"][labs[0][0]] += 1
        for (a, _), (b, at_bar) in itertools.pairwise(labs):
            if a is not None and b is not None:
                c["bar" if at_bar else "mid"][a, b] += 1
        for a, _ in labs:
            if a is not None:
                c["all"][a] += 1
    return out


def probabilities(counts: list[dict]) -> dict:
    """Per mode, log probabilities averaged over the sources: start [C] and next-given-this [C, C] per boundary."""
    out = {}
    for minor in (False, True):
        per = []
        for c in counts:
            c = c[minor]
            freq = (c["all"] + 1.0) / (c["all"].sum() + len(c["all"]))
            rows = {k: (c[k] + SMOOTH * freq) / (c[k].sum(axis=1, keepdims=True) + SMOOTH) for k in ("bar", "mid")}
            per.append({"start": (c["start"] + SMOOTH * freq) / (c["start"].sum() + SMOOTH), **rows})
        mode = {k: np.log(np.mean([p[k] for p in per], axis=0)) for k in ("start", "bar", "mid")}
        out["minor" if minor else "major"] = {"chords": candidate_names(minor),
                                             **{k: np.round(v, 3).tolist() for k, v in mode.items()}}
    return out


def root_accuracy(windows: list[Window], path: Path) -> float:
    """Per-beat root accuracy of the learned harmoniser with the transitions file `path` on `windows`."""
    hit = total = 0
    for w in windows:
        span = len(w.labels) * w.meter.beat_steps
        spans = harmonise(w.notes, steps_per_bar=span // 4, bars=4, meter=w.meter, transitions=path)
        for k, lab in enumerate(w.labels):
            c: Chord | None = chord_at(spans, k * w.meter.beat_steps)
            if lab is not None and c is not None:
                total += 1
                hit += lab[0] == c.root
    return hit / max(total, 1)


def learn(songs: int = SONGS, chorales: int = CHORALES, out: Path = TRANSITIONS, cache: Path | None = None) -> dict:
    """Count, smooth, tune the weights on the learning windows, write `out`; returns what was written. `cache`: a
    pickle of the learning windows, written on the first run and read on the next (parsing chorales is slow)."""
    if cache and cache.exists():
        sources = pickle.loads(cache.read_bytes())
    else:
        sources = {}
        if POP909.is_dir():
            sources["pop909"] = pop909_windows(songs, first=FIRST_SONG)
        sources["chorales"] = chorale_windows(chorales, skip=CHORALE_SKIP)
        if cache:
            cache.write_bytes(pickle.dumps(sources))
    tables = probabilities([count(ws) for ws in sources.values()])
    rng = np.random.default_rng(0)
    tune = {k: [ws[i] for i in sorted(rng.choice(len(ws), min(TUNE_WINDOWS, len(ws)), replace=False))]
            for k, ws in sources.items()}
    grid = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, values in enumerate(itertools.product(*GRID.values())):
            weights = dict(zip(GRID, values, strict=True))
            path = Path(tmp) / f"t{i}.json"
            path.write_text(json.dumps({**tables, "weights": weights}))
            acc = {k: round(root_accuracy(ws, path), 4) for k, ws in tune.items()}
            grid.append((float(np.mean(list(acc.values()))), weights, acc))
            print(f"{weights} {acc}", flush=True)
    best = max(grid, key=lambda g: g[0])
    data = {"made_by": "python -m bench.harmony_learn",
            "provenance": {
                "pop909": (f"POP909 (MIT) songs {FIRST_SONG}-{FIRST_SONG + songs - 1}: MELODY track against "
                           "chord_midi.txt, 4-bar 4/4 windows" if "pop909" in sources else "absent, not used"),
                "chorales": (f"music21 corpus Bach chorales {CHORALE_SKIP}-{CHORALE_SKIP + chorales - 1} (corpus "
                             "order): soprano against the chordified four parts"),
                "held_out": "bench.harmony scores POP909 from song 700, chorales 12-71, the corpus's Nottingham "
                            "tunes and lead sheets: none of them is counted here",
                "windows": {k: len(ws) for k, ws in sources.items()},
                "labels": "per half bar, the human chord on most of its beats, relative to the key harmonise finds",
                "smoothing": f"{SMOOTH} pseudo-counts per row spread as the source's chord frequencies; sources "
                             "averaged",
                "weights": f"grid {GRID} on {TUNE_WINDOWS} learning windows per source, best mean root accuracy "
                           f"{best[2]}"},
            "weights": best[1], **tables}
    out.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    return data


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.harmony_learn", description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=SONGS, help=f"POP909 songs from {FIRST_SONG} (all below 700)")
    p.add_argument("--chorales", type=int, default=CHORALES, help=f"chorales after the first {CHORALE_SKIP}")
    p.add_argument("--out", type=Path, default=TRANSITIONS)
    p.add_argument("--cache", type=Path, help="keep the parsed learning windows in this pickle between runs")
    args = p.parse_args(argv)
    if FIRST_SONG + args.songs > 700 or CHORALE_SKIP < 72:
        p.error("the learning material would overlap bench.harmony's held-out songs")
    data = learn(args.songs, args.chorales, args.out, args.cache)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), weights {data['weights']}")
    return data


if __name__ == "__main__":
    main()
