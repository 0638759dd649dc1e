"""`python -m bench.collections`: seconds from drop to map when a composer adds 50 songs as their own collection.

"My collection" is the 50 POP909 arrangements of `bench.finetune` (whole files from songs 700-909, as a composer
would drop them: the sung line is found by the upload's own melody pick). Over the shipped model and corpus
(loaded first, not counted), each stage of an add is timed as the app runs it (explorer.latent.collections):
read (copy, parse, pick the melody, cut windows; one and two reader processes), save, encode the new windows,
merge the corpus's cached parts (attributes, copy-check index, keys), refit map/styles/neighbours, draw the map.
Then a second start with the saved collection (`python app.py --collection NAME`): load and join, its windows'
encoding now cached. Writes bench/collections.md and bench/collections.json; skips with a sentence where the
POP909 folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(threads: int = 1, workers: tuple[int, ...] = (1, 2)) -> dict:
    from explorer.latent import collections
    from explorer.latent.space import LatentSpace, default_threads
    from explorer.session.handlers import Handlers
    from vae.checkpoint import data_config
    from vae.paths import SHIPPED
    from vae.pop909 import song_folders

    os.environ["MELODY_TORCH_THREADS"] = str(threads)
    default_threads()
    with tempfile.TemporaryDirectory() as tmp:
        mine, _ = song_folders(Path(tmp) / "songs")  # the same 50 songs as bench.finetune's collection
        files = sorted(mine.iterdir())
        load = os.getloadavg()[0]
        t = time.perf_counter()
        base = LatentSpace.build(SHIPPED, progress=False, threads=threads)
        base_s = time.perf_counter() - t
        cfg = data_config(base.model.meta)
        rows, report = {}, []
        for w in workers:
            root = Path(tmp) / f"collections-{w}"
            h = Handlers(base, out_dir=Path(tmp) / f"renders-{w}")
            t = time.perf_counter()
            coll, report = collections.read_collection("My songs", files, cfg, root=root, workers=w)
            read_s = time.perf_counter() - t
            joined = collections.join(base, [coll], threads=threads)
            t = time.perf_counter()
            h.use_space(joined)
            h.map_figure("collection")
            map_s = time.perf_counter() - t
            js = joined.join_seconds
            rows[w] = {"read": round(coll.seconds["read"], 2), "save": round(coll.seconds["save"], 2),
                       "encode": round(js["encode"], 2), "merge": round(js["merge"], 2), "fit": round(js["fit"], 2),
                       "map": round(map_s, 2),
                       "total": round(read_s + joined.build_seconds + map_s, 2)}
            print(f"{w} reader(s):", rows[w], flush=True)
        t = time.perf_counter()
        again = collections.join(base, [collections.load_collection("My songs", root)], threads=threads)
        restart_s = time.perf_counter() - t
        added = [f for f in report if f.added]
        return {"files": len(files), "added": len(added), "refused": [f.sentence() for f in report if not f.added],
                "windows": len(coll.corpus), "tunes": len(coll.corpus.tunes), "base_windows": len(base.corpus),
                "base_load_seconds": round(base_s, 1), "threads": threads, "load_at_start": round(load, 2),
                "by_readers": rows, "restart_seconds": round(restart_s, 2),
                "restart_encode_seconds": round(again.join_seconds["encode"], 2),
                "styles": list(again.style_names)}


def markdown(r: dict) -> str:
    lines = ["# Your own collection: seconds from drop to map (`python -m bench.collections`)", "",
             f"{r['files']} POP909 arrangements (whole files, songs 700-909) added as one collection: {r['added']} "
             f"added ({r['tunes']} melodies, {r['windows']} four-bar windows), {r['files'] - r['added']} refused; "
             f"joined to the shipped model's corpus of {r['base_windows']:,} windows. {r['threads']} torch thread(s) on "
             f"this 2-core machine, load average {r['load_at_start']} at the start (background training running).", "",
             "| readers | read | save | encode | merge | refit | map | **drop to map** |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w, s in r["by_readers"].items():
        lines.append(f"| {w} | {s['read']} | {s['save']} | {s['encode']} | {s['merge']} | {s['fit']} | {s['map']} | "
                     f"**{s['total']} s** |")
    lines += ["", f"Next start with the saved collection (`python app.py --collection NAME`): {r['restart_seconds']} s to "
              f"load and join it (encoding {r['restart_encode_seconds']} s: cached per model). Styles after the add: "
              f"{', '.join(r['styles'])}."]
    if r["refused"]:
        lines += ["", "Refused:"] + [f"- {s}" for s in r["refused"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="torch threads (the app serves with 1)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="reader processes to compare")
    a = p.parse_args(argv)
    # as app.py serves (before numpy loads): numpy's BLAS threads fighting torch's on 2 cores made the refit 6x slower
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        r = run(a.threads, tuple(a.workers))
    except FileNotFoundError as exc:
        print(f"skipped: {exc}")
        return 0
    (HERE / "collections.json").write_text(json.dumps(r, indent=2))
    (HERE / "collections.md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
