"""Model quality: reconstruction, Yang–Lerch feature distributions of prior samples, interpolation smoothness."""

from __future__ import annotations

import numpy as np

from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF, VOCAB_SIZE
from vae.tokenizer import MelodyTokenizer

_TOK = MelodyTokenizer()
FEATURES = ["pitch_count", "pitch_class_histogram", "pitch_range", "avg_interval", "note_count",
            "inter_onset_interval", "note_length_histogram"]
_LENGTH_BINS = [1, 2, 3, 4, 6, 8, 12, 16, 65]  # note lengths in steps: 16th .. whole and longer


def melody_features(tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Yang & Lerch (2018) per-melody features of windows [N, T]; vector features are [N, k]."""
    out: dict[str, list] = {f: [] for f in FEATURES}
    for row in tokens:
        ns = _TOK.decode(row)
        p = np.array([n.pitch for n in ns], dtype=float)
        on = np.array([n.start for n in ns], dtype=float)
        ln = np.array([n.end - n.start for n in ns], dtype=float)
        out["pitch_count"].append(len(np.unique(p)))
        pch = np.bincount(p.astype(int) % 12, minlength=12).astype(float) if len(p) else np.zeros(12)
        out["pitch_class_histogram"].append(pch / max(pch.sum(), 1))
        out["pitch_range"].append(float(p.max() - p.min()) if len(p) else 0.0)
        out["avg_interval"].append(float(np.abs(np.diff(p)).mean()) if len(p) > 1 else 0.0)
        out["note_count"].append(len(p))
        out["inter_onset_interval"].append(float(np.diff(on).mean()) if len(on) > 1 else 0.0)
        h = np.histogram(ln, bins=_LENGTH_BINS)[0].astype(float) if len(ln) else np.zeros(len(_LENGTH_BINS) - 1)
        out["note_length_histogram"].append(h / max(h.sum(), 1))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _pairwise(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances between rows of a and b (or within a, upper triangle)."""
    a2 = a.reshape(len(a), -1)
    if b is None:
        d = np.sqrt(((a2[:, None] - a2[None]) ** 2).sum(-1))
        return d[np.triu_indices(len(a2), 1)]
    b2 = b.reshape(len(b), -1)
    return np.sqrt(((a2[:, None] - b2[None]) ** 2).sum(-1)).ravel()


def _kde(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian KDE (Scott's bandwidth) evaluated on a grid, normalised to a density."""
    s = samples[:20000]
    bw = max(1.06 * s.std() * len(s) ** (-1 / 5), 1e-3)
    dens = np.exp(-0.5 * ((grid[:, None] - s[None]) / bw) ** 2).sum(1)
    dx = grid[1] - grid[0]
    return dens / max(dens.sum() * dx, 1e-12)


def overlap_and_kl(intra: np.ndarray, inter: np.ndarray) -> tuple[float, float]:
    """Overlapping area and KL(intra || inter) of the two distance distributions (Yang–Lerch)."""
    hi = max(intra.max(), inter.max()) * 1.1 + 1e-6
    grid = np.linspace(0, hi, 512)
    p, q = _kde(intra, grid), _kde(inter, grid)
    dx = grid[1] - grid[0]
    oa = float(np.minimum(p, q).sum() * dx)
    kl = float((p * np.log((p + 1e-10) / (q + 1e-10))).sum() * dx)
    return oa, kl


def yang_lerch(reference: np.ndarray, generated: np.ndarray) -> dict[str, dict[str, float]]:
    """Per feature: OA and KL between the reference set's intra-set distances and the reference-to-generated
    distances. OA near 1 and KL near 0 mean the generated set is distributed like the reference."""
    fr, fg = melody_features(reference), melody_features(generated)
    out = {}
    for f in FEATURES:
        intra = _pairwise(fr[f])
        inter = _pairwise(fr[f], fg[f])
        oa, kl = overlap_and_kl(intra, inter)
        out[f] = {"overlap_area": round(oa, 4), "kl": round(kl, 4),
                  "reference_mean": round(float(fr[f].mean()), 4), "generated_mean": round(float(fg[f].mean()), 4)}
    out["mean"] = {"overlap_area": round(float(np.mean([out[f]["overlap_area"] for f in FEATURES])), 4),
                   "kl": round(float(np.mean([out[f]["kl"] for f in FEATURES])), 4)}
    return out


def random_token_baseline(n: int, steps: int, seed: int = 0) -> np.ndarray:
    """Tokens drawn with the corpus's rough shares: 62% hold, 1% off, 37% uniform note-on in C3..C6."""
    rng = np.random.default_rng(seed)
    u = rng.random((n, steps))
    notes = rng.integers(48 - 21 + FIRST_NOTE_ON, 84 - 21 + FIRST_NOTE_ON, (n, steps))
    out = np.where(u < 0.62, HOLD, np.where(u < 0.63, NOTE_OFF, notes))
    assert out.max() < VOCAB_SIZE
    return out


def always_hold_baseline(n: int, steps: int) -> np.ndarray:
    return np.full((n, steps), HOLD, dtype=np.int64)


def interpolation_smoothness(model, tokens: np.ndarray, pairs: int = 50, steps: int = 9, seed: int = 0) -> dict:
    """For random pairs of windows: is the decoded melody's distance to A rising from 0 (at A) to its max (at B)?

    Distance is the share of steps whose token differs from A's reconstruction. Reports the share of pairs
    that rise monotonically, the mean Spearman correlation of distance with step, and endpoint accuracy.
    """
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(tokens), size=(pairs, 2), replace=len(tokens) < 2 * pairs)
    mono, rhos, end_acc = 0, [], []
    for i, j in idx:
        _, dec = model.interpolate(tokens[i], tokens[j], steps)
        d = (dec != dec[0]).mean(1)
        mono += bool(np.all(np.diff(d) >= -1e-9))
        r = np.argsort(np.argsort(d)).astype(float)
        s = np.arange(steps, dtype=float)
        rhos.append(float(np.corrcoef(r, s)[0, 1]) if r.std() > 0 else 0.0)
        end_acc.append(((dec[0] == tokens[i]).mean() + (dec[-1] == tokens[j]).mean()) / 2)
    return {"pairs": pairs, "steps": steps, "monotonic_share": round(mono / pairs, 4),
            "mean_spearman": round(float(np.mean(rhos)), 4), "endpoint_token_accuracy": round(float(np.mean(end_acc)), 4)}
