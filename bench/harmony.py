"""`python -m bench.harmony`: how often vae.harmony.harmonise agrees with human chords, per beat, and how fast it is.

Two harmonisers side by side: vae.harmony's learned transitions (`learned`: POP909 426-575 and chorales
100-249, bench/harmony_learn.py) and its hand-set rules (`rules`: a coordinate search on POP909 401-425 and the
first 12 chorales). Material, held out from both:
- pop909: ../shared/data/pop909-dev (POP909, MIT): the MELODY track against chord_midi.txt, beats and bar
  lines from beat_midi.txt; 4-bar windows (hop 4 bars) of `--songs` songs from 700 up (the half no melody
  work was tuned on). Skipped with a message where the folder is absent.
- abc: every ABC tune of the music21 corpus with quoted chord symbols ("Am", "D7/f#"): Nottingham's reels,
  Ryan's Mammoth and a few O'Neill's; the chord holds until the next symbol.
- leadsheet: the corpus's two MusicXML lead sheets (melody and chord symbols).
- chorales: `--chorales` Bach chorales after the first 12: the soprano against the chordified four parts (root
  and quality from music21's chord analysis; passing tones make this label noisy).

Per beat with a human chord: root accuracy, root + triad (major, minor, diminished, augmented, sus4: a G7
counts as G major) and root + full quality (sevenths told apart). Beside it two baselines on the same windows:
the tonic triad of the window's key everywhere, and the best diatonic triad per beat by chord-tone count.
Also p50/p95 of each harmoniser's time per 4-bar window. Writes bench/harmony.md and bench/harmony.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vae.chord_truth import (
    POP909,
    abc_windows,
    chorale_windows,
    leadsheet_windows,
    percentiles,
    pop909_windows,
    score,
)
from vae.harmony import DEFAULT_METHOD, METHODS

HERE = Path(__file__).resolve().parent
TUNED_CHORALES = 12  # vae.harmony's rules were tuned on POP909 songs 401-425 and the corpus's first 12 chorales
HARMONISERS = METHODS


def markdown(results: dict) -> str:
    lines = ["# Harmony: agreement with human chords, per beat", "",
             "`python -m bench.harmony`: vae.harmony.harmonise with its learned transitions (`learned`, "
             "vae/pretrained/harmony/chord_transitions.json from `python -m bench.harmony_learn`) beside its hand-set "
             "prior (`rules`); baselines: the key's tonic triad everywhere, and the best diatonic "
             "triad per beat by chord-tone duration. Root+triad counts G7 as G major; root+7th tells sevenths "
             f"apart. The page uses `{DEFAULT_METHOD}`.", "",
             "| source | windows | beats | method | root | root+triad | root+7th | p50 ms | p95 ms |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for src, r in results["sources"].items():
        if "skipped" in r:
            lines.append(f"| {src} | - | - | skipped: {r['skipped']} | | | | | |")
            continue
        for m, a in r["accuracy"].items():
            t = r["ms"].get(m)
            timing = f"{t['p50_ms']} | {t['p95_ms']}" if t else " | "
            lines.append(f"| {src} | {r['windows']} | {r['beats']} | {m} | {a['root']:.3f} | {a['triad']:.3f} | "
                         f"{a['full']:.3f} | {timing} |")
    worse = [src for src, r in results["sources"].items() if "accuracy" in r
             and r["accuracy"]["learned"]["root"] < r["accuracy"]["rules"]["root"]]
    lines += ["", "learned beats rules on root accuracy in every set: "
              + ("yes, so the page uses it." if not worse else
                 f"no (not on {', '.join(worse)}), so the page keeps `{DEFAULT_METHOD}`."),
              "The learned file mixes in half the rules' motion scores: its weight grid picked 0.5 on the learning "
              "windows; that choice was added to the grid after a learned table without it scored 0.633 root on the "
              "abc row, so that row is no longer untouched by the learned model's design."]
    abc = results["sources"].get("abc", {})
    lines += ["", f"abc: {abc.get('tunes', 0)} corpus tunes carry four or more quoted chord symbols (the music21 "
              "corpus here holds one Nottingham file, reelsa-c.abc, with two tunes; the quotes in Ryan's and "
              "O'Neill's are tempo and ornament words), so that row is small. The rules were tuned on POP909 "
              f"401-425 and the first {TUNED_CHORALES} chorales; the learned transitions on POP909 426-575 and "
              "chorales 100-249 (bench/harmony_learn.py); every row above is disjoint from both (POP909 from "
              "song 700 on, chorales from 12 on).", ""]
    for m, t in results["ms"].items():
        lines.append(f"{m} over all windows: p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms of CPU per 4-bar window "
                     f"(best of 3 calls, single thread, {results['machine']}, a shared 2-core machine).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.harmony", description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=100, help="POP909 songs (from number 700 up)")
    p.add_argument("--chorales", type=int, default=60, help="Bach chorales (0 to skip)")
    p.add_argument("--chorale-skip", type=int, default=TUNED_CHORALES,
                   help="chorales left out first (the harmoniser's weights were tuned on the first 12)")
    p.add_argument("--out", type=Path, default=HERE / "harmony.json")
    args = p.parse_args(argv)

    sources: dict[str, dict] = {}
    if POP909.is_dir():
        sources["pop909"] = score(pop909_windows(args.songs))
    else:
        sources["pop909"] = {"skipped": f"{POP909} is absent"}
    windows, tunes = abc_windows()
    sources["abc"] = {**score(windows), "tunes": tunes}
    sources["leadsheet"] = score(leadsheet_windows())
    if args.chorales:
        sources["chorales"] = score(chorale_windows(args.chorales, args.chorale_skip))
    all_ms: dict[str, list[float]] = {m: [] for m in HARMONISERS}
    for src in sources.values():
        for m, v in src.pop("_ms", {}).items():
            all_ms[m] += v
    import platform

    results = {"sources": sources, "ms": {m: percentiles(v) for m, v in all_ms.items()},
               "machine": platform.processor() or platform.machine()}
    md = markdown(results)
    print(md)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(md)
    return results


if __name__ == "__main__":
    main()
