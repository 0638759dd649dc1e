"""The slider axes: principal directions of the training windows' mu, in standard deviations, with names.

A melody's slider values are its coordinates along the first K principal components of mu, divided by
each component's standard deviation. Moving sliders changes only those K coordinates:
z' = z + C^T ((s_new - s_old) * std), with C the orthonormal components [K, Z], so the part of z
orthogonal to the sliders (what they cannot show) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from explorer.attributes import ATTRIBUTES, attribute_matrix, nan_pearson

NUM_DIRECTIONS = 16


def fit_pca(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """PCA of rows x [N, D] -> (mean [D], components [k, D] orthonormal, variances [k], total variance).

    Signs are fixed so each component's largest loading is positive, which makes the result deterministic.
    """
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / max(len(x) - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:k]
    comps = vecs[:, order].T
    flip = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps *= np.where(flip == 0, 1.0, flip)[:, None]
    return mean, comps, np.maximum(vals[order], 0.0), float(max(np.trace(cov), 1e-12))


@dataclass(frozen=True)
class Directions:
    """K principal directions of mu: mean [Z], components [K, Z] (orthonormal rows), std [K], variance_share [K]."""

    mean: np.ndarray
    components: np.ndarray
    std: np.ndarray
    variance_share: np.ndarray

    @classmethod
    def fit(cls, mu_train: np.ndarray, k: int = NUM_DIRECTIONS) -> Directions:
        """PCA of training mu [N, Z]; uses min(k, Z) directions when the latent space is smaller than k."""
        k = min(k, mu_train.shape[1])
        mean, comps, var, total = fit_pca(mu_train, k)
        # A collapsed latent direction has ~0 spread; the floor keeps slider units finite.
        std = np.sqrt(np.maximum(var, 1e-12))
        return cls(mean.astype(np.float32), comps.astype(np.float32), std.astype(np.float32),
                   (var / total).astype(np.float32))

    @property
    def k(self) -> int:
        return len(self.components)

    def coords(self, z: np.ndarray) -> np.ndarray:
        """Slider values of z [Z] or [B, Z] -> [K] or [B, K], in standard deviations along each direction."""
        z = np.asarray(z, dtype=np.float64)
        return ((z - self.mean) @ self.components.T.astype(np.float64) / self.std).astype(np.float32)

    def with_coords(self, z: np.ndarray, values: np.ndarray) -> np.ndarray:
        """z [Z] (or [B, Z]) with its slider values set to `values` [K] (or [B, K]); the rest of z unchanged."""
        z64 = np.asarray(z, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        if values.shape[-1] != self.k:
            raise ValueError(f"expected {self.k} slider values, got {values.shape[-1]}")
        delta = (values - self.coords(z64).astype(np.float64)) * self.std
        return (z64 + delta @ self.components.astype(np.float64)).astype(np.float32)

    def oriented(self, signs: np.ndarray) -> Directions:
        """The same directions with some reversed (signs [K] of +1 / -1)."""
        s = np.asarray(signs, dtype=np.float32)
        return replace(self, components=self.components * s[:, None])


def name_directions(directions: Directions, mu_train: np.ndarray, attrs_train: dict[str, np.ndarray],
                    orient: bool = True) -> tuple[Directions, list[dict], np.ndarray, list[str]]:
    """Label each direction with the attribute it correlates with most (Pearson over training windows).

    Returns (directions, labels, table [K, A], attribute names). With `orient`, a direction whose best
    attribute correlates negatively is reversed, so moving every slider right raises its named attribute.
    Each label is a dict: index, label ("PC3 · note density (+0.71)"), attribute, correlation,
    variance_share, std.
    """
    names, mat = attribute_matrix(attrs_train)
    table = nan_pearson(directions.coords(mu_train), mat)
    best = np.nanargmax(np.where(np.isfinite(table), np.abs(table), -1.0), axis=1)
    r = table[np.arange(directions.k), best]
    if orient:
        signs = np.where(r < 0, -1.0, 1.0)
        directions = directions.oriented(signs)
        table = table * signs[:, None]
        r = r * signs
    labels = []
    for i in range(directions.k):
        name = names[best[i]]
        short = ATTRIBUTES[name].split(" (")[0]
        corr = float(r[i]) if np.isfinite(r[i]) else 0.0
        labels.append({"index": i, "label": f"PC{i + 1} · {short} ({corr:+.2f})", "attribute": name,
                       "correlation": corr, "variance_share": float(directions.variance_share[i]),
                       "std": float(directions.std[i])})
    return directions, labels, table.astype(np.float32), names
