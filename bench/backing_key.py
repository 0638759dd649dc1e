"""The backing's key (`python -m bench.backing_key`): how often the key finder names a tune's own tonic.

The drone and the tonic-chord backing sit on vae.music.estimate_key's tonic. Before: Krumhansl-Schmuckler
alone (the best of the 24 profile correlations, vae.music.estimate_keys on the duration histogram). Now: the
melody's own tonic (tonic triad, bar-line notes, a held last note) decides among the keys within KEY_CLOSE.
Measured on `--tunes` corpus tunes (music21's ABC books, a seeded sample) and on each tune's first four bars
(what the page plays is a few bars), against the tune's K: tonic and music21's analysed key (itself a
profile method, so agreement with it is not the truth), and on generated pentatonic melodies in all 12 keys.
Prints a table, writes bench/backing_key.md and bench/backing_key.json.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

import numpy as np

from bench.report import md_table, publish
from vae.abc_reader import read_abc_file
from vae.corpus import music21_corpus_root, music21_jobs
from vae.meter import Meter
from vae.music import NOTE_NAMES, estimate_key, estimate_keys
from vae.tokenizer import Note

HERE = Path(__file__).resolve().parent
SHARE = {"essen": 0.35, "oneills": 0.3, "airds": 0.2, "ryans": 0.15}  # of the sample, per collection
_PC = dict(C=0, D=2, E=4, F=5, G=7, A=9, B=11)
_K = re.compile(r"\s*([A-G])([#b]?)")


def before_key(notes: list[Note]) -> tuple[int, str]:
    """The key finder as it was: the best profile correlation of the duration histogram alone."""
    hist = np.zeros((1, 12))
    for n in notes:
        hist[0, n.pitch % 12] += max(n.end - n.start, 1)
    k = estimate_keys(hist)
    return (0, "major") if k["tonic"][0] < 0 else (int(k["tonic"][0]), "minor" if k["minor"][0] else "major")


def header_tonic(key: str) -> int | None:
    """'Gm' / 'A Dorian' / 'Bb' -> the K: field's tonic pitch class; None when it names none."""
    m = _K.match(key or "")
    return None if not m else (_PC[m.group(1)] + {"#": 1, "b": -1, "": 0}[m.group(2)]) % 12


def first_bars(tune, bars: int = 4) -> list[Note]:
    """The tune's first `bars` whole bars (from its first bar line, past an upbeat), on the window's own grid."""
    start = tune.bar_lines[1] if len(tune.bar_lines) > 1 and tune.bar_lines[0] != 0 else 0
    end = start + bars * Meter.parse(tune.meter).bar_steps
    return [Note(n.pitch, n.start - start, min(n.end, end) - start) for n in tune.notes if start <= n.start < end]


def sample_tunes(n: int, seed: int) -> list:
    """n tunes with a K: tonic, SHARE of them from each collection, from seeded files of the bundled corpus."""
    root, out = music21_corpus_root(), []
    for coll, share in SHARE.items():
        jobs = music21_jobs((coll,))
        random.Random(seed).shuffle(jobs)
        want, got = int(round(n * share)), []
        for job in jobs:
            tunes, _ = read_abc_file(Path(job.path), coll, root)
            got += [t for t in tunes if header_tonic(t.key) is not None and len(first_bars(t)) >= 4]
            if len(got) >= 3 * want:
                break
        out += random.Random(seed).sample(got, min(want, len(got)))
    return out[:n]


def music21_key(notes: list[Note]) -> tuple[int, str]:
    from music21 import note, stream

    s = stream.Stream()
    for n in notes:
        m = note.Note(n.pitch)
        m.quarterLength = (n.end - n.start) / 4
        s.insert(n.start / 4, m)
    k = s.analyze("key")
    return k.tonic.pitchClass, k.mode


def pentatonic_melodies(seed: int) -> list[tuple[list[Note], int, str]]:
    """Generated edge cases in every key: (notes, tonic, mode). A tune around the 5th and 6th of a major
    pentatonic scale that ends on its tonic (the D-A drone under a G tune); random four-bar melodies of the major
    and minor pentatonic with the tonic on the first and last bar lines."""
    rng = np.random.default_rng(seed)
    out = []
    around_fifth = [74, 76, 74, 71, 69, 71, 74, 69, 67, 69, 71, 74, 69, 67]  # G pentatonic, ends on G
    for k in range(12):
        shift = k - 7 if k - 7 >= -5 else k + 5
        notes = [Note(p + shift, 4 * i, 4 * i + 4) for i, p in enumerate(around_fifth)]
        notes[-1] = Note(notes[-1].pitch, notes[-1].start, notes[-1].start + 8)
        out.append((notes, k, "major"))
    for steps, mode in (((0, 2, 4, 7, 9), "major"), ((0, 3, 5, 7, 10), "minor")):
        for k in range(12):
            for _ in range(10):
                scale = [60 + k + o * 12 + s - 12 for o in range(2) for s in steps]
                tonic_p = 60 + k - 12 if k > 5 else 60 + k
                notes = [Note(tonic_p if beat == 0 and bar in (0, 3) else int(rng.choice(scale)),
                              16 * bar + 4 * beat, 16 * bar + 4 * beat + 4) for bar in range(4) for beat in range(4)]
                out.append((notes, k, mode))
    return out


