"""Resumable corpus reading: the per-file results are written in parts of `part_files` files as each part
finishes, so an interrupted build of a large MIDI collection continues where it stopped, and memory holds
token windows only (never the parsed files). `vae.corpus.build_corpus` reads through `read_in_parts`.

A part is two files in `<corpus folder>.parts/`: part-K.json (per file: tune metadata, errors, drops, pitch
range and how many windows each tune has) and part-K.npz (the windows and their start steps), the npz
written last so that its presence marks a finished part. No pickle anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

PART_FILES = 1000  # files per part: a part is a few seconds to a minute of reading

# one file's result, as vae.corpus._read_job returns it: tune metas, windows per tune, starts per tune, errors,
# dropped windows by reason, pitch range
Result = tuple[list[dict], list[np.ndarray], list[np.ndarray], list[dict], Counter, dict]


def parts_folder(out_dir: Path) -> Path:
    return Path(out_dir).with_name(Path(out_dir).name + ".parts")


def save_part(folder: Path, k: int, results: dict[int, Result], steps: int) -> None:
    """Write part k: results by job index."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs, wins, starts = [], [], []
    for i in sorted(results):
        metas, w, s, errors, drops, pstats = results[i]
        jobs.append({"job": i, "metas": metas, "errors": errors, "drops": dict(drops), "pstats": pstats,
                     "windows": [len(x) for x in w]})
        wins.extend(w)
        starts.extend(s)
    (folder / f"part-{k:06d}.json").write_text(json.dumps(jobs))
    tmp = folder / f"part-{k:06d}.tmp.npz"
    np.savez(tmp, windows=np.concatenate(wins) if wins else np.zeros((0, steps), np.uint8),
             starts=np.concatenate(starts) if starts else np.zeros(0, np.int32))
    tmp.replace(folder / f"part-{k:06d}.npz")


def load_part(folder: Path, k: int) -> dict[int, Result] | None:
    """Part k's results by job index, or None when the part was not finished."""
    npz, js = folder / f"part-{k:06d}.npz", folder / f"part-{k:06d}.json"
    if not (npz.exists() and js.exists()):
        return None
    with np.load(npz, allow_pickle=False) as z:
        windows, starts = z["windows"], z["starts"]
    out: dict[int, Result] = {}
    at = 0
    for j in json.loads(js.read_text()):
        w, s = [], []
        for n in j["windows"]:
            w.append(windows[at : at + n])
            s.append(starts[at : at + n])
            at += n
        out[int(j["job"])] = (j["metas"], w, s, j["errors"], Counter(j["drops"]), j["pstats"])
    return out


def read_in_parts(n_jobs: int, sizes: list[int], read_many: Callable[[list[int]], list[Result]], out_dir: Path,
                  steps: int, part_files: int = PART_FILES, on_loaded: Callable[[int], None] | None = None
                  ) -> dict[int, Result]:
    """Every job's result by index: finished parts are loaded, the others read with read_many(indices) (in that
    order; the caller may run them in a pool) and saved. sizes: each job's file size (bigger files go first
    within a part, so the last worker is not left alone with the biggest one). on_loaded(n) is told how many
    files a part loaded from an earlier, interrupted build held."""
    folder = parts_folder(out_dir)
    results: dict[int, Result] = {}
    for k, first in enumerate(range(0, n_jobs, part_files)):
        idx = list(range(first, min(first + part_files, n_jobs)))
        got = load_part(folder, k)
        if got is None or set(got) != set(idx):
            order = sorted(idx, key=lambda i: -sizes[i])
            got = dict(zip(order, read_many(order), strict=True))
            save_part(folder, k, got, steps)
        elif on_loaded:
            on_loaded(len(idx))
        results.update(got)
    return results


def clear_parts(out_dir: Path) -> None:
    """Remove the parts once the corpus folder is complete."""
    folder = parts_folder(out_dir)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def file_sizes(paths: list[str]) -> list[int]:
    return [os.path.getsize(p) for p in paths]
