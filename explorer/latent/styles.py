"""Styles: each collection's centroid and Gaussian in latent space, moves between them, and a classifier.

The classifier is linear discriminant analysis with equal priors (a shared, shrunk covariance and one
mean per collection): closed-form, deterministic, and not swamped by Essen's majority of windows. Its
discriminant axes also serve as the corpus map's projection (see explorer/latent/mapping.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae.constants import FIRST_NOTE_ON

# How far past the target centroid a style move goes (in the discriminant subspace, from the average of all
# styles): 0.5 beat 0 and 1 on decoded-and-re-encoded recognition (explorer report, "move to style").
EMPHASIS = 0.5


def class_stats(x: np.ndarray, labels: np.ndarray, num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass over x [N, D] with integer labels in [0, num) (others ignored) -> (counts [num],
    means [num, D], covariances [num, D, D]); a class with fewer than 2 rows gets a zero covariance."""
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[1]
    counts = np.zeros(num, np.int64)
    means = np.zeros((num, d))
    covs = np.zeros((num, d, d))
    for c in range(num):
        xc = x[labels == c]
        counts[c] = len(xc)
        if len(xc):
            means[c] = xc.mean(axis=0)
        if len(xc) >= 2:
            xc = xc - means[c]
            covs[c] = xc.T @ xc / (len(xc) - 1)
    return counts, means, covs


def pooled_covariance(counts: np.ndarray, covs: np.ndarray, shrink: float = 0.05) -> np.ndarray:
    """Average of the class covariances [S, D, D] with >= 2 rows (each class weighs the same), shrunk
    toward a scaled identity by `shrink` so collapsed latent dimensions do not make it singular -> [D, D]."""
    used = counts >= 2
    d = covs.shape[-1]
    cov = covs[used].mean(axis=0) if used.any() else np.eye(d)
    scale = np.trace(cov) / d if np.trace(cov) > 0 else 1.0
    return (1 - shrink) * cov + shrink * scale * np.eye(d)


def discriminant_axes(means: np.ndarray, pooled: np.ndarray, k: int = 2) -> np.ndarray:
    """Top-k linear discriminant axes [k, D] (unit rows) from class means [S, D] and the pooled covariance.

    Maximises between-class spread (equal class weights) over within-class spread; at most S - 1 axes
    carry information, and k may not exceed that.
    """
    if len(means) - 1 < k:
        raise ValueError(f"{len(means)} styles give at most {len(means) - 1} discriminant axes, not {k}")
    sb = np.cov(np.asarray(means, np.float64).T, bias=True)
    # Whiten by the pooled covariance; the eigenvectors of the whitened between-class scatter are the axes.
    evals, evecs = np.linalg.eigh(np.asarray(pooled, np.float64))
    w = evecs / np.sqrt(np.maximum(evals, 1e-12))
    vals, vecs = np.linalg.eigh(w.T @ sb @ w)
    axes = (w @ vecs[:, np.argsort(vals)[::-1][:k]]).T
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    flip = np.sign(axes[np.arange(k), np.abs(axes).argmax(axis=1)])
    return axes * flip[:, None]


def fisher_axes(x: np.ndarray, labels: np.ndarray, num: int, k: int = 2) -> np.ndarray:
    """Top-k linear discriminant axes of x [N, D] for integer labels in [0, num) -> [k, D] (unit rows)."""
    counts, means, covs = class_stats(x, labels, num)
    present = counts >= 2
    return discriminant_axes(means[present], pooled_covariance(counts, covs), k)


