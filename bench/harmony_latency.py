"""`python -m bench.harmony_latency`: a slider move's server time with harmony off and on, side by side.

Through the page's own function (explorer.session.handlers.Handlers.set_sliders) on the shipped model: the welcome melody
is loaded, then the same sequence of slider moves (all 16 sliders nudged at random, each move from the loaded
melody, so every call decodes a new z) is served with each backing of the menu in turn, interleaved move by move,
so a busy machine slows every setting alike. Both paths a slider takes are timed: the release (`set_sliders`: the
whole panel, MIDI and copy check included) and the drag preview (`preview=True`: piano roll and audio only).
Reports the median and p95 of the server time (Rendered.timings_ms["total"], steering included) and the median of
each stage, and the ratio of each setting to harmony off. Prints the table and writes bench/harmony_latency.md
and bench/harmony_latency.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from bench.context import serving_threads, stage_medians
from bench.stats import machine

HERE = Path(__file__).resolve().parent
SETTINGS = ("None", "Tonic chord", "Chords: block", "Chords: broken", "Chords: bass and chord",
            "Chords: waltz / jig (follows the meter)")
NUDGE_SD = 0.7  # slider units (standard deviations) each slider moves per timed move
BUDGET = 2.0  # the limit: harmony on must not double a move's time


def measure(h, state, moves: list[list[float]], warmup: int, preview: bool) -> dict[str, list[dict]]:
    """Every setting's timings_ms of each move (the first `warmup` moves unrecorded), interleaved move by move."""
    from explorer.media.files import Playback

    plays = {name: Playback(accompaniment=name) for name in SETTINGS}
    out: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for i, values in enumerate(moves):
        for name, play in plays.items():
            _, r = h.set_sliders(state, values, play, preview=preview)
            if i >= warmup:
                out[name].append(r.timings_ms)
    return out


def summarise(timings: dict[str, list[dict]]) -> dict:
    base = float(np.median([t["total"] for t in timings["None"]]))
    rows = {}
    for name, ts in timings.items():
        total = np.array([t["total"] for t in ts])
        stages = {k: v["median_ms"] for k, v in stage_medians(ts).items() if k != "total"}
        rows[name] = {"median_ms": round(float(np.median(total)), 2), "p95_ms": round(float(np.percentile(total, 95)), 2),
                      "ratio": round(float(np.median(total)) / base, 3), "stages": stages, "n": len(ts)}
    return rows


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = ["# Harmony: a slider move's server time, harmony off and on", "",
             f"`python -m bench.harmony_latency` ({results['moves']} slider moves per setting after "
             f"{results['warmup']} unrecorded, interleaved move by move; shipped model, {results['melody']!r}, "
             f"{results['meter']}; {m['machine']}, {m['cores']} cores shared, torch threads {m['torch_threads']}). "
             "Server time is Rendered.timings_ms['total'] of Handlers.set_sliders, steering included; "
             f"ratio is each setting's median over harmony off's (the budget: under {BUDGET:g}).", ""]
    for path, label in (("release", "Release (set_sliders: the whole panel)"),
                        ("preview", "Drag preview (set_sliders preview=True: piano roll and audio)")):
        rows = results[path]
        stages = list(next(iter(rows.values()))["stages"])
        lines += [f"## {label}", "", "| backing | p50 ms | p95 ms | ratio | " + " | ".join(stages) + " |",
                  "|---|---:|---:|---:|" + "---:|" * len(stages)]
        for name, r in rows.items():
            lines.append(f"| {name} | {r['median_ms']} | {r['p95_ms']} | {r['ratio']} | "
                         + " | ".join(f"{r['stages'][s]:.2f}" for s in stages) + " |")
        lines.append("")
    worst = max(r["ratio"] for path in ("release", "preview") for r in results[path].values())
    lines += [f"Largest ratio: {worst:.2f} ({'within' if worst < BUDGET else 'OVER'} the budget of {BUDGET:g}). "
              "Stages in ms (p50): harmony is the harmoniser itself (vae.harmony.harmonise), audio includes "
              "synthesising the backing, midi writing its track.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.harmony_latency", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", type=Path, default=None, help="default: the shipped model (vae.paths.SHIPPED)")
    p.add_argument("--moves", type=int, default=60, help="timed slider moves per setting")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=HERE / "harmony_latency.json")
    args = p.parse_args(argv)

    from explorer.latent.space import LatentSpace
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.state import new_state
    from vae.paths import SHIPPED

    services = LatentSpace.build(args.checkpoint or SHIPPED, progress=False)
    threads = serving_threads()
    with tempfile.TemporaryDirectory() as tmp:
        h = Handlers(services, out_dir=Path(tmp))
        state, r = h.load_window(new_state(), h.welcome_window(), Playback())
        rng = np.random.default_rng(args.seed)
        base = np.clip(np.asarray(services.sliders_of(state.z), np.float64), -2.5, 2.5)
        moves = [list(np.clip(base + rng.normal(0, NUDGE_SD, len(base)), -3, 3)) for _ in
                 range(args.warmup + args.moves)]
        results = {"moves": args.moves, "warmup": args.warmup, "melody": r.title, "meter": state.meter,
                   "machine": {**machine(), "torch_threads": threads},
                   "release": summarise(measure(h, state, moves, args.warmup, preview=False)),
                   "preview": summarise(measure(h, state, moves, args.warmup, preview=True))}
    md = markdown(results)
    print(md)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(md)
    return results


if __name__ == "__main__":
    main()
