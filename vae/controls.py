"""Slider controls over the latent space, and the sweep that decides which of them earn a musical name.

A control set is K directions with a linear read-out: a melody's slider values are
s = (z - mean) @ readout.T, and setting them moves z along `basis`: z' = z + (s_new - s) @ basis.
readout @ basis.T is the identity, so moving one slider leaves every other slider's value unchanged.

Two kinds of slider:
- attribute sliders: for each regularised attribute a, a linear read-out of the standardised attribute
  from mu (least squares over training windows), and the move that changes that read-out by one standard
  deviation while holding the other attributes' read-outs fixed, smallest in the metric of mu's own
  covariance Σ (Σ W (W^T Σ W)^-1), so it follows the way melodies vary rather than a direction the
  decoder never saw;
- free sliders: the leading principal directions of mu in the part of the latent space that the
  attribute read-outs do not see, in standard deviations.
A slider is named for an attribute only when sweeping it moves that attribute monotonically and
specifically (see `NAME_RULE` and `sweep`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vae.attributes import ATTRIBUTES, compute_attributes

NUM_SLIDERS = 16
CONTROLS_FILE = "controls.json"  # a checkpoint's fitted sliders and their measured sweep
SWEEP_VALUES = (-2.0, -1.0, 0.0, 1.0, 2.0)
NAME_RULE = {"spearman": 0.8, "specificity": 2.0}  # a slider earns an attribute's name at these figures

# attribute -> (what a musician calls it, word at the slider's left end, word at its right end)
WORDS: dict[str, tuple[str, str, str]] = {
    "minorness": ("Mood", "major", "minor"),
    "mean_pitch": ("Register", "lower", "higher"),
    "pitch_range": ("Range", "narrow", "wide"),
    "note_density": ("Notes", "fewer", "more"),
    "rhythmic_complexity": ("Rhythm", "on the beat", "off the beat"),
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


def _spearman_rows(values: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of y [M, V] with values [V]; 0 for a constant or undefined row."""
    y = np.asarray(y, np.float64)
    return np.array([spearman(values, row) if np.isfinite(row).all() else 0.0 for row in y])


STEER_CANDIDATES = 24  # decoded candidates per steered move: 16 took ~4x one decode on a CPU core, 32 ~6x
STEER_SPREAD = 0.5  # random spread of the candidates' attribute read-outs, in slider units
STEER_SCALES = (0.5, 0.75, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)  # multiples of the linear move tried
STEER_ASKED_WEIGHT = 2.0  # a miss on an attribute the user changed counts this much more than on a held one


def steer(decode, controls: Controls, z: np.ndarray, current: np.ndarray, new: np.ndarray,
          attr_std: dict[str, float], candidates: int = STEER_CANDIDATES, spread: float = STEER_SPREAD,
          seed: int = 0) -> np.ndarray:
    """Move z [B, Z] from slider values `current` to `new` [B, K] so the decoded melodies follow the attribute
    sliders: each changed attribute by (change × the slider's unit), every other attribute held where it was.

    The linear move (`with_coords`) is one candidate; others scale its attribute part (STEER_SCALES), the rest
    add random nudges along the attribute sliders' directions. All are decoded (greedy), and per melody the one
    whose attributes miss their targets least (sum of misses in SDs) wins. Only the attribute sliders'
    directions are searched, so the free sliders' values are exactly as asked. Deterministic per seed.
    """
    z = np.atleast_2d(np.asarray(z, np.float64))
    cur, new = np.atleast_2d(current).astype(np.float64), np.atleast_2d(new).astype(np.float64)
    b = len(z)
    idx = [i for i, a in enumerate(controls.attributes) if a is not None and a in attr_std]
    base = z + (new - cur) @ controls.basis.astype(np.float64)
    if not idx or candidates <= 1:
        return base.astype(np.float32)
    names = [controls.attributes[i] for i in idx]
    std = np.array([max(attr_std[a], 1e-9) * controls.unit(i) for a, i in zip(names, idx, strict=True)])
    before = compute_attributes(decode(z.astype(np.float32)))
    delta = (new - cur)[:, idx]  # [B, A] requested change in SDs
    target = np.stack([before[a] for a in names], axis=1) + delta * std
    rng = np.random.default_rng(seed)
    fixed = np.array((1.0, *STEER_SCALES))[:candidates]
    scales = np.concatenate([fixed, rng.uniform(0.5, 3.0, candidates - len(fixed))])
    nudge = rng.standard_normal((candidates, len(idx))) * spread
    nudge[: len(fixed)] = 0.0
    u = (scales[:, None, None] - 1.0) * delta[None] + nudge[:, None, :]  # [C, B, A]
    cand = base[None] + u @ controls.basis[idx].astype(np.float64)  # [C, B, Z]
    got = compute_attributes(decode(cand.reshape(-1, z.shape[1]).astype(np.float32)))
    a = np.stack([got[n] for n in names], axis=1).reshape(candidates, b, len(idx))
    miss = np.abs(a - target[None]) / std
    # An attribute a melody cannot have (stepwise motion of a single note) counts as a miss of one SD
    # unless it was undefined before too.
    miss = np.where(np.isfinite(miss), miss, np.where(np.isfinite(target)[None], 1.0, 0.0))
    weight = np.where(np.abs(delta) > 1e-6, STEER_ASKED_WEIGHT, 1.0)[None]
    cost = (weight * miss).sum(-1) + 1e-3 * np.square(u).sum(-1)  # ties go to the smallest detour
    best = cost.argmin(0)
    return cand[best, np.arange(b)].astype(np.float32)