@dataclass(frozen=True)
class StyleModel:
    """names [S]; centroids [S, Z] (mean training mu); chol [S, Z, Z] (each style's Gaussian); LDA weights."""

    names: list[str]
    centroids: np.ndarray
    chol: np.ndarray
    weights: np.ndarray  # [S, Z] linear discriminant weights
    bias: np.ndarray  # [S]
    counts: np.ndarray  # [S] training windows per style
    pooled: np.ndarray  # [Z, Z] shrunk within-style covariance

    @classmethod
    def fit(cls, mu_train: np.ndarray, labels: np.ndarray, names: list[str]) -> StyleModel:
        """Styles from training mu [N, Z] and a style index per window [N] into `names` (-1: none).

        Styles with fewer than 2 training windows are dropped.
        """
        counts, means, covs = class_stats(mu_train, np.asarray(labels), len(names))
        keep = np.nonzero(counts >= 2)[0]
        if not len(keep):
            raise ValueError("no style has at least 2 training windows")
        dim = means.shape[1]
        chol = np.stack([np.linalg.cholesky(covs[c] + 1e-5 * np.eye(dim)) for c in keep])
        pooled = pooled_covariance(counts[keep], covs[keep])
        cents = means[keep]
        weights = cents @ np.linalg.inv(pooled)
        bias = -0.5 * np.einsum("sd,sd->s", weights, cents)
        return cls([names[c] for c in keep], cents.astype(np.float32), chol.astype(np.float32),
                   weights.astype(np.float32), bias.astype(np.float32), counts[keep], pooled.astype(np.float32))

    def axes(self, k: int = 2) -> np.ndarray:
        """The top-k discriminant axes [k, Z] of the styles (LDA), e.g. for a map that separates them."""
        return discriminant_axes(self.centroids, self.pooled, k)

    def index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"unknown style {name!r}; choose from {', '.join(self.names)}")
        return self.names.index(name)

    def nearest(self, z: np.ndarray) -> np.ndarray:
        """Index of the nearest centroid (Euclidean) for z [Z] -> int, or [B, Z] -> [B]."""
        z = np.asarray(z, dtype=np.float32)
        d = ((z[..., None, :] - self.centroids) ** 2).sum(-1)
        return d.argmin(-1)

    def move(self, z: np.ndarray, to_style: str, amount: float = 1.0, from_style: str | None = None) -> np.ndarray:
        """z [Z] or [B, Z] + amount * (centroid[to] - centroid[from]); from = nearest centroid when None.

        amount 0 keeps z, 1 moves it by the whole centroid difference (a melody at the `from` centroid
        lands on the `to` centroid); amounts outside [0, 1] are clipped.
        """
        z = np.asarray(z, dtype=np.float32)
        amount = float(np.clip(amount, 0.0, 1.0))
        src = self.nearest(z) if from_style is None else self.index(from_style)
        return (z + amount * (self.centroids[self.index(to_style)] - self.centroids[src])).astype(np.float32)

    def discriminant_projector(self) -> np.ndarray:
        """P [Z, Z]: the oblique projection onto the span of the styles' discriminant directions (in the pooled
        covariance's geometry), so z - P z keeps everything the styles share and P z is what tells them apart."""
        evals, evecs = np.linalg.eigh(self.pooled.astype(np.float64))
        root = evecs * np.sqrt(np.maximum(evals, 1e-12))
        inv_root = evecs / np.sqrt(np.maximum(evals, 1e-12))
        white = (self.centroids.astype(np.float64) - self.centroids.mean(axis=0)) @ inv_root  # [S, Z] whitened means
        u, sv, _ = np.linalg.svd(white.T, full_matrices=False)
        u = u[:, sv > 1e-9 * max(sv.max(), 1e-12)]  # at most S - 1 directions
        return root @ u @ u.T @ inv_root.T

    def move_subspace(self, z: np.ndarray, to_style: str, amount: float = 1.0,
                      emphasis: float = EMPHASIS) -> np.ndarray:
        """z moved inside the styles' discriminant subspace only: amount 1 gives it the target centroid's
        discriminant coordinates (however typical of its own style it was), pushed `emphasis` times further
        from the average of all styles; the rest of z is kept."""
        z = np.asarray(z, dtype=np.float64)
        amount = float(np.clip(amount, 0.0, 1.0))
        p = self.discriminant_projector()
        cents = self.centroids.astype(np.float64)
        target = cents[self.index(to_style)]
        target = target + emphasis * (target - cents.mean(axis=0))
        delta = (target - z) @ p.T
        return (z + amount * delta).astype(np.float32)

    def scores(self, z: np.ndarray) -> np.ndarray:
        """Linear discriminant scores [B, S] (or [S]) for z; higher means more like that style."""
        return np.asarray(z, dtype=np.float32) @ self.weights.T + self.bias

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Most likely style index for z [Z] -> int, or [B, Z] -> [B] (equal priors)."""
        return self.scores(z).argmax(-1)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Style probabilities under the LDA model with equal priors: [S] or [B, S]."""
        s = self.scores(z).astype(np.float64)
        e = np.exp(s - s.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True)).astype(np.float32)

    def sample_z(self, name: str, n: int, seed: int = 0) -> np.ndarray:
        """n latent vectors [n, Z] from the full-covariance Gaussian fitted to that style's training mu."""
        c = self.index(name)
        eps = np.random.default_rng(seed).standard_normal((n, self.centroids.shape[1])).astype(np.float32)
        return (self.centroids[c] + eps @ self.chol[c].T).astype(np.float32)


