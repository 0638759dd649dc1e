"""`python -m bench.finetune`: "learn my style" side by side: which weights to adapt, with or without the corpus mixed in.

"My collection" is 50 real pop arrangements of ../shared/data/pop909-dev (whole files, as a composer would drop
them: the sung line is found by the upload's own melody pick), 20 others held out; all from the songs 700-909
no model learned from. Each setting fine-tunes the shipped model (vae.finetune, same seed) for 5 and then 15
training minutes on this CPU, and is scored after each against the shipped model:
- held-out pop: greedy note-event accuracy of the 20 held-out songs' windows reconstructed from z alone;
- Random like mine: Yang-Lerch overlap area (mean over features) of 200 prior samples with the collection;
- folk kept: the folk test split's greedy note-event accuracy (what it forgot);
- sliders: after 15 minutes the sliders are refitted on corpus + collection, and the named ones counted.
Writes bench/finetune.md and bench/finetune.json; skips with a sentence where the POP909 folder is absent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MINE, HELD = 50, 20
SETTINGS = {  # name -> (adapt, mix)
    "all weights, corpus mixed in": ("all", 0.5),
    "decoder only, corpus mixed in": ("decoder", 0.5),
    "all weights, collection only": ("all", 0.0),
}


def score(checkpoint: Path, held, mine, folk_test: np.ndarray) -> dict:
    """The three quality figures of one checkpoint (see the module docstring)."""
    from bench.quality import yang_lerch
    from vae.checkpoint import load_checkpoint
    from vae.inference import TrainedModel
    from vae.scores import reconstruction_scores

    model, _ = load_checkpoint(checkpoint)
    _, samples = TrainedModel.load(checkpoint).sample(200, seed=0)
    return {"held_out_pop": reconstruction_scores(model, held.tokens)["greedy_event_accuracy"],
            "random_like_mine": yang_lerch(mine.tokens, samples)["mean"]["overlap_area"],
            "folk_kept": reconstruction_scores(model, folk_test)["greedy_event_accuracy"]}


def run(minutes: tuple[float, ...] = (5.0, 15.0), settings: list[str] | None = None, threads: int = 1,
        work: Path = Path("runs/bench-finetune")) -> dict:
    import os

    import torch

    from vae.checkpoint import data_config, read_meta
    from vae.corpus import TEST, load_or_build
    from vae.finetune import FinetuneConfig, finetune, merged_corpus, refit_sliders
    from vae.paths import SHIPPED
    from vae.pop909 import song_folders

    torch.set_num_threads(threads)
    load = os.getloadavg()[0]  # other work on the CPUs means fewer steps in the same minutes
    mine_dir, held_dir = song_folders(work / "songs", MINE, HELD)  # bench.collections adds the same 50
    cfg = data_config(read_meta(SHIPPED))
    t0 = time.time()
    mine = load_or_build(cfg, midi_dir=mine_dir, progress=False, force=True)
    read_s = time.time() - t0
    held = load_or_build(cfg, midi_dir=held_dir, progress=False)
    base = load_or_build(cfg, progress=False)
    folk = base.subset(TEST)
    folk = folk[np.random.default_rng(0).permutation(len(folk))[:1000]]
    from vae.controls import load_controls

    shipped_named = load_controls(SHIPPED / "controls.json")[2]["summary"]["earned"]
    rows = {f"base: the shipped model (step {read_meta(SHIPPED)['step']})": {"0": {**score(SHIPPED, held, mine, folk), "sliders_named": shipped_named}}}
    for name in settings or list(SETTINGS):
        adapt, mix = SETTINGS[name]
        out = work / name.split(",")[0].replace(" ", "-") / f"mix{mix:g}"
        shutil.rmtree(out, ignore_errors=True)
        rows[name] = {}
        for i, m in enumerate(minutes):
            ft = finetune(SHIPPED, mine, base, out, FinetuneConfig(minutes=m, mix=mix, adapt=adapt, seed=0),
                          resume=i > 0, threads=threads)
            rows[name][f"{m:g}"] = {**score(out / "last", held, mine, folk), "steps": ft["steps"]}
            print(name, m, rows[name][f"{m:g}"], flush=True)
        t1 = time.time()
        summary = refit_sliders(out / "last", merged_corpus(base, mine, out / "corpus"), threads=threads)
        rows[name][f"{minutes[-1]:g}"].update(sliders_named=summary["earned"], refit_s=round(time.time() - t1))
    return {"collection": {"songs": MINE, "held_out_songs": HELD, "windows": len(mine), "held_out_windows": len(held),
                           "read_seconds": round(read_s, 1), "tunes_failed": mine.report["tunes_failed"]},
            "minutes": list(minutes), "threads": threads, "load_at_start": round(load, 2), "rows": rows}


def markdown(r: dict) -> str:
    c = r["collection"]
    lines = ["# Learn my style: fine-tuning settings side by side (`python -m bench.finetune`)", "",
             f"My collection: {c['songs']} POP909 arrangements (whole files; {c['windows']} melody windows, read in "
             f"{c['read_seconds']} s), {c['held_out_songs']} others held out ({c['held_out_windows']} windows); songs "
             f"700-909, which no model learned from. Same seed, {r['threads']} torch thread(s), minutes of training "
             f"on this CPU (validation not counted); load average {r.get('load_at_start', '?')} at the start (2 cores).", "",
             "| setting | minutes | steps | held-out pop event acc | Random ~ mine (Yang-Lerch OA) | folk test event acc "
             "| sliders named |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, by_min in r["rows"].items():
        for m, s in by_min.items():
            lines.append(f"| {name} | {m} | {s.get('steps', 0)} | {s['held_out_pop']:.3f} | {s['random_like_mine']:.3f} | "
                         f"{s['folk_kept']:.3f} | {s.get('sliders_named', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[5.0, 15.0])
    p.add_argument("--settings", nargs="*", choices=list(SETTINGS))
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    try:
        r = run(tuple(a.minutes), a.settings, a.threads)
    except FileNotFoundError as exc:
        print(f"skipped: {exc}")
        return 0
    (HERE / "finetune.json").write_text(json.dumps(r, indent=2))
    (HERE / "finetune.md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
