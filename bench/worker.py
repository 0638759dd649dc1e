"""Run one benchmark section in a fresh process: `python -m bench.worker SECTION CONTEXT.json OUT.json`.

A process per section keeps their memory, torch thread settings and caches apart (the http section's
peak RSS is the served app's), and one section that crashes does not lose the others.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from bench.context import Context, Section

MODULES = {"quality": "bench.run_quality", "latency": "bench.run_latency", "http": "bench.run_http",
           "scale": "bench.run_scale", "training": "bench.run_training", "audio": "bench.run_audio",
           "fidelity": "bench.run_fidelity", "browser": "bench.run_browser", "pop909": "bench.pop909",
           "slow_spots": "bench.slow_spots"}


def prepare(ctx: Context) -> Section:
    """Build the explorer's caches (corpus index and features) the way the app does, so sections find them warm."""
    from explorer.latent.space import LatentSpace

    sec = Section("prepare")
    s = LatentSpace.build(ctx.checkpoint, corpus=ctx.corpus(), cache_dir=ctx.cache_dir, progress=True)
    sec.data = {"seconds": round(s.build_seconds, 1), "index_from_cache": s.index.from_cache,
                "index_seconds": round(s.index.seconds, 1), "windows": len(s.corpus)}
    if not s.index.from_cache:
        sec.add("corpus index build, measured (cold cache)", s.index.seconds, "s", note=f"{len(s.corpus):,} windows")
    return sec


def main(argv: list[str]) -> int:
    name, ctx_path, out_path = argv
    ctx = Context.load(Path(ctx_path))
    load = os.getloadavg()
    t0 = time.time()
    try:
        sec = prepare(ctx) if name == "prepare" else importlib.import_module(MODULES[name]).run(ctx)
        result = sec.to_json()
    except Exception:
        traceback.print_exc()
        result = {"name": name, "rows": [{"section": name, "metric": "section failed", "value": None, "unit": "",
                                          "target": "", "ok": False, "note": traceback.format_exc().splitlines()[-1][:120]}],
                  "data": {"error": traceback.format_exc()}}
    from bench.stats import machine

    result["machine"] = machine()  # torch_threads as the section left it (1 for serving sections)
    result["load_average_at_start"] = [round(x, 2) for x in load]
    result["wall_s"] = round(time.time() - t0, 1)
    Path(out_path).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