def run(n: int, seed: int, with_music21: bool) -> dict:
    tunes = sample_tunes(n, seed)
    rows = {"tune": [], "first 4 bars": []}
    for t in tunes:
        for what, notes in (("tune", t.notes), ("first 4 bars", first_bars(t))):
            r = {"collection": t.collection, "k": header_tonic(t.key), "before": before_key(notes),
                 "now": estimate_key(notes)}
            if with_music21:
                r["music21"] = music21_key(notes)
            rows[what].append(r)
    table = {}
    for what, rs in rows.items():
        for who in ("before", "now"):
            hit_k = [r[who][0] == r["k"] for r in rs]
            entry = {"vs K: tonic": float(np.mean(hit_k)), "n": len(rs),
                     "by collection": {c: float(np.mean([h for h, r in zip(hit_k, rs, strict=True)
                                                         if r["collection"] == c])) for c in SHARE}}
            if with_music21:
                entry["vs music21 tonic"] = float(np.mean([r[who][0] == r["music21"][0] for r in rs]))
                entry["vs music21 key"] = float(np.mean([r[who] == tuple(r["music21"]) for r in rs]))
            table[f"{what} / {who}"] = entry
        changed = [r for r in rs if r["before"][0] != r["now"][0]]
        table[f"{what} / changed"] = {"n": len(changed), "now right (K:)": sum(r["now"][0] == r["k"] for r in changed),
                                      "before right (K:)": sum(r["before"][0] == r["k"] for r in changed)}
    gen = pentatonic_melodies(seed)
    first = gen[:12]
    pent = {"around the 5th, ends on the tonic (12 keys)": {
                "before": float(np.mean([before_key(m)[0] == k for m, k, _ in first])),
                "now": float(np.mean([estimate_key(m)[0] == k for m, k, _ in first]))}}
    for mode in ("major", "minor"):
        part = [g for g in gen[12:] if g[2] == mode]
        pent[f"random {mode} pentatonic, tonic on bars 1 and 4 ({len(part)})"] = {
            "before": float(np.mean([before_key(m) == (k, md) for m, k, md in part])),
            "now": float(np.mean([estimate_key(m) == (k, md) for m, k, md in part]))}
    g_tune = [Note(p, 4 * i, 4 * i + 4) for i, p in enumerate([74, 76, 74, 71, 69, 71, 74, 69, 67, 69, 71, 74, 69, 67])]
    example = {"before": NOTE_NAMES[before_key(g_tune)[0]], "now": NOTE_NAMES[estimate_key(g_tune)[0]]}
    return {"settings": {"tunes": len(tunes), "seed": seed, "music21": with_music21}, "corpus": table,
            "pentatonic": pent, "G pentatonic example drone on": example}


def markdown(res: dict) -> str:
    s = res["settings"]
    lines = ["# The backing's key: the melody's own tonic", "",
             f"`python -m bench.backing_key --tunes {s['tunes']} --seed {s['seed']}`"
             + ("" if s["music21"] else " --no-music21") + ". Share of tunes whose estimated tonic is the K: "
             "field's tonic (and music21's analysed key's), before (profiles alone) and now (the melody's tonic "
             "decides among close keys).", "",
             *md_table(["melody / finder", "vs K: tonic", "vs music21 tonic", "vs music21 key", *SHARE],
                       ([name, f"{e['vs K: tonic']:.3f}", f"{e.get('vs music21 tonic', float('nan')):.3f}",
                         f"{e.get('vs music21 key', float('nan')):.3f}",
                         *(f"{e['by collection'][c]:.2f}" for c in SHARE)]
                        for name, e in res["corpus"].items() if not name.endswith("changed")))]
    lines += ["", "Tonic changed by the new rule (right by the K: field, before -> now):", ""]
    for name, e in res["corpus"].items():
        if name.endswith("changed"):
            lines.append(f"- {name.split(' / ')[0]}: {e['n']} changed; {e['before right (K:)']} -> "
                         f"{e['now right (K:)']} right")
    lines += ["", "Generated pentatonic melodies (share with the right tonic; random ones: right key):", "",
              *md_table(["melodies", "before", "now"],
                        ([k, f"{v['before']:.2f}", f"{v['now']:.2f}"] for k, v in res["pentatonic"].items()))]
    ex = res["G pentatonic example drone on"]
    lines += ["", f"The G major pentatonic tune D E D B A B D A G A B D A G: drone on {ex['before']} before, "
              f"on {ex['now']} now.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.backing_key", description=__doc__.splitlines()[0])
    p.add_argument("--tunes", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-music21", action="store_true", help="skip music21's key analysis (about 0.2 s a melody)")
    a = p.parse_args(argv)
    res = run(a.tunes, a.seed, not a.no_music21)
    publish(markdown(res), res, HERE, "backing_key")


if __name__ == "__main__":
    main()
