"""Steering settings side by side: the same fitted sliders, the same held-out melodies, one setting changed.

    python -m bench.steer_trials [--checkpoint DIR] [-n 60] [--settings w2 w3 w4 w6 c40]

A setting `wX` sets vae.sweep.STEER_ASKED_WEIGHT to X (how much more a miss on the attribute the user moved
counts than a miss on one that should hold); `cN` decodes N candidates per move instead of STEER_CANDIDATES.
Each sweeps all 16 sliders over -2..+2 through the steered move (vae.sweep.sweep) on the first n validation
windows that `python -m vae controls` uses (seed 0), with the sliders in DIR/controls.json. Writes
bench/steer_trials.md.

    python -m bench.steer_trials --latency shipped,c40 [--uploads 3]

times the page's slider release (Handlers.set_sliders, steer and render) under each steering setting of
bench.slider_uploads (`--steer`), interleaved move by move on the same uploads (3 folk tunes, 3 pop songs, every
named slider +1), so a busy machine slows every setting alike: p50 ms each (wall and process CPU time) and its ratio
to the first (median of per-move wall ratios; total CPU time over the first's).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from vae.paths import REPO, SHIPPED


def run_setting(setting: str, model, controls, mu: np.ndarray, std: dict) -> dict:
    import vae.sweep as sw

    weight, candidates = sw.STEER_ASKED_WEIGHT, sw.STEER_CANDIDATES
    steer = sw.steer
    try:
        if setting.startswith("w"):
            sw.STEER_ASKED_WEIGHT = float(setting[1:])
        elif setting.startswith("c"):
            n = int(setting[1:])
            sw.steer = lambda *a, **k: steer(*a, **{**k, "candidates": n})
        else:
            raise ValueError(f"unknown setting {setting!r}: wX (asked weight) or cN (candidates)")

        def decode(z):
            return np.concatenate([model.decode(z[i : i + 4096]) for i in range(0, len(z), 4096)])

        t0 = time.time()
        table = sw.sweep(decode, controls, mu, std, steered=True)
        return {"setting": setting, "weight": sw.STEER_ASKED_WEIGHT,
                "candidates": n if setting.startswith("c") else candidates, "table": table,
                "summary": sw.summarise(table), "seconds": round(time.time() - t0, 1)}
    finally:
        sw.STEER_ASKED_WEIGHT, sw.steer = weight, steer


def latency(settings: list[str], uploads: int = 3, repeats: int = 2) -> dict:
    """p50 ms of set_sliders per steering setting, interleaved on the same uploads and moves (see the docstring)."""
    import tempfile

    from bench.slider_uploads import steering
    from explorer.latent.space import LatentSpace
    from explorer.media.files import Playback
    from explorer.report import folk_upload_files, load_upload, pop_upload_files
    from explorer.session.handlers import Handlers

    s = LatentSpace.build(SHIPPED, progress=False)
    folder = Path(tempfile.mkdtemp(prefix="steer-latency-"))
    h, play = Handlers(s, out_dir=folder / "out"), Playback()
    named = [d["index"] for d in s.direction_labels() if d["name"] and d["fitted"] == d["name"]]
    loaded = [load_upload(h, p, play) for p in folk_upload_files(s, folder, uploads) + pop_upload_files(uploads)]
    ms: dict[str, list[float]] = {k: [] for k in settings}
    cpu: dict[str, list[float]] = {k: [] for k in settings}
    for _ in range(repeats):
        for st, r0, _ in loaded:
            for i in named:
                values = list(r0.sliders)
                values[i] = float(np.clip(round(values[i] + 1.0, 2), -3.0, 3.0))
                for setting in settings:
                    with steering(setting):
                        t0, c0 = time.perf_counter(), time.process_time()
                        h.set_sliders(st, values, play)
                        cpu[setting].append((time.process_time() - c0) * 1e3)
                        ms[setting].append((time.perf_counter() - t0) * 1e3)
    first, first_cpu = np.asarray(ms[settings[0]]), np.asarray(cpu[settings[0]])
    return {k: {"p50_ms": float(np.median(v)), "ratio": float(np.median(np.asarray(v) / first)), "moves": len(v),
                "cpu_p50_ms": float(np.median(cpu[k])), "cpu_total_ratio": float(np.sum(cpu[k]) / np.sum(first_cpu))}
            for k, v in ms.items()}


def to_markdown(rows: list[dict], checkpoint: str, n: int, step: int) -> str:
    attrs = [r["attribute"] for r in rows[0]["table"] if r["attribute"]]
    lines = [f"# Steering settings, side by side ({checkpoint}, step {step}, {n} held-out melodies)", "",
             "Same fitted sliders and melodies in every row; each cell is the slider's within-melody Spearman / "
             "specificity (own effect over the largest other), **bold** when it earns the name (>= 0.8 and >= 2x). "
             "`python -m bench.steer_trials`.", "",
             "| setting | asked weight | candidates | named | " + " | ".join(attrs) + " |",
             "|---" * (4 + len(attrs)) + "|"]
    for r in rows:
        cells = []
        for row in r["table"][: len(attrs)]:
            cell = f"{row['spearman']:.2f} / {row['specificity']:.1f}x"
            cells.append(f"**{cell}**" if row["name"] else cell)
        lines.append(f"| {r['setting']} | {r['weight']:g} | {r['candidates']} | {r['summary']['earned']} of 9 | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=SHIPPED)
    p.add_argument("-n", type=int, default=60)
    p.add_argument("--settings", nargs="+", default=["w2", "w3", "w4", "w6", "c40"])
    p.add_argument("--out", type=Path, default=REPO / "bench" / "steer_trials.md")
    p.add_argument("--latency", default=None, help="comma-separated bench.slider_uploads --steer settings to time")
    p.add_argument("--uploads", type=int, default=3, help="with --latency: folk tunes and pop songs each")
    a = p.parse_args()
    if a.latency:
        for k, v in latency(a.latency.split(","), a.uploads).items():
            print(f"{k}: set_sliders p50 {v['p50_ms']:.0f} ms wall ({v['ratio']:.2f}x the first, median of move ratios), "
                  f"CPU p50 {v['cpu_p50_ms']:.0f} ms, CPU in all {v['cpu_total_ratio']:.2f}x the first, {v['moves']} moves")
        return
    from vae.attributes import corpus_attributes
    from vae.checkpoint import data_config
    from vae.controls import corpus_std, load_controls
    from vae.corpus import load_or_build
    from vae.inference import TrainedModel
    from vae.split import TRAIN, VALID

    model = TrainedModel.load(a.checkpoint)
    corpus = load_or_build(data_config(model.meta), progress=False)
    got = load_controls(a.checkpoint / "controls.json")
    if got is None:
        raise SystemExit(f"no controls.json in {a.checkpoint}: run `python -m vae controls --checkpoint {a.checkpoint}`")
    controls = got[0]
    std = corpus_std(corpus_attributes(corpus))
    # the held-out melodies vae.sweep.measure_controls sweeps (same seed, same draws before them)
    rng = np.random.default_rng(0)
    train = np.nonzero(corpus.split == TRAIN)[0]
    rng.choice(train, size=min(30000, len(train)), replace=False)
    held = np.nonzero(corpus.split == VALID)[0]
    held = np.sort(rng.choice(held, size=min(a.n, len(held)), replace=False))
    mu = model.encode(corpus.tokens[held].astype(np.int64))[0]
    rows = []
    for s in a.settings:
        rows.append(run_setting(s, model, controls, mu, std))
        print(s, rows[-1]["summary"], f"{rows[-1]['seconds']} s", flush=True)
    md = to_markdown(rows, str(a.checkpoint.relative_to(REPO) if a.checkpoint.is_relative_to(REPO) else a.checkpoint),
                     len(held), model.meta["step"])
    a.out.write_text(md)
    print(md)


if __name__ == "__main__":
    main()
