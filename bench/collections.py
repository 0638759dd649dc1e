"""`python -m bench.collections`: seconds from drop to map when a composer adds 50 songs as their own collection.

"My collection" is the 50 POP909 arrangements of `bench.finetune` (whole files from songs 700-909, as a composer
would drop them: the sung line is found by the upload's own melody pick). Over the shipped model and corpus
(loaded first, not counted), each stage of an add is timed as the app runs it (explorer.latent.collections):
read (copy, parse, pick the melody, cut windows; one and two reader processes), save, encode the new windows,
merge the corpus's cached parts (attributes, copy-check index, keys), refit map/styles/neighbours, draw the map.
Then a second start with the saved collection (`python app.py --collection NAME`): load and join, its windows'
encoding now cached.

Random closer to your collection: melodies drawn by the page's Random (the corpus's latent Gaussian), by the
collection's own Gaussian (LatentSpace.sample_in_style), by Random from my collection (draw_near: near one of its
windows; once as it was before it redrew likely copies, `tries=1`, and once as the page draws) and from the prior
N(0, I) at temperature 0.5 (bench.finetune's "Random like mine" row) are compared with the collection by the Yang-Lerch overlap area (mean
over bench.quality's features; 1 = distributed like it), and with the 20 held-out songs of bench.finetune (the same
style, windows the collection does not hold), 200 melodies a draw and a few seeds; with the share the copy check
calls a likely copy of a window on the map. Writes bench/collections.md and bench/collections.json; skips with a
sentence where the POP909 folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def closeness(space, name: str, mine: np.ndarray, held: np.ndarray, n: int = 200, seeds: tuple[int, ...] = (0, 1, 2),
              temperature: float = 0.0) -> dict:
    """Random, Random from my collection and the prior against the collection `name` (tokens `mine` [N, T]) and
    held-out songs of it (`held` [M, T]) -> {row: {"mine": [OA per seed], "held": [...], "copies": [share]}}."""
    from bench.quality import yang_lerch
    from explorer.latent.collections import DRAW_TRIES, draw_near
    from explorer.latent.generation import gaussian_draw

    draws = {
        f"Random (the page's: the corpus's Gaussian, temperature {temperature:g})":
            lambda seed: space.model.decode(gaussian_draw(n, *space.latent_gaussian, seed=seed), temperature, seed),
        f"the collection's Gaussian (sample_in_style, temperature {temperature:g})":
            lambda seed: space.sample_in_style(name, n, temperature, seed)[1],
        f"Random from my collection before the copy check (draw_near, tries=1, temperature {temperature:g})":
            lambda seed: space.model.decode(draw_near(space, name, n, seed, tries=1), temperature, seed),
        f"Random from my collection (near one of its windows: draw_near, a likely copy drawn again up to "
        f"{DRAW_TRIES} tries, temperature {temperature:g})":
            lambda seed: space.model.decode(draw_near(space, name, n, seed), temperature, seed),
        "prior N(0, I), temperature 0.5 (bench.finetune's row)": lambda seed: space.model.sample(n, 0.5, seed)[1],
    }
    out = {}
    for row, draw in draws.items():
        got = {"mine": [], "held": [], "copies": []}
        for seed in seeds:
            tokens = np.asarray(draw(seed))
            got["mine"].append(yang_lerch(mine, tokens)["mean"]["overlap_area"])
            yl = yang_lerch(held, tokens)
            got["held"].append(yl["mean"]["overlap_area"])
            got.setdefault("held_features", []).append({f: v["overlap_area"] for f, v in yl.items() if f != "mean"})
            got["copies"].append(round(float(np.mean([space.originality(t)["likely_copy"] for t in tokens])), 3))
        out[row] = got
        print(row, got, flush=True)
    return out


def run(threads: int = 1, workers: tuple[int, ...] = (1, 2), draws: int = 200, seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    from explorer.latent import collections
    from explorer.latent.space import LatentSpace, default_threads
    from explorer.session.handlers import Handlers
    from vae.checkpoint import data_config
    from vae.paths import SHIPPED
    from vae.pop909 import song_folders

    os.environ["MELODY_TORCH_THREADS"] = str(threads)
    default_threads()
    with tempfile.TemporaryDirectory() as tmp:
        mine, held = song_folders(Path(tmp) / "songs")  # the same 50 songs as bench.finetune's collection
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
        held_coll, _ = collections.read_collection("Held out", sorted(held.iterdir()), cfg, root=Path(tmp) / "held")
        near = closeness(again, "My songs", coll.corpus.tokens, held_coll.corpus.tokens, draws, seeds)
        added = [f for f in report if f.added]
        return {"closeness": near, "draws": draws, "seeds": list(seeds), "held_windows": len(held_coll.corpus),
                "files": len(files), "added": len(added), "refused": [f.sentence() for f in report if not f.added],
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
             f"this 2-core machine, load average {r['load_at_start']} at the start (1-minute average: other work on the machine).", "",
             "| readers | read | save | encode | merge | refit | map | **drop to map** |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w, s in r["by_readers"].items():
        lines.append(f"| {w} | {s['read']} | {s['save']} | {s['encode']} | {s['merge']} | {s['fit']} | {s['map']} | "
                     f"**{s['total']} s** |")
    lines += ["", f"Next start with the saved collection (`python app.py --collection NAME`): {r['restart_seconds']} s to "
              f"load and join it (encoding {r['restart_encode_seconds']} s: cached per model). Styles after the add: "
              f"{', '.join(r['styles'])}."]
    if "closeness" in r:
        lines += ["", "## Random closer to your collection", "",
                  f"{r['draws']} melodies a draw, seeds {', '.join(map(str, r['seeds']))}: Yang-Lerch overlap area (mean "
                  "over features; 1 = distributed like the reference) with the collection's "
                  f"{r['windows']} windows and with the {r['held_windows']} windows of the 20 held-out songs (mean, "
                  "min-max over seeds); likely copies: the share the copy check flags (>= 2 bars of a window on the map).",
                  "", "| draw | OA with my collection | OA with its held-out songs | likely copies |", "|---|---:|---:|---:|"]
        for row, g in r["closeness"].items():
            span = lambda v: f"{np.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})"  # noqa: E731
            lines.append(f"| {row} | {span(g['mine'])} | {span(g['held'])} | {np.mean(g['copies']):.1%} |")
    if r["refused"]:
        lines += ["", "Refused:"] + [f"- {s}" for s in r["refused"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="torch threads (the app serves with 1)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="reader processes to compare")
    p.add_argument("--draws", type=int, default=200, help="melodies per draw in the Random comparison")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the Random comparison")
    a = p.parse_args(argv)
    # as app.py serves (before numpy loads): numpy's BLAS threads fighting torch's on 2 cores made the refit 6x slower
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        r = run(a.threads, tuple(a.workers), a.draws, tuple(a.seeds))
    except FileNotFoundError as exc:
        print(f"skipped: {exc}")
        return 0
    (HERE / "collections.json").write_text(json.dumps(r, indent=2))
    (HERE / "collections.md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