def sweep(decode, controls: Controls, z: np.ndarray, attr_std: dict[str, float],
          values: tuple[float, ...] = SWEEP_VALUES, steered: bool = False) -> list[dict]:
    """Sweep every slider over `values` on melodies z [M, Z] and measure what the decoded melodies do.

    decode: z [B, Z] -> tokens [B, T] (greedy). attr_std: each attribute's standard deviation over the corpus,
    the unit in which movements are compared. Returns per slider: attribute (fitted for), spearman
    (mean within-melody Spearman of the target attribute with the slider value), effect (attribute -> mean change
    from the lowest to the highest value, in its std; signed), specificity (own |effect| / largest other
    |effect|), best (attribute that moves most), target (the fitted attribute, else best), name (the
    attribute it earns by NAME_RULE, or None) and sign (-1 when a free slider lowers its target).
    With `steered`, every move goes through `steer` (what the explorer does when a slider is released).
    """
    z = np.asarray(z, np.float32)
    m, vals = len(z), np.asarray(values, np.float64)
    names = [a for a in ATTRIBUTES if a in attr_std]
    coords = controls.coords(z)
    starts, asked = [], []
    for i in range(controls.k):
        for v in vals:
            c = coords.copy()
            c[:, i] = v
            starts.append(z)
            asked.append(c)
    if steered:
        moved = steer(decode, controls, np.concatenate(starts), np.concatenate([coords] * len(asked)),
                      np.concatenate(asked), attr_std)
    else:
        moved = controls.with_coords(np.concatenate(starts), np.concatenate(asked))
    tokens = decode(moved)
    attrs = compute_attributes(tokens)
    out = []
    for i in range(controls.k):
        rows = slice(i * len(vals) * m, (i + 1) * len(vals) * m)
        per = {a: attrs[a][rows].reshape(len(vals), m).T for a in names}  # [M, V]
        effect, rho = {}, {}
        for a in names:
            y = per[a]
            rho[a] = float(np.mean(_spearman_rows(vals, y)))
            gap = (y[:, -1] - y[:, 0]) / max(attr_std[a], 1e-9)
            effect[a] = float(np.nanmean(gap)) if np.isfinite(gap).any() else 0.0
        own = controls.attributes[i]
        best = max(names, key=lambda a: abs(effect[a]))

        target = own if own is not None else best
        # A free slider may earn the name of whatever it moves, rising or falling (sign -1: words reversed).
        sign = -1 if own is None and rho[target] < 0 else 1
        earned = (sign * rho[target] >= NAME_RULE["spearman"]
                  and specificity(effect, target) >= NAME_RULE["specificity"])
        out.append({"slider": i, "attribute": own, "spearman": rho[target], "effect": effect,
                    "specificity": specificity(effect, target), "best": best, "target": target,
                    "name": target if earned else None, "sign": sign})
    return out


def specificity(effect: dict[str, float], target: str) -> float:
    """|effect| on target over the largest |effect| on any other attribute."""
    others = max((abs(v) for a, v in effect.items() if a != target), default=0.0)
    return float(abs(effect[target]) / max(others, 1e-9))


