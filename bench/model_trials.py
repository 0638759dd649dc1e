"""Side-by-side training trials for the attribute regulariser: same start, same minutes, same seed.

    python -m bench.model_trials --minutes 20 [--init-from checkpoints/default-last] [--only NAME ...]

Each trial is `python -m vae train` in its own process (one torch thread each, run at the same time so
they share the machine equally), warm-started from the same checkpoint. Afterwards each is scored on
validation windows (reconstruction) and its sliders are fitted and swept (vae.controls). Writes
bench/trials.json and bench/trials.md; `--report-only` re-scores finished trials.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from vae.paths import REPO as ROOT
from vae.paths import RESUME

MODES = ("response", "decorrelated", "axis")  # how sliders are fitted (vae.controls.fit_controls)
BEFORE_R5 = ["--anticipate", "0", "--no-anticipate-offbeats", "--beta-max", "0.2"]  # the default preset until round 5
TRIALS = {  # name -> train flags (on top of the default preset; rounds 1-4 ran on the preset of their day: BEFORE_R5)
    # Round 1 (bench/trials-v1.md, first rhythmic-complexity definition): weight and tanh scale.
    "w0": ["--attr-weight", "0"],
    "w0.02": ["--attr-weight", "0.02", "--attr-scale", "10"],
    "w0.05": ["--attr-weight", "0.05", "--attr-scale", "10"],
    "w0.05-s3": ["--attr-weight", "0.05", "--attr-scale", "3"],
    # Round 2 (bench/trials.md, rhythmic complexity = entropy of inter-onset intervals): weight.
    "ioi-w0.05": ["--attr-weight", "0.05", "--attr-scale", "10"],
    "ioi-w0.1": ["--attr-weight", "0.1", "--attr-scale", "10"],
    "ioi-w0.05-ant": ["--attr-weight", "0.05", "--attr-scale", "10", "--anticipate", "0.25"],
    # Round 3 (to run; from scratch, not warm-started): latent size and free bits.
    "z16": ["--latent-dim", "16"],
    "z32": ["--latent-dim", "32"],
    "z64": ["--latent-dim", "64"],
    "z64-fb32": ["--latent-dim", "64", "--free-bits", "32"],
    "z64-fb128": ["--latent-dim", "64", "--free-bits", "128"],
    # Round 5 (step 12, warm start): pop-style syncopation (16th-note too) and less KL pressure for fidelity.
    "r5-w0.05": ["--attr-weight", "0.05", "--attr-scale", "10", *BEFORE_R5],
    "r5-sync": ["--attr-weight", "0.05", "--attr-scale", "10", "--anticipate", "0.5", "--anticipate-offbeats",
                "--beta-max", "0.2"],
    "r5-sync-b0.1": ["--attr-weight", "0.05", "--attr-scale", "10", "--anticipate", "0.5", "--anticipate-offbeats",
                     "--beta-max", "0.1"],
}
for _name in list(TRIALS):
    if not _name.startswith("r5-"):
        TRIALS[_name] = [*TRIALS[_name], *BEFORE_R5]
SCRATCH = {"z16", "z32", "z64", "z64-fb32", "z64-fb128"}  # trials that start from random weights (no --init-from)


def run_trials(names: list[str], minutes: float, init_from: Path, out: Path) -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    procs = []
    for name in names:
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        resume = ["--resume"] if (d / "last" / "checkpoint.json").exists() else []
        cmd = [sys.executable, "-m", "vae", "train", "--preset", "default", "--out", str(d), "--minutes", str(minutes),
               "--threads", "1", *([] if name in SCRATCH else ["--init-from", str(init_from)]),
               "--valid-every-minutes", "10", *resume, *TRIALS[name]]
        log = (d / "train.log").open("a")
        procs.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)))
        print("started", name, " ".join(cmd[3:]))
    for name, p in procs:
        print(name, "finished with code", p.wait())


def score(names: list[str], out: Path, n: int, modes: list[str], start: Path | None = None) -> list[dict]:
    import torch

    from vae.checkpoint import data_config
    from vae.config import REGULARISED
    from vae.corpus import load_or_build
    from vae.inference import TrainedModel
    from vae.sweep import format_sweep, measure_controls

    torch.set_num_threads(int(os.environ.get("TRIAL_THREADS", os.cpu_count() or 1)))
    from bench.ood import ood_windows

    ood = ood_windows(FIDELITY_WINDOWS)
    rows = []
    todo = ([("start", start)] if start else []) + [(name, out / name / "last") for name in names]
    for name, ckpt in todo:
        if not (ckpt / "checkpoint.json").exists():
            continue
        model = TrainedModel.load(ckpt)
        corpus = load_or_build(data_config(model.meta), progress=False)
        flags = " ".join(TRIALS.get(name, [])) or "(the warm-start checkpoint itself)"
        row = {"trial": name, "flags": flags, "step": model.meta["step"],
               "scores": model.meta["scores"], "history": model.meta["extra"].get("history", [])}
        row["fidelity"] = fidelity(model, ood)
        print(name, "fidelity", row["fidelity"])
        for mode in modes:
            m = measure_controls(model, corpus, REGULARISED, n=n, mode=mode)
            row[mode] = {"summary": m["summary"], "sweep": m["sweep"]}
            print(f"{name} {mode}\n{format_sweep(m['sweep'])}\n{m['summary']}")
        rows.append(row)
    return rows


FIDELITY_WINDOWS = 24  # out-of-domain windows per domain for the exact-note F1 columns


def fidelity(model, ood: dict) -> dict:
    """Mean exact-note F1 of the rendering at mu and after fitting z (vae.fidelity), per out-of-domain domain."""
    from vae.fidelity import FIT_STEPS, fit_melodies

    out = {}
    for domain, x in ood.items():
        fit = fit_melodies(model, x, detail=False, z_steps=FIT_STEPS)  # z alone: what the model itself can say (the detail fills in)
        out[domain] = {"mu": round(float(fit.f1_encoder.mean()), 3), "fitted": round(float(fit.f1_z.mean()), 3)}
    return out


TITLES = {"trials": "Regulariser trials, round 2", "trials-latent": "Latent size trials, round 3 (from scratch)",
          "trials-freebits": "Free-bits trials, round 4 (from scratch, z64; the default preset has 64 free nats)",
          "trials-r5": "Fidelity trials, round 5 (step 12: syncopation augmentation and KL weight; warm start)"}


def to_markdown(rows: list[dict], minutes: float, modes: list[str], table: str = "trials") -> str:
    lines = [f"# {TITLES.get(table, table)} ({minutes} minutes each, side by side, 1 thread each, seed 0)", "",
             ("From random weights" if table in ("trials-latent", "trials-freebits") else "Warm start from the same checkpoint")
             + "; held-out = validation windows. Sliders earned: attribute "
             "sliders whose sweep over -2..+2 moves their attribute with within-melody Spearman >= 0.8 and >= 2x "
             "any other attribute (each in its corpus std). Slider fits: response = the decoder's measured "
             "response to z, decorrelated = a read-out of the encoder's mu, axis = latent dim k itself.", "",
             f"Exact-note F1 of the rendering of out-of-domain windows (bench.ood, {FIDELITY_WINDOWS} per domain), at mu / after "
             "fitting z alone (vae.fidelity; no per-bar detail: what the model itself can say).", "",
             "| trial | flags | steps | teacher-forced | greedy | note-event | KL nats | mu-attribute Spearman | "
             "F1 pop | F1 classical | F1 ragtime | "
             + " | ".join(f"earned ({m})" for m in modes) + " |", "|---" * (11 + len(modes)) + "|"]
    for r in rows:
        s = r["scores"]
        start = r["step"] if r["trial"] == "start" else next(
            (h["step"] for h in reversed(r["history"]) if h.get("event") == "warm start"), 0)
        lines.append(f"| {r['trial']} | {r['flags']} | {r['step'] - start} | {s['teacher_forced_accuracy']:.3f} | "
                     f"{s['greedy_accuracy']:.3f} | {s['greedy_event_accuracy']:.3f} | {s['kl_nats']:.1f} | "
                     f"{s.get('attr_spearman', float('nan')):.3f} | "
                     + "".join(f"{f['mu']:.2f} / {f['fitted']:.2f} | " if f else "- | "
                               for f in (r.get("fidelity", {}).get(d) for d in ("pop", "classical", "ragtime")))
                     + " | ".join(f"{r[m]['summary']['earned']} of 9: {', '.join(r[m]['summary']['earned_names'])}"
                                  for m in modes) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--init-from", type=Path, default=RESUME)
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "trials")
    p.add_argument("--only", nargs="*", choices=list(TRIALS))
    p.add_argument("--n", type=int, default=100, help="held-out melodies per sweep")
    p.add_argument("--modes", nargs="*", choices=MODES, default=list(MODES), help="slider fits to sweep")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--train-only", action="store_true")
    p.add_argument("--table", default="trials", help="writes bench/TABLE.md and bench/TABLE.json")
    a = p.parse_args()
    names = a.only or list(TRIALS)
    t0 = time.time()
    if not a.report_only:
        run_trials(names, a.minutes, a.init_from, a.out)
    if a.train_only:
        return
    rows = score(names, a.out, a.n, a.modes, start=None if set(names) <= SCRATCH else a.init_from)
    (ROOT / "bench" / f"{a.table}.json").write_text(json.dumps({"minutes": a.minutes, "trials": rows}, indent=1))
    (ROOT / "bench" / f"{a.table}.md").write_text(to_markdown(rows, a.minutes, a.modes, a.table))
    print(to_markdown(rows, a.minutes, a.modes, a.table))
    print(f"done in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
