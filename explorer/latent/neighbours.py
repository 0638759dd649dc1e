"""k nearest corpus windows to any z (Euclidean distance on mu): exact in numpy for a corpus up to EXACT_MAX
windows, FAISS's inverted-file index beyond (a million-melody collection), chosen by `neighbour_index`.

Measured on this 2-core CPU, one query at a time (`make bench`, section scale): exact search costs ~1.2 ms at
88k windows and ~25 ms at 1M, growing linearly; the IVF index answers a 1M query in ~1 ms with recall@10
~0.98 against exact search on latents drawn like the corpus's (its posterior around real melodies).
"""

from __future__ import annotations

import numpy as np

EXACT_MAX = 300_000  # rows searched exactly: about 10 ms a query here (linear in rows), the neighbours target
IVF_LISTS_MAX = 4096  # inverted lists: 4 sqrt(N), at most this (a 10M build stays minutes on 2 cores)
IVF_NPROBE = 128  # lists searched per query: recall@10 0.978 at 1M (64: 0.960, 256: 0.992, measured) ...
IVF_SCAN_MAX = 150_000  # ... but no more than about this many rows scanned a query (10M rows, 128 lists: 10.7 ms)
IVF_TRAIN_MAX = 200_000  # rows the coarse quantizer is trained on


class NeighbourIndex:
    """Brute-force k-NN over latents [N, Z]: ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2, one matrix-vector product.

    At 90k x 64 a query is one 23 MB pass over memory (a few ms); argpartition then finds the k smallest
    without sorting all N. `groups` [N] (e.g. the tune of each window) lets a query leave out its own group.
    """

    def __init__(self, latents: np.ndarray, groups: np.ndarray | None = None):
        self.latents = np.ascontiguousarray(latents, dtype=np.float32)
        self.sq_norms = np.einsum("nd,nd->n", self.latents, self.latents)
        self.groups = None if groups is None else np.asarray(groups)

    def __len__(self) -> int:
        return len(self.latents)

    def query(self, z: np.ndarray, k: int = 10, exclude_group: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest rows to z [Z] -> (indices [k] int64, distances [k] float32), nearest first.

        z [B, Z] gives [B, k] arrays. `exclude_group` drops every row of that group (needs `groups`).
        """
        z = np.asarray(z, dtype=np.float32)
        single = z.ndim == 1
        zb = np.atleast_2d(z)
        # einsum runs in this thread; a BLAS product would wake a thread pool that, on a busy 2-core
        # machine, made a 90k query 3-4x slower. Big batches are worth BLAS.
        dots = zb @ self.latents.T if len(zb) >= 32 else np.einsum("nd,bd->bn", self.latents, zb)
        d2 = dots
        d2 *= -2.0
        d2 += self.sq_norms  # ||z||^2 is the same for every row: added to the k winners only
        if exclude_group is not None:
            if self.groups is None:
                raise ValueError("this index has no groups to exclude")
            d2[:, self.groups == exclude_group] = np.inf
        k = max(1, min(k, len(self)))
        if k < len(self):
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(len(self)), (len(zb), len(self))).copy()
        part_d = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(part_d, axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
        sq = np.take_along_axis(part_d, order, axis=1) + np.einsum("bd,bd->b", zb, zb)[:, None]
        dist = np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)
        return (idx[0], dist[0]) if single else (idx, dist)


class ApproxIndex:
    """FAISS IVF-Flat k-NN over latents [N, Z], with NeighbourIndex's query interface (indices and Euclidean
    distances, nearest first; `exclude_group` drops a group's rows by asking for more and filtering)."""

    def __init__(self, latents: np.ndarray, groups: np.ndarray | None = None, nprobe: int = IVF_NPROBE,
                 seed: int = 0, threads: int | None = None):
        import faiss

        if threads:
            faiss.omp_set_num_threads(int(threads))
        x = np.ascontiguousarray(latents, dtype=np.float32)
        self.n, dim = x.shape
        lists = int(np.clip(4 * np.sqrt(self.n), 16, IVF_LISTS_MAX))
        self.index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, lists)
        rng = np.random.default_rng(seed)
        sample = x if self.n <= IVF_TRAIN_MAX else x[np.sort(rng.choice(self.n, IVF_TRAIN_MAX, replace=False))]
        self.index.train(sample)
        self.index.add(x)
        # a bigger collection has fuller lists: probe fewer, so a query scans about the same number of rows
        self.index.nprobe = int(max(1, min(nprobe, lists, max(16, IVF_SCAN_MAX * lists // max(self.n, 1)))))
        self.groups = None if groups is None else np.asarray(groups)
        self.max_group = int(np.bincount(self.groups - self.groups.min()).max()) if self.groups is not None and len(
            self.groups) else 0

    def __len__(self) -> int:
        return self.n

    def query(self, z: np.ndarray, k: int = 10, exclude_group: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        z = np.asarray(z, dtype=np.float32)
        single = z.ndim == 1
        zb = np.ascontiguousarray(np.atleast_2d(z))
        k = max(1, min(k, self.n))
        if exclude_group is not None and self.groups is None:
            raise ValueError("this index has no groups to exclude")
        ask = min(self.n, k + (self.max_group if exclude_group is not None else 0))
        d2, idx = self.index.search(zb, ask)
        rows_i, rows_d = [], []
        for di, ii in zip(d2, idx, strict=True):
            keep = ii >= 0
            if exclude_group is not None:
                keep &= self.groups[np.maximum(ii, 0)] != exclude_group
            ii, di = ii[keep][:k], di[keep][:k]
            pad = k - len(ii)  # fewer found than asked (tiny probes): pad with the last, as exact search never does
            rows_i.append(np.concatenate([ii, np.full(pad, ii[-1] if len(ii) else 0)]).astype(np.int64))
            rows_d.append(np.concatenate([di, np.full(pad, di[-1] if len(di) else np.inf)]))
        idx_out = np.stack(rows_i)
        dist = np.sqrt(np.maximum(np.stack(rows_d), 0.0)).astype(np.float32)
        return (idx_out[0], dist[0]) if single else (idx_out, dist)


def neighbour_index(latents: np.ndarray, groups: np.ndarray | None = None, exact_max: int = EXACT_MAX):
    """The k-NN index for these latents: exact up to `exact_max` rows, FAISS IVF beyond (exact again when faiss
    is not installed)."""
    if len(latents) <= exact_max:
        return NeighbourIndex(latents, groups)
    try:
        import faiss  # noqa: F401
    except ImportError:
        return NeighbourIndex(latents, groups)
    return ApproxIndex(latents, groups)


def synthetic_latents(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """n standard-normal latents [n, dim] float32, for benchmarks of k-NN growth (10k, 100k, 1M)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), np.float32)
    for i in range(0, n, 262144):  # in slabs, so a 1M set never needs a float64 copy
        out[i : i + 262144] = rng.standard_normal((min(262144, n - i), dim), dtype=np.float32)
    return out