def corpus_std(attrs: dict[str, np.ndarray]) -> dict[str, float]:
    """Standard deviation of each attribute over windows (NaN left out)."""
    return {a: float(np.nanstd(v)) for a, v in attrs.items()}


def _batched(fn, x: np.ndarray, size: int = 2048) -> np.ndarray:
    return np.concatenate([fn(x[i : i + size]) for i in range(0, len(x), size)]) if len(x) else x


def measure_controls(model, corpus, names: tuple[str, ...], n: int = 100, fit_windows: int = 30000,
                     mode: str = "response", seed: int = 0, steered: bool = True, pairs: int = 15000) -> dict:
    """Fit sliders for a trained model (vae.inference.TrainedModel) on a corpus and sweep them on n held-out
    (validation) windows. Returns {"controls": Controls as JSON, "sweep": per-slider dicts, "summary": ...}."""
    from vae.attributes import corpus_attributes
    from vae.split import TRAIN, VALID

    rng = np.random.default_rng(seed)
    attrs = corpus_attributes(corpus)
    train = np.nonzero(corpus.split == TRAIN)[0]
    train = np.sort(rng.choice(train, size=min(fit_windows, len(train)), replace=False))
    held = np.nonzero(corpus.split == VALID)[0]
    held = np.sort(rng.choice(held, size=min(n, len(held)), replace=False))
    encode = lambda t: model.encode(t.astype(np.int64))[0]  # noqa: E731
    mu_train = _batched(encode, corpus.tokens[train])
    decode = lambda z: _batched(model.decode, z, 4096)  # noqa: E731
    controls = fit_controls(mu_train, {a: v[train] for a, v in attrs.items()}, names, mode=mode, decode=decode,
                            seed=seed, pairs=pairs)
    std = corpus_std(attrs)
    table = sweep(decode, controls, encode(corpus.tokens[held]), std, steered=steered)
    controls, table = _orient(controls, table)
    return {"controls": controls, "sweep": table, "summary": summarise(table),
            "settings": {"n": len(held), "fit_windows": len(train), "mode": mode, "seed": seed, "steered": steered,
                         "pairs": pairs,
                         "steer_candidates": STEER_CANDIDATES, "steer_spread": STEER_SPREAD,
                         "values": list(SWEEP_VALUES), "rule": NAME_RULE, "attr_std": std}}


def _orient(controls: Controls, table: list[dict]) -> tuple[Controls, list[dict]]:
    """Reverse the free sliders that earned a name by lowering it, so every named slider raises its attribute."""
    signs = np.array([r.get("sign", 1) if r["name"] else 1 for r in table], np.float32)
    if (signs > 0).all():
        return controls, table
    flipped = replace(controls, basis=controls.basis * signs[:, None], readout=controls.readout * signs[:, None])
    rows = []
    for r, sg in zip(table, signs, strict=True):
        if sg < 0:
            r = {**r, "spearman": -r["spearman"], "effect": {a: -v for a, v in r["effect"].items()}, "sign": 1}
        rows.append(r)
    return flipped, rows


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


def summarise(table: list[dict]) -> dict:
    """Counts of a sweep: attribute sliders that earned their name, distinct names earned, free sliders named."""
    own = [r for r in table if r["attribute"] is not None]
    named = [r["attribute"] for r in own if r["name"] == r["attribute"]]
    free_named = [r["name"] for r in table if r["attribute"] is None and r["name"]]
    return {"attribute_sliders": len(own), "earned": len(named), "earned_names": named,
            "distinct_named": len(set(named) | set(free_named)), "free_named": free_named}


def format_sweep(table: list[dict]) -> str:
    """A readable per-slider table of a sweep."""
    lines = [f"  {'#':>2} {'fitted for':<20} {'target':<20} {'spearman':>8} {'effect':>7} {'specific':>8}  name",
             ]
    for r in table:
        lines.append(f"  {r['slider'] + 1:>2} {r['attribute'] or '(free)':<20} {r['target']:<20} {r['spearman']:>8.2f} "
                     f"{r['effect'][r['target']]:>7.2f} {r['specificity']:>7.1f}x  {r['name'] or '-'}")
    return "\n".join(lines)
