"""Command line: `python -m explorer report [--checkpoint P] [--json FILE]` measures the latent-space services."""

import os

# Before torch loads: without it, 2 torch threads on 2 shared cores can run 30x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from vae.paths import SHIPPED  # noqa: E402

TRAINING = Path("runs/default/best")


def default_checkpoint() -> Path:
    """The shipped model when present, else the one being trained in runs/default/best."""
    return SHIPPED if (SHIPPED / "checkpoint.json").exists() else TRAINING


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="direction table, attribute vectors, style moves, map and copy check")
    r.add_argument("--checkpoint", type=Path, default=None, help=f"checkpoint folder (default {SHIPPED} or {TRAINING})")
    r.add_argument("--corpus", type=Path, default=None, help="built corpus folder (default: from the checkpoint's settings)")
    r.add_argument("--cache-dir", type=Path, default=None, help="where the encoded corpus is cached (default .cache/index)")
    r.add_argument("--n", type=int, default=200, help="melodies decoded per measurement")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--uploads", type=int, default=None,
                   help="unseen folk tunes and pop songs each uploaded to measure the sliders (default 12; 0 = skip)")
    r.add_argument("--threads", type=int, default=None, help="torch threads for encoding (default: all cores)")
    r.add_argument("--json", type=Path, default=Path("runs/explorer_report.json"),
                   help="also write the report here (default: runs/explorer_report.json, outside the package)")
    a = p.parse_args(argv)

    from explorer.latent.space import LatentSpace
    from explorer.report import build_report, format_report
    from vae.corpus import Corpus
    from vae.errors import CheckpointError

    ckpt = a.checkpoint or default_checkpoint()
    try:
        corpus = Corpus.load(a.corpus) if a.corpus else None
        services = LatentSpace.build(ckpt, corpus, a.cache_dir, threads=a.threads)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = build_report(services, n=a.n, seed=a.seed, **({} if a.uploads is None else {"uploads": a.uploads}))
    report["model"]["checkpoint"] = str(ckpt)
    print(format_report(report))
    out = a.json
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        print(f"\nreport written to {out}")
    except OSError as exc:
        print(f"\ncould not write {out}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
