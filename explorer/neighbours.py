"""Exact k nearest corpus windows to any z: Euclidean distance on mu, float32 numpy, precomputed norms."""

from __future__ import annotations

import numpy as np


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


def synthetic_latents(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """n standard-normal latents [n, dim] float32, for benchmarks of k-NN growth (10k, 100k, 1M)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), np.float32)
    for i in range(0, n, 262144):  # in slabs, so a 1M set never needs a float64 copy
        out[i : i + 262144] = rng.standard_normal((min(262144, n - i), dim), dtype=np.float32)
    return out