# Emphases a steered style move tries (StyleModel.move_subspace): the least one whose decoded melody is
# recognised as the target is kept, so a melody moves no further than it needs to.
STEER_EMPHASES = (0.0, 0.5, 1.0, 1.5, 2.5, 4.0, 6.0)
CENTROID_AMOUNTS = (1.0, 1.5, 2.0)  # centroid moves tried after the subspace moves
# (10 candidates since step 49452, whose Bach soprano moves arrived less often with the 8 before; see the
# style table of `python -m explorer report`.)


def steer_style(model, styles: StyleModel, z: np.ndarray, to_style: str, amount: float = 1.0,
                emphases: tuple[float, ...] = STEER_EMPHASES, detail: np.ndarray | None = None) -> np.ndarray:
    """A style move that arrives: z [Z] or [B, Z] moved `amount` of the way to the first candidate whose
    decoding, re-encoded, the style classifier recognises as `to_style` (else the most probable). Candidates,
    in order: the subspace moves by increasing emphasis (they keep the rest of z), then the whole-z centroid
    moves (CENTROID_AMOUNTS), which reach some targets the subspace cannot (O'Neill from Ryan's).

    Decodes len(emphases) + len(CENTROID_AMOUNTS) candidates per melody (one batch). Amounts in (0, 1) go part of the way along the
    same line, so a small amount changes the melody a little. `model` needs decode and encode (TrainedModel).
    detail: one melody's per-bar detail [U, C] (vae.fidelity), decoded with every candidate; None for none.
    """
    z = np.asarray(z, dtype=np.float32)
    single = z.ndim == 1
    z2 = np.atleast_2d(z)
    amount = float(np.clip(amount, 0.0, 1.0))
    t = styles.index(to_style)
    b, e = len(z2), len(emphases) + len(CENTROID_AMOUNTS)
    subspace = [styles.move_subspace(z2, to_style, 1.0, em) for em in emphases]
    # and the whole-z centroid moves, which sometimes arrive where the subspace moves do not (O'Neill vs Ryan)
    centroid = [styles.move(z2, to_style, 1.0) + (a - 1.0) * (styles.move(z2, to_style, 1.0) - z2)
                for a in CENTROID_AMOUNTS]
    cands = np.stack(subspace + centroid, axis=1)  # [B, E, Z]
    flat = cands.reshape(b * e, -1)
    decoded = model.decode(np.concatenate([flat, z2])) if detail is None else model.decode(
        np.concatenate([flat, z2]), detail=detail)
    tokens, start = decoded[: b * e], decoded[b * e:]
    again = model.encode(tokens)[0]
    prob = styles.probabilities(again)[:, t].reshape(b, e)
    # a move must leave a melody: "toward Bach" once turned a tune into two 2-bar C5s (and the classifier
    # still said Bach); candidates that keep too little are taken only when none keeps enough
    musical = keeps_a_melody(tokens, start).reshape(b, e)
    ok = (styles.predict(again) == t).reshape(b, e) & musical
    prob = np.where(musical, prob, prob - 2.0)
    pick = np.where(ok.any(axis=1), ok.argmax(axis=1), prob.argmax(axis=1))
    end = cands[np.arange(b), pick]
    out = (z2 + amount * (end - z2)).astype(np.float32)
    return out[0] if single else out


