"""Command line: `python -m explorer report [--checkpoint P] [--json FILE]` measures the latent-space services;
`python -m explorer collection add NAME FOLDER_OR_FILES...` makes (or adds to) your own collection, `collection list`
lists the saved ones, `collection rename OLD NEW` and `collection delete NAME` (with the model that learned its style)
manage them (explorer.latent.collections)."""

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
    c = sub.add_parser("collection", help="your own collection: add MIDI/ABC files, folders or zips; list, rename "
                                          "or delete them")
    c.add_argument("action", choices=["add", "list", "rename", "delete"])
    c.add_argument("name", nargs="?", help="the collection's name (add, delete; rename: its name now)")
    c.add_argument("paths", nargs="*", help="folders (read through), files and zips (add); the new name (rename)")
    c.add_argument("--yes", action="store_true", help="delete without asking")
    c.add_argument("--checkpoint", type=Path, default=None, help="the model whose window settings cut the melodies")
    c.add_argument("--root", type=Path, default=None, help="collections folder (default env MELODY_COLLECTIONS or "
                                                          ".cache/collections)")
    c.add_argument("--workers", type=int, default=None, help="reader processes (default: every core, at most 8)")
    a = p.parse_args(argv)
    if a.command == "collection":
        return collection_command(a)

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


def collection_command(a) -> int:
    """`collection add NAME PATHS...` (a progress bar, then one line per file) and `collection list`."""
    from explorer.errors import UserError
    from explorer.latent import collections
    from vae.checkpoint import data_config, read_meta

    if a.action == "list":
        names = collections.saved_collections(a.root)
        print("\n".join(names) if names else f"no collections yet in {collections.collections_root(a.root)}")
        return 0
    if a.action in ("rename", "delete"):
        return manage_command(a)
    a.paths = [Path(p) for p in a.paths]
    if not a.name or not a.paths:
        print("error: collection add NAME FOLDER_OR_FILES...", file=sys.stderr)
        return 2
    files, names = [], []
    for p in a.paths:  # a folder is read through: its music files and zips, in a stable order
        found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in (*collections.READERS, ".zip")) \
            if p.is_dir() else [p]
        files += found
        names += [str(f.relative_to(p)) if p.is_dir() else f.name for f in found]
    if not files:
        print(f"error: no MIDI, ABC or zip files in {', '.join(map(str, a.paths))}", file=sys.stderr)
        return 2
    try:
        cfg = data_config(read_meta(a.checkpoint or default_checkpoint()))
        coll, report = collections.read_collection(a.name, files, cfg, a.root, names=names, workers=a.workers,
                                                   progress=True)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(f.sentence() for f in report))
    if coll is None:
        print(f"nothing was added: no collection {a.name!r} was made", file=sys.stderr)
        return 1
    added = sum(f.added for f in report)
    print(f"\n{added} of {len(report)} files added; {coll.name!r} now holds {len(coll.corpus.tunes)} melodies, "
          f"{coll.windows} four-bar windows, in {coll.folder}.\nExplore it: python app.py --collection "
          f"{_quoted(coll.name)}")
    return 0


def manage_command(a) -> int:
    """`collection rename OLD NEW` and `collection delete NAME [--yes]` (asks first, saying what goes)."""
    from explorer.errors import UserError
    from explorer.latent import collections
    from explorer.session.learn import model_folder

    if a.action == "rename" and (not a.name or len(a.paths) != 1):
        print("error: collection rename OLD NEW (quote a name with spaces)", file=sys.stderr)
        return 2
    if a.action == "delete" and (not a.name or a.paths):
        print("error: collection delete NAME (quote a name with spaces)", file=sys.stderr)
        return 2
    try:
        if a.action == "rename":
            coll = collections.rename_collection(a.name, a.paths[0], a.root)
            print(f"{a.name.strip()!r} is now {coll.name!r} ({coll.folder}); start with: python app.py --collection "
                  f"{_quoted(coll.name)}")
            return 0
        coll = collections.load_collection(a.name, a.root)
        learned = model_folder(coll).exists()
        what = (f"{coll.name!r}: {len(coll.corpus.tunes)} melodies, the copies of its files in {coll.folder}"
                + (" and the model that learned its style" if learned else ""))
        if not a.yes:
            if not sys.stdin.isatty():
                print(f"error: deleting {what} needs --yes when not asked at a terminal", file=sys.stderr)
                return 2
            if input(f"Delete {what}? [y/N] ").strip().lower() not in ("y", "yes"):
                print("kept")
                return 1
        collections.delete_collection(coll.name, a.root)
        print(f"deleted {what}")
        return 0
    except (UserError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


if __name__ == "__main__":
    raise SystemExit(main())
