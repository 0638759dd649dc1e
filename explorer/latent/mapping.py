"""A 2D map of the corpus: a linear projection of mu, one point per tune, that places any new z exactly.

Why linear: `place(z)` must put an uploaded or generated melody on the same map as the corpus, at once
and deterministically. t-SNE/UMAP cannot do that without refitting (and are slow on 90k points); a
linear projection is one matrix product, and a tune's point (the mean of its windows' mu) lands at the
mean of its windows' positions.

Which projection: the two candidates are PCA-2 (the largest spread of mu) and LDA-2 (the two
discriminant axes of the collections, which spread the styles apart). `fit_map(method="auto")` scores
both by how well a nearest-centroid rule recognises the collection of held-out windows from their 2D
position (balanced accuracy) and keeps the better one; the scores are kept for the report. LDA needs
at least three collections; with fewer the map is PCA.

Why per tune: ~13k points (one per tune) stay fast in a browser scatter and read as "pieces"; windows
(~90k) would need WebGL and mostly show overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.latent.styles import balanced_accuracy, fisher_axes
from vae.controls import fit_pca
from vae.corpus import TRAIN, VALID


@dataclass(frozen=True)
class CorpusMap:
    """Projection z -> (x, y) = (z - mean) @ axes.T / scale; method is 'lda' or 'pca'."""

    method: str
    mean: np.ndarray  # [Z]
    axes: np.ndarray  # [2, Z]
    scale: np.ndarray  # [2]: spread of training windows along each axis, so both axes read in the same units
    scores: dict = field(default_factory=dict)  # method -> held-out balanced nearest-centroid accuracy

    def place(self, z: np.ndarray) -> np.ndarray:
        """Map position of z [Z] -> [2] (x, y), or of z [B, Z] -> [B, 2]."""
        z = np.asarray(z, dtype=np.float64)
        return ((z - self.mean) @ self.axes.T.astype(np.float64) / self.scale).astype(np.float32)


def _projection(method: str, mu: np.ndarray, labels: np.ndarray, num: int) -> tuple[np.ndarray, np.ndarray]:
    if method == "pca":
        mean, comps, _, _ = fit_pca(mu, 2)
        return mean, comps
    return mu.mean(axis=0), fisher_axes(mu, labels, num, 2)


def separation(xy_train: np.ndarray, lab_train: np.ndarray, xy_test: np.ndarray, lab_test: np.ndarray,
               num: int) -> float:
    """Balanced accuracy of nearest-centroid classification of test points by 2D position."""
    present = [c for c in range(num) if (lab_train == c).any()]
    cents = np.stack([xy_train[lab_train == c].mean(axis=0) for c in present])
    pred = np.asarray(present)[((xy_test[:, None, :] - cents) ** 2).sum(-1).argmin(1)]
    return balanced_accuracy(pred, lab_test, num)


def fit_map(mu: np.ndarray, split: np.ndarray, labels: np.ndarray, num_styles: int, method: str = "auto",
            projections: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> CorpusMap:
    """Fit the map on training windows' mu [N, Z] (split [N], style index [N], -1 for none).

    method: 'auto' (the better separating of 'lda' and 'pca'), 'lda' or 'pca'. `projections` may hand
    in already computed (mean [Z], axes [2, Z]) per method, to save refitting them.
    """
    train = split == TRAIN
    held = split == VALID if (split == VALID).any() else train
    mu_tr, lab_tr = np.asarray(mu[train], np.float64), labels[train]
    n_styles = len(np.unique(lab_tr[lab_tr >= 0]))
    candidates = ["lda", "pca"] if method == "auto" else [method]
    if n_styles < 3:
        candidates = [c for c in candidates if c != "lda"] or ["pca"]
    projections = projections or {}
    fitted, scores = {}, {}
    for m in candidates:
        mean, axes = projections[m] if m in projections else _projection(m, mu_tr, lab_tr, num_styles)
        mean, axes = np.asarray(mean, np.float64), np.asarray(axes, np.float64)
        xy_tr = (mu_tr - mean) @ axes.T
        scale = np.maximum(xy_tr.std(axis=0), 1e-12)
        fitted[m] = CorpusMap(m, mean.astype(np.float32), axes.astype(np.float32), scale.astype(np.float32))
        xy_held = fitted[m].place(mu[held])
        scores[m] = separation(xy_tr / scale, lab_tr, xy_held, labels[held], num_styles) if n_styles > 1 else 0.0
    best = max(candidates, key=lambda m: (scores[m], m == "lda"))
    chosen = fitted[best]
    return CorpusMap(chosen.method, chosen.mean, chosen.axes, chosen.scale, scores)


def tune_means(values: np.ndarray, tune: np.ndarray, num_tunes: int) -> np.ndarray:
    """Per-tune mean of per-window rows values [N, D] or [N] (NaN-aware) -> [num_tunes, D] or [num_tunes];
    NaN for tunes without windows."""
    v = np.asarray(values)
    v2 = v if v.ndim == 2 else v[:, None]
    tune = np.asarray(tune)
    out = np.full((num_tunes, v2.shape[1]), np.nan)
    if len(v2):
        # Sum each tune's run of rows in one pass (np.add.at is ~10x slower); corpus windows come
        # grouped by tune already, so the sort is usually skipped.
        if (np.diff(tune) < 0).any():
            order = np.argsort(tune, kind="stable")
            v2, tune = v2[order], tune[order]
        uniq, starts = np.unique(tune, return_index=True)
        ok = np.isfinite(v2)
        if ok.all():
            sums = np.add.reduceat(v2, starts, axis=0, dtype=np.float64)
            cnts = np.diff(np.append(starts, len(tune)))[:, None].astype(np.float64)
        else:
            sums = np.add.reduceat(np.where(ok, v2, 0.0), starts, axis=0, dtype=np.float64)
            cnts = np.add.reduceat(ok.astype(np.float64), starts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[uniq] = sums / cnts
    return out if v.ndim == 2 else out[:, 0]
