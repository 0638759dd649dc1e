"""Slider controls over the latent space: how a melody's slider values are read from z and how setting them
moves z (the measurement that names them is in vae.sweep).

A control set is K directions with a linear read-out: a melody's slider values are
s = (z - mean) @ readout.T, and setting them moves z along `basis`: z' = z + (s_new - s) @ basis.
readout @ basis.T is the identity, so moving one slider leaves every other slider's value unchanged.

Two kinds of slider:
- attribute sliders: for each regularised attribute a, a linear read-out W of the attribute, fitted to the
  decoder's measured response to z (`response`; or to the encoder's mu), and the move that changes that
  read-out by one corpus standard deviation while holding the other attributes' read-outs fixed,
  smallest in the metric of mu's own covariance Σ (Σ W (W^T Σ W)^-1), so it follows the way melodies vary
  rather than a direction the decoder never saw;
- free sliders: the leading principal directions of mu in the part of the latent space that the
  attribute read-outs do not see, in standard deviations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.attributes import compute_attributes

NUM_SLIDERS = 16

CONTROLS_FILE = "controls.json"  # a checkpoint's fitted sliders and their measured sweep

# attribute -> (what a musician calls it, word at the slider's left end, word at its right end)
WORDS: dict[str, tuple[str, str, str]] = {
    "minorness": ("Mood", "major", "minor"),
    "mean_pitch": ("Register", "lower", "higher"),
    "pitch_range": ("Range", "narrow", "wide"),
    "note_density": ("Notes", "fewer", "more"),
    "rhythmic_complexity": ("Rhythm", "even", "varied"),
    "syncopation": ("Syncopation", "straight", "syncopated"),
    "stepwise": ("Motion", "leaps", "steps"),
    "rest_share": ("Rests", "fewer", "more"),
    "contour": ("Contour", "falling", "rising"),
}


def slider_words(attribute: str) -> str:
    """'Mood: major ← → minor' for an attribute."""
    name, low, high = WORDS[attribute]
    return f"{name}: {low} ← → {high}"


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
class Controls:
    """K sliders: mean [Z], basis [K, Z] (z move per slider unit), readout [K, Z], and per slider the attribute
    it was fitted for (None for a free direction), its share of mu's variance and its unit: how many of
    the attribute's corpus SDs one slider unit asks for (1 for free sliders)."""

    mean: np.ndarray
    basis: np.ndarray
    readout: np.ndarray
    attributes: tuple[str | None, ...]
    variance_share: np.ndarray
    units: np.ndarray | None = None

    def unit(self, i: int) -> float:
        return 1.0 if self.units is None else float(self.units[i])

    @property
    def k(self) -> int:
        return len(self.basis)

    def coords(self, z: np.ndarray) -> np.ndarray:
        """Slider values of z [Z] or [B, Z] -> [K] or [B, K]."""
        z = np.asarray(z, dtype=np.float64)
        return ((z - self.mean) @ self.readout.T.astype(np.float64)).astype(np.float32)

    def with_coords(self, z: np.ndarray, values: np.ndarray) -> np.ndarray:
        """z [Z] (or [B, Z]) with its slider values set to `values` [K] (or [B, K]); the rest of z unchanged."""
        z64 = np.asarray(z, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        if values.shape[-1] != self.k:
            raise ValueError(f"expected {self.k} slider values, got {values.shape[-1]}")
        delta = values - self.coords(z64).astype(np.float64)
        return (z64 + delta @ self.basis.astype(np.float64)).astype(np.float32)

    def to_json(self) -> dict:
        return {"mean": self.mean.tolist(), "basis": self.basis.tolist(), "readout": self.readout.tolist(),
                "attributes": list(self.attributes), "variance_share": self.variance_share.tolist(),
                "units": None if self.units is None else self.units.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> Controls:
        return cls(np.asarray(d["mean"], np.float32), np.asarray(d["basis"], np.float32),
                   np.asarray(d["readout"], np.float32), tuple(d["attributes"]),
                   np.asarray(d["variance_share"], np.float32),
                   None if d.get("units") is None else np.asarray(d["units"], np.float32))


def _standardised(attrs: dict[str, np.ndarray], names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[N, A] attributes as z-scores with NaN replaced by 0 (the mean), plus their means and stds."""
    a = np.stack([np.asarray(attrs[n], np.float64) for n in names], axis=1)
    mean, std = np.nanmean(a, axis=0), np.nanstd(a, axis=0)
    std = np.where(std > 0, std, 1.0)
    return np.nan_to_num((a - mean) / std), mean, std


MIN_RESPONSE_R2 = 0.02  # below this share of explained variance the decoder is taken not to respond

MAX_MOVE_SD = 3.0  # a slider unit may move z at most this far, in mu's own standard deviations (Mahalanobis)


def response(decode, mu: np.ndarray, names: list[str], attr_std: dict[str, float], pairs: int = 15000,
             scale: float = 0.5, seed: int = 0) -> np.ndarray:
    """How the decoder's output attributes respond to z, linearly: W [Z, A] with Δa / std ≈ Δz @ W.

    Each of `pairs` training mu gets a random nudge shaped like mu's own spread (scale × Σ^1/2); both are
    decoded (greedy) and the change of every attribute is regressed on the nudge. Unlike a read-out of the
    encoder, this measures what the decoder does when z moves, which is what a slider must control.
    """
    mu = np.asarray(mu, np.float64)
    rng = np.random.default_rng(seed)
    base = mu[rng.choice(len(mu), size=pairs, replace=len(mu) < pairs)]
    vals, vecs = np.linalg.eigh(np.cov(mu.T))
    root = vecs * np.sqrt(np.maximum(vals, 0.0))  # Σ^1/2 (any square root will do)
    eps = scale * rng.standard_normal(base.shape) @ root.T
    a0 = compute_attributes(decode(base.astype(np.float32)))
    a1 = compute_attributes(decode((base + eps).astype(np.float32)))
    w = np.zeros((mu.shape[1], len(names)))
    for j, name in enumerate(names):
        d = (np.asarray(a1[name], np.float64) - a0[name]) / max(attr_std[name], 1e-9)
        ok = np.isfinite(d)
        if ok.sum() > 2 * mu.shape[1] and d[ok].var() > 0:
            fit = np.linalg.lstsq(eps[ok], d[ok], rcond=None)[0]
            explained = 1.0 - np.var(d[ok] - eps[ok] @ fit) / d[ok].var()
            if explained >= MIN_RESPONSE_R2:  # else the column stays 0: the caller falls back to the encoder
                w[:, j] = fit
    return w


def fit_controls(mu: np.ndarray, attrs: dict[str, np.ndarray], names: tuple[str, ...] | list[str],
                 k: int = NUM_SLIDERS, mode: str = "response", decode=None, seed: int = 0,
                 pairs: int = 15000) -> Controls:
    """Sliders from training mu [N, Z] and attributes (name -> [N]): attribute sliders for `names`, then free ones.

    mode "response" (needs `decode`, z [B, Z] -> tokens): read-outs from the decoder's measured response
    (`response`), moves that hold the other read-outs fixed; mode "decorrelated": the same with read-outs
    fitted to the encoder's mu by least squares (module doc); mode "axis": slider i is latent dim i in
    standard deviations (what AR-VAE's regulariser shapes).
    """
    mu = np.asarray(mu, np.float64)
    n, zdim = mu.shape
    names = [a for a in names if a in attrs][: min(k, zdim)]
    mean = mu.mean(axis=0)
    xc = mu - mean
    total = float(max(np.trace(xc.T @ xc / max(n - 1, 1)), 1e-12))
    cov = xc.T @ xc / max(n - 1, 1)
    if names and mode in ("decorrelated", "response"):
        if mode == "response":
            if decode is None:
                raise ValueError("mode 'response' needs a decode function")
            w = response(decode, mu, names, corpus_std(attrs), pairs=pairs, seed=seed)
        a, _, _ = _standardised(attrs, names)
        w_enc, *_ = np.linalg.lstsq(xc, a, rcond=None)  # [Z, A]: a ≈ xc @ w
        if mode == "response":  # an attribute the decoder does not measurably follow keeps the encoder's read-out
            dead = ~np.any(w != 0, axis=0)
            w[:, dead] = w_enc[:, dead]
        else:
            w = w_enc
        readout = w.T
        # The move for attribute k is the smallest in the data's own metric (Mahalanobis), so it goes the way
        # melodies actually vary: D = Σ W (W^T Σ W)^-1, rows of `basis`. Then readout @ basis.T = I, and an
        # attribute the latent cannot read at all gets no move.
        sw = cov @ w
        basis = (sw @ np.linalg.pinv(w.T @ sw, rcond=1e-9)).T
        # A read-out the latent barely carries asks for enormous moves: cap a slider unit's move, so the
        # slider spans what z can reach (its unit is then larger than one SD of the attribute).
        prec = np.linalg.pinv(cov, rcond=1e-9)
        size = np.sqrt(np.maximum(np.einsum("kz,zy,ky->k", basis, prec, basis), 0.0))
        shrink = np.where(size > MAX_MOVE_SD, MAX_MOVE_SD / np.maximum(size, 1e-12), 1.0)
        basis, readout = basis * shrink[:, None], readout / shrink[:, None]
        # One slider unit asks for one corpus SD of the attribute (less where the cap shrank the move). A
        # trial that rescaled units to the read-outs' own spread made smaller moves and fewer named sliders.
        units = shrink
    elif names and mode == "axis":
        std = xc[:, : len(names)].std(axis=0)
        std = np.where(std > 0, std, 1e-6)
        readout = np.eye(len(names), zdim) / std[:, None]
        basis = np.eye(len(names), zdim) * std[:, None]
        units = np.ones(len(names))
    elif names:
        raise ValueError(f"unknown control mode {mode!r}; use 'response', 'decorrelated' or 'axis'")
    else:
        readout = basis = np.zeros((0, zdim))
        units = np.zeros(0)
    attr_var = np.array([np.var(xc @ b / max(np.linalg.norm(b), 1e-12)) for b in basis]) if len(basis) else np.zeros(0)
    # Free sliders: PCA of mu with the attribute read-outs' span removed, so they never move a read-out.
    if len(readout):
        u, sv, _ = np.linalg.svd(readout.T, full_matrices=False)
        q = u[:, sv > 1e-6 * max(sv.max(), 1e-12)]  # orthonormal basis of the read-outs' span
        rest = xc - (xc @ q) @ q.T
    else:
        rest = xc
    free = min(k - len(names), zdim - len(names))
    _, comps, var, _ = fit_pca(rest, free)
    pstd = np.sqrt(np.maximum(var, 1e-12))
    free_basis = comps * pstd[:, None]
    # Free read-outs dual to all the moves, so moving an attribute slider leaves every free slider's value as it is.
    full = np.concatenate([basis, free_basis])
    dual = np.linalg.pinv(full.T)  # [K, Z]: dual @ full.T = I
    readout = np.concatenate([readout, dual[len(basis):]])
    basis = full
    share = np.concatenate([attr_var, var]) / total
    return Controls(mean.astype(np.float32), basis.astype(np.float32), readout.astype(np.float32),
                    tuple(names) + (None,) * free, share.astype(np.float32),
                    np.concatenate([units, np.ones(free)]).astype(np.float32))


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks of a 1-D array (0-based), ties given their average rank."""
    x = np.asarray(x)
    r = np.empty(len(x), np.float64)
    r[np.argsort(x, kind="stable")] = np.arange(len(x), dtype=np.float64)
    _, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(inv, weights=r) / cnt)[inv]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two 1-D arrays; 0 when either is constant."""
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.linalg.norm(rx) * np.linalg.norm(ry)
    return float(rx @ ry / den) if den > 0 else 0.0


def corpus_std(attrs: dict[str, np.ndarray]) -> dict[str, float]:
    """Standard deviation of each attribute over windows (NaN left out)."""
    return {a: float(np.nanstd(v)) for a, v in attrs.items()}


def save_controls(path: Path | str, controls: Controls, table: list[dict], extra: dict | None = None) -> Path:
    """Write controls and their sweep as JSON (atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"controls": controls.to_json(), "sweep": table, **(extra or {})}))
    tmp.replace(path)
    return path


def load_controls(path: Path | str) -> tuple[Controls, list[dict], dict] | None:
    """(controls, sweep, the rest of the file) from save_controls' JSON, or None when missing or unreadable."""
    try:
        d = json.loads(Path(path).read_text())
        return Controls.from_json(d["controls"]), list(d["sweep"]), d
    except (OSError, ValueError, KeyError, TypeError):
        return None
