"""Disk cache for derived arrays: content digests for keys, atomic uncompressed npz files (no pickle)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from vae.corpus import DEFAULT_CACHE, Corpus


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """Folder of the explorer's caches: `cache_dir`, else `.cache/index` beside the corpus cache."""
    return Path(cache_dir) if cache_dir else DEFAULT_CACHE / "index"


def file_digest(path: Path | str, chunk: int = 1 << 20) -> str:
    """SHA-1 (16 hex digits) of a file's bytes: a retrained checkpoint gets a new key even at the same path."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()[:16]


def corpus_digest(corpus: Corpus) -> str:
    """Digest of a corpus's arrays (~10 ms for 90k windows): a rebuilt corpus with equal content keeps its caches."""
    h = hashlib.sha1()
    for arr in (corpus.tokens, corpus.tune, corpus.start, corpus.split):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write arrays to `path` (.npz, uncompressed so a warm load is a plain read) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    tmp.replace(path)
    return path


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Arrays saved by save_arrays, or None when the file is missing or unreadable (then it is rebuilt)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError):
        return None
