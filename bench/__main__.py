"""`python -m bench [--checkpoint P] [--quick] [--only a,b] [--corpus-limit N]`: run the benchmarks, print a table,
write bench/results.json and bench/results.md (bench/results-quick.* with --quick).

Sections (each in its own process): quality, fidelity, pop909, slow_spots, latency, http (+ memory), browser, scale, training, audio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import report
from bench.context import Context, app_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SECTIONS = ["quality", "fidelity", "pop909", "slow_spots", "latency", "http", "browser", "scale", "training", "audio"]
ALIASES = {"memory": "http"}
QUICK_CORPUS_LIMIT = 1000  # tunes, when --quick finds no warm corpus index for the checkpoint


def default_checkpoint() -> Path:
    from vae.paths import SHIPPED as shipped

    return shipped if (shipped / "checkpoint.json").exists() else REPO / "runs" / "default" / "best"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="Run the Melody Explorer benchmarks: print a "
                                "table, write results JSON and a markdown table beside it.")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="checkpoint folder (default: vae/pretrained/default if present, else runs/default/best)")
    p.add_argument("--quick", action="store_true", help="few repetitions, small samples, no corpus build (~3 min)")
    p.add_argument("--only", default="", help=f"comma-separated sections: {', '.join(SECTIONS)} (memory = http)")
    p.add_argument("--corpus-limit", default=None,
                   help="serve only N random tunes of the corpus (a smaller index to build); 'all' for every tune; "
                        f"default: all, or {QUICK_CORPUS_LIMIT} with --quick when the index cache is cold")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (default bench/results.json, bench/results-quick.json with --quick); "
                        "the markdown table goes beside it")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch folder (logs, rendered files)")
    return p.parse_args(argv)


def snapshot_checkpoint(src: Path, dst: Path) -> Path:
    """Copy a checkpoint (without optimizer state) so a training run that rewrites it cannot change it mid-bench."""
    if not (src / "checkpoint.json").exists():
        raise SystemExit(f"no checkpoint at {src} (train one with `make train`, or pass --checkpoint)")
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and not f.name.startswith("optimizer"):
            shutil.copy2(f, dst / f.name)
    return dst


def subset_corpus(full, limit: int, out: Path, seed: int = 0) -> Path:
    """A corpus folder with `limit` random tunes (all their windows, splits kept) of `full`."""
    rng = np.random.default_rng(seed)
    tunes = np.unique(full.tune)
    full.subset_tunes(rng.choice(tunes, size=min(limit, len(tunes)), replace=False)).save(out)
    return out


def index_is_warm(checkpoint: Path, corpus) -> bool:
    from explorer.latent.cache import cache_root
    from explorer.latent.encoded import index_key

    return (cache_root() / f"latents-{index_key(checkpoint, corpus)}.npz").exists()


def run_worker(name: str, ctx_path: Path, work: Path, ctx: Context, timeout: float = 3600) -> dict:
    out = work / f"result-{name}.json"
    cmd = [sys.executable, "-m", "bench.worker", name, str(ctx_path), str(out)]
    try:
        subprocess.run(cmd, cwd=REPO, env=app_env(ctx), timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pass
    if not out.exists():
        return {"name": name, "rows": [{"section": name, "metric": "section failed", "value": None, "unit": "",
                                        "target": "", "ok": False, "note": "worker crashed or timed out"}], "data": {}}
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.py: numpy's BLAS threads fight torch's on 2 cores
    only = [ALIASES.get(s.strip(), s.strip()) for s in a.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    sections = [s for s in SECTIONS if not only or s in only]
    out = a.out or HERE / ("results-quick.json" if a.quick else "results.json")
    src = (a.checkpoint or default_checkpoint()).resolve()
    work = Path(tempfile.mkdtemp(prefix="melody-bench-"))
    t0 = time.time()
    try:
        from vae.checkpoint import data_config, read_meta
        from vae.corpus import load_or_build

        ckpt = snapshot_checkpoint(src, work / "checkpoint")
        meta = read_meta(ckpt)
        print(f"checkpoint {src} (step {meta.get('step')}), snapshot in {ckpt}")
        full = load_or_build(data_config(meta), progress=True)
        limit = None if a.corpus_limit in (None, "all") else int(a.corpus_limit)
        if a.corpus_limit is None and a.quick and not index_is_warm(ckpt, full):
            limit = QUICK_CORPUS_LIMIT
            print(f"--quick: no warm corpus index for this checkpoint; serving {limit} random tunes (--corpus-limit all to override)")
        corpus_dir, cache_dir, melody_cache = full.path, None, None
        if limit:
            corpus_dir = subset_corpus(full, limit, work / "corpus-subset")
            melody_cache = work / "cache"
            cache_dir = melody_cache / "index"
        ctx = Context(checkpoint=str(ckpt), source_checkpoint=str(src), corpus_dir=str(corpus_dir),
                      full_corpus_dir=str(full.path), cache_dir=None if cache_dir is None else str(cache_dir),
                      melody_cache=None if melody_cache is None else str(melody_cache), work_dir=str(work),
                      quick=a.quick, corpus_limit=limit)
        ctx_path = ctx.dump(work / "context.json")

        from bench.stats import machine

        results = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "checkpoint": str(src), "step": meta.get("step"),
                   "quick": a.quick, "corpus_limit": limit, "corpus_windows_full": len(full), "machine": machine(),
                   "order": ["prepare", *SECTIONS], "sections": {}}
        if only and out.exists():  # keep the other sections of an earlier run; each carries its own time
            old = json.loads(out.read_text())
            if old.get("checkpoint") == str(src) and old.get("quick") == a.quick:
                results["sections"] = {k: v for k, v in old.get("sections", {}).items() if k not in sections}
        if any(s in sections for s in ("latency", "http", "browser", "scale")):
            print("== prepare: explorer caches (corpus index, features)")
            results["sections"]["prepare"] = run_worker("prepare", ctx_path, work, ctx)
        for i, name in enumerate(sections, 1):
            print(f"== {name} ({i}/{len(sections)})", flush=True)
            s0 = time.time()
            res = run_worker(name, ctx_path, work, ctx)
            res["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
            results["sections"][name] = res
            print(f"   {name}: {time.time() - s0:.0f} s", flush=True)
        results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        results["total_seconds"] = round(time.time() - t0, 1)
        json_path, md_path = report.write(results, out)
        print()
        print(report.text_table(results))
        print(f"\n{results['total_seconds']:.0f} s in all; wrote {json_path.relative_to(REPO) if json_path.is_relative_to(REPO) else json_path} "
              f"and {md_path.name}")
        failed = [r for r in report.rows_of(results) if r["metric"] == "section failed"]
        return 1 if failed else 0
    finally:
        if a.keep_work:
            print(f"scratch folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
