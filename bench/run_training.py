"""Section `training`: windows/s of the `default` preset's training step under four CPU settings, as ratios."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.context import Context, Section, Stopwatch

REPO = Path(__file__).resolve().parent.parent
# name -> (OMP_WAIT_POLICY or None to unset it, torch threads, bf16 autocast)
VARIANTS = {
    "fp32, OMP passive, 2 threads": ("PASSIVE", 2, False),
    "fp32, OMP passive, 1 thread": ("PASSIVE", 1, False),
    "bf16 autocast, OMP passive, 2 threads": ("PASSIVE", 2, True),
    "fp32, OMP_WAIT_POLICY unset, 2 threads": (None, 2, False),
}
BASELINE = "fp32, OMP passive, 2 threads"


def probe(ctx: Context, policy: str | None, threads: int, bf16: bool) -> dict:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    steps, seconds = (10, 8.0) if ctx.quick else (40, 60.0)
    cmd = [sys.executable, "-m", "bench.train_probe", "--corpus", ctx.full_corpus_dir, "--threads", str(threads),
           "--steps", str(steps), "--warmup", "3", "--max-seconds", str(seconds)] + (["--bf16"] if bf16 else [])
    try:
        out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=seconds * 3 + 120)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> Section:
    sec = Section("training")
    t = Stopwatch()
    res = {name: probe(ctx, *v) for name, v in VARIANTS.items()}
    base = res[BASELINE].get("windows_per_s")
    for name, r in res.items():
        if "error" in r:
            sec.add(f"{name}", None, "windows/s", note=f"failed: {r['error'][:80]}")
            continue
        ratio = r["windows_per_s"] / base if base else None
        r["ratio_to_baseline"] = None if ratio is None else round(ratio, 3)
        sec.add(f"train {name}", r["windows_per_s"], "windows/s",
                note=f"x{ratio:.2f} of baseline; steps timed: {r['steps']}" if ratio else f"steps timed: {r['steps']}")
    sec.data = {"preset": "default", "baseline": BASELINE, "variants": res, "seconds": round(t.s, 1),
                "note": "step as in vae.train (forward, backward, clip, Adam), batch 64, random training windows"}
    return sec