MIN_NOTES_KEPT = 0.4  # a style move keeps at least this share of the melody's notes (and MIN_NOTES)
MIN_NOTES, MIN_PITCHES = 4, 3


def keeps_a_melody(tokens: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per candidate [B*E, T] of each of B melodies [B, T] (candidates grouped per melody): whether it still is a
    melody: at least MIN_NOTES notes and MIN_NOTES_KEPT of the starting melody's, and MIN_PITCHES pitches."""
    tokens, start = np.atleast_2d(tokens), np.atleast_2d(start)
    per = len(tokens) // max(len(start), 1)
    onsets = (tokens >= FIRST_NOTE_ON).sum(1)
    before = np.repeat((start >= FIRST_NOTE_ON).sum(1), per)
    pitches = np.array([len(np.unique(row[row >= FIRST_NOTE_ON])) for row in tokens])
    return (onsets >= np.maximum(MIN_NOTES, np.ceil(MIN_NOTES_KEPT * before))) & (pitches >= MIN_PITCHES)


def onset_f1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rhythm kept: F1 of onset steps (whatever the pitch) of token windows b [B, T] against a [B, T] -> [B]."""
    oa, ob = np.asarray(a) >= FIRST_NOTE_ON, np.asarray(b) >= FIRST_NOTE_ON
    both = (oa & ob).sum(axis=1)
    total = oa.sum(axis=1) + ob.sum(axis=1)
    return np.where(total > 0, 2 * both / np.maximum(total, 1), 1.0)


def balanced_accuracy(pred: np.ndarray, labels: np.ndarray, num: int) -> float:
    """Mean over classes present in labels of the share predicted right."""
    accs = [float((pred[labels == c] == c).mean()) for c in range(num) if (labels == c).any()]
    return float(np.mean(accs)) if accs else float("nan")


def measure_style_moves(model, styles: StyleModel, mu: np.ndarray, labels: np.ndarray, n: int = 200,
                        amount: float = 1.0, seed: int = 0) -> dict[str, dict]:
    """For each target style: share of melodies from other styles recognised as the target, before and after a move.

    Takes n windows' mu [N, Z] (with style index [N]) not of the target style, decodes them as they are
    (before), moved from their own style's centroid to the target's by `amount` (after), moved inside
    the discriminant subspace (after_subspace, StyleModel.move_subspace) and by the steered move the app
    makes (after_steered, steer_style), re-encodes all, and classifies the new mu. steered_rhythm_kept: mean
    onset F1 (onset steps, any pitch) of the steered melody against the unmoved one. `model` needs decode(z) -> tokens and encode(tokens) -> (mu, sigma).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for t, name in enumerate(styles.names):
        pool = np.nonzero(labels != t)[0]
        if not len(pool):
            continue
        rows = rng.choice(pool, size=min(n, len(pool)), replace=False)
        z0 = np.asarray(mu[rows], dtype=np.float32)
        src = labels[rows]
        moved = z0 + amount * (styles.centroids[t] - styles.centroids[src])
        sub = styles.move_subspace(z0, name, amount)
        steered = steer_style(model, styles, z0, name, amount)
        z = np.concatenate([z0, moved, sub, steered])
        decoded = model.decode(z)
        again = model.encode(decoded)[0]
        pred = styles.predict(again)
        m = len(z0)
        rhythm = onset_f1(decoded[:m], decoded[3 * m :])
        out[name] = {"before": float((pred[:m] == t).mean()), "after": float((pred[m : 2 * m] == t).mean()),
                     "after_subspace": float((pred[2 * m : 3 * m] == t).mean()),
                     "after_steered": float((pred[3 * m :] == t).mean()),
                     "steered_rhythm_kept": float(rhythm.mean()),
                     "moved_latent": float((styles.predict(moved) == t).mean()),
                     "moved_latent_subspace": float((styles.predict(sub) == t).mean()), "n": m}
    return out
