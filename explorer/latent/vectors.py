"""Attribute vectors (MusicVAE): mean mu of the top quartile minus the bottom quartile of an attribute.

Adding a multiple of a vector to z pushes a melody toward "more" of that attribute. Whether the decoder
actually follows is an empirical question, so `measure_attribute_vectors` decodes pushed melodies and
reports the change it achieved per unit push next to the quartile gap the vector was built from. The
explorer uses `along_sliders`: the same quartile-gap amounts along the attribute sliders' directions, which
hold the other attributes where the plain mean difference drags them along.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae.attributes import ATTRIBUTES, compute_attributes

DEFAULT_AMOUNTS = (-1.0, -0.5, 0.0, 0.5, 1.0)


@dataclass(frozen=True)
class AttributeVectors:
    """names [A]; vectors [A, Z]; gap [A]: attribute mean of the top quartile minus that of the bottom one."""

    names: list[str]
    vectors: np.ndarray
    gap: np.ndarray

    @classmethod
    def fit(cls, mu_train: np.ndarray, attrs_train: dict[str, np.ndarray], quantile: float = 0.25) -> AttributeVectors:
        """Vectors from training mu [N, Z] and attributes (name -> [N]); NaN attribute values are left out."""
        names, vecs, gaps = [], [], []
        for name in (k for k in ATTRIBUTES if k in attrs_train):
            a = np.asarray(attrs_train[name], dtype=np.float64)
            ok = np.isfinite(a)
            if ok.sum() < 8:
                continue
            lo_q, hi_q = np.quantile(a[ok], [quantile, 1 - quantile])
            low, high = ok & (a <= lo_q), ok & (a >= hi_q)
            if lo_q == hi_q:  # a skewed attribute (syncopation is mostly 0): split at that value
                low, high = ok & (a <= lo_q), ok & (a > hi_q)
                if not high.any():
                    low, high = ok & (a < lo_q), ok & (a >= hi_q)
            if not low.any() or not high.any():
                continue
            names.append(name)
            # mean(high rows) - mean(low rows) as one weighted pass over mu
            weights = high / high.sum() - low / low.sum()
            vecs.append(weights @ mu_train)
            gaps.append(a[high].mean() - a[low].mean())
        dim = mu_train.shape[1]
        return cls(names, np.asarray(vecs, np.float32).reshape(-1, dim), np.asarray(gaps, np.float32))

    def along_sliders(self, controls, attr_std: dict[str, float]) -> AttributeVectors:
        """The same pushes along the attribute sliders' directions where there is one (vae.controls: moves that
        hold the other attributes), scaled so amount 1 is still the quartile gap."""
        vecs = self.vectors.copy()
        for i, name in enumerate(self.names):
            if name in controls.attributes and attr_std.get(name, 0) > 0:
                k = controls.attributes.index(name)
                vecs[i] = controls.basis[k] * (self.gap[i] / attr_std[name])
        return AttributeVectors(list(self.names), vecs.astype(np.float32), self.gap.copy())

    def vector(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise ValueError(f"unknown attribute {name!r}; choose from {', '.join(self.names)}")
        return self.vectors[self.names.index(name)]

    def push(self, z: np.ndarray, name: str, amount: float | np.ndarray) -> np.ndarray:
        """z [Z] or [B, Z] moved by `amount` times the attribute's vector (1 = the full quartile gap)."""
        amount = np.asarray(amount, dtype=np.float32)
        return (np.asarray(z, dtype=np.float32) + amount[..., None] * self.vector(name)).astype(np.float32)


def measure_attribute_vectors(model, vectors: AttributeVectors, mu: np.ndarray, n: int = 200,
                              amounts: tuple[float, ...] = DEFAULT_AMOUNTS, seed: int = 0,
                              names: list[str] | None = None, push=None) -> dict[str, dict]:
    """Decode n sampled windows' mu [N, Z] pushed by each amount; report what each push achieved.

    `model` needs decode(z [B, Z]) -> tokens [B, T] (greedy). `push(z [B, Z], name, amount)` makes the move
    (default: along the vector; the explorer passes its steered push). Per attribute: gap (what the vector was
    built from), per_unit (least-squares slope of the decoded attribute on the amount), ratio
    (per_unit / gap), means (decoded attribute mean at each amount) and up_share (share of melodies
    whose attribute at +max amount exceeds that at -max amount; ties count half).
    """
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(mu), size=min(n, len(mu)), replace=False)
    z0 = np.asarray(mu[rows], dtype=np.float32)
    amounts_arr = np.asarray(amounts, dtype=np.float32)
    out = {}
    for name in names or vectors.names:
        move = push or vectors.push
        z = np.concatenate([move(z0, name, float(a)) for a in amounts_arr])
        values = compute_attributes(model.decode(z))[name].reshape(len(amounts_arr), len(z0))
        x = np.repeat(amounts_arr, len(z0))
        y = values.ravel()
        ok = np.isfinite(y)
        slope = float(np.polyfit(x[ok], y[ok], 1)[0]) if ok.sum() > 2 and np.ptp(x[ok]) > 0 else float("nan")
        lo, hi = values[int(np.argmin(amounts_arr))], values[int(np.argmax(amounts_arr))]
        both = np.isfinite(lo) & np.isfinite(hi)
        up = float(((hi[both] > lo[both]) + 0.5 * (hi[both] == lo[both])).mean()) if both.any() else float("nan")
        gap = float(vectors.gap[vectors.names.index(name)])
        out[name] = {"gap": gap, "per_unit": slope, "ratio": slope / gap if gap else float("nan"),
                     "means": [float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for v in values],
                     "amounts": [float(a) for a in amounts_arr], "up_share": up}
    return out
