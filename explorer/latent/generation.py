"""New latent points: interpolation strips, 4-corner grids, prior samples, variations and multi-section paths.

Every function here takes and returns latent vectors (numpy float32); decoding is the caller's job.
"""

from __future__ import annotations

import numpy as np

from vae.fidelity import nonzero
from vae.inference import slerp


def interpolate(z_a: np.ndarray, z_b: np.ndarray, steps: int = 7) -> np.ndarray:
    """`steps` points [steps, Z] on the slerp arc from z_a to z_b; the first is z_a and the last z_b."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    z = slerp(z_a, z_b, np.linspace(0.0, 1.0, steps))
    z[0], z[-1] = z_a, z_b  # exact endpoints, whatever the rounding inside slerp
    return z


def grid(corners: np.ndarray, size: int = 5) -> np.ndarray:
    """Beat-Blender grid from 4 corners [4, Z] (top-left, top-right, bottom-left, bottom-right) -> [size, size, Z].

    Point (row i, column j) is grid_point(corners, j / (size - 1), i / (size - 1)).
    """
    if size < 2:
        raise ValueError("a grid needs at least 2 points per side")
    t = np.linspace(0.0, 1.0, size)
    return np.stack([np.stack([grid_point(corners, x, y) for x in t]) for y in t])


def grid_point(corners: np.ndarray, x: float, y: float) -> np.ndarray:
    """The blend at (x, y) in [0, 1]^2 of 4 corners [4, Z] (top-left, top-right, bottom-left, bottom-right).

    The slerp at height y down the left and the right edge, then the slerp at x between them: each corner
    is exact at its corner and each edge is a plain interpolation of its two corners.
    """
    c = np.asarray(corners, dtype=np.float32)
    if c.shape[0] != 4:
        raise ValueError(f"a grid needs 4 corners, got {c.shape[0]}")
    x, y = float(x), float(y)
    exact = {(0.0, 0.0): 0, (1.0, 0.0): 1, (0.0, 1.0): 2, (1.0, 1.0): 3}
    if (x, y) in exact:
        return c[exact[(x, y)]].copy()
    left, right = slerp(c[0], c[2], y), slerp(c[1], c[3], y)
    return slerp(left, right, x).astype(np.float32)


def prior(n: int, dim: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """n draws [n, dim] from the prior N(0, scale^2 I); repeatable per seed."""
    return (scale * np.random.default_rng(seed).standard_normal((n, dim))).astype(np.float32)


def gaussian_fit(latents: np.ndarray, ridge: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Mean [Z] and Cholesky factor [Z, Z] of the Gaussian that fits latents [N, Z] (e.g. every training window's
    mu: the aggregate posterior); a small ridge keeps the covariance positive definite."""
    x = np.asarray(latents, np.float64)
    mean = x.mean(0)
    cov = np.cov(x, rowvar=False) + ridge * np.eye(x.shape[1])
    return mean.astype(np.float32), np.linalg.cholesky(cov).astype(np.float32)


def gaussian_draw(n: int, mean: np.ndarray, chol: np.ndarray, seed: int = 0) -> np.ndarray:
    """n draws [n, Z] from N(mean, chol chol^T); repeatable per seed."""
    eps = np.random.default_rng(seed).standard_normal((n, len(mean)))
    return (mean + eps @ np.asarray(chol, np.float64).T).astype(np.float32)


def similar(z: np.ndarray, n: int, similarity: float, seed: int = 0) -> np.ndarray:
    """n variations [n, Z] of z: similarity * z + (1 - similarity) * noise, noise ~ N(0, I).

    As Magenta.js MusicVAE.similar: similarity 1 returns z itself, 0 a fresh prior sample.
    """
    s = float(np.clip(similarity, 0.0, 1.0))
    z = np.asarray(z, dtype=np.float32)
    return (s * z[None] + (1.0 - s) * prior(n, z.shape[-1], seed)).astype(np.float32)


def path(waypoints: np.ndarray, sections: int) -> np.ndarray:
    """z [sections, Z] of consecutive sections moving smoothly through waypoints [k, Z] by slerp.

    The first section is the first waypoint and the last section the last one; with at least as many
    sections as waypoints every waypoint is a section of its own, the rest transitions between them
    (waypoint_positions). One waypoint gives `sections` copies of it.
    """
    w = np.asarray(waypoints, dtype=np.float32)
    if w.ndim != 2 or not len(w):
        raise ValueError("a path needs at least one waypoint [k, Z]")
    if sections < 1:
        raise ValueError("a path needs at least one section")
    if len(w) == 1 or sections == 1:
        return np.repeat(w[:1], sections, axis=0)
    pos = waypoint_positions(len(w), sections)
    out = []
    for p in pos:
        seg = min(int(np.floor(p)), len(w) - 2)
        frac = p - seg
        out.append(w[seg] if frac == 0 else w[seg + 1] if frac == 1 else slerp(w[seg], w[seg + 1], float(frac)))
    return np.stack(out).astype(np.float32)


def waypoint_positions(k: int, sections: int) -> np.ndarray:
    """Where each section sits along a chain of k waypoints (0 = the first, k - 1 = the last) [sections].

    With at least as many sections as waypoints, every waypoint is a section of its own (integer positions)
    and the sections left over are transitions, spread as evenly as possible over the k - 1 gaps. With fewer
    sections than waypoints, sections are spread evenly and some waypoints fall between them."""
    if sections < k:
        return np.linspace(0.0, k - 1, sections)
    extra = sections - k  # transition sections to share among the gaps
    per_gap = [extra // (k - 1) + (1 if g < extra % (k - 1) else 0) for g in range(k - 1)]
    pos = [0.0]
    for g, n in enumerate(per_gap):
        pos += [g + (j + 1) / (n + 1) for j in range(n)] + [float(g + 1)]
    return np.asarray(pos)


FORMS = {"through": "each waypoint in turn, with transitions", "AABA": "A A B A: the first waypoint, again, "
         "the second, the first (32-bar song form at 8 bars a letter)"}


def form_path(waypoints: np.ndarray, sections: int, form: str = "through") -> np.ndarray:
    """z [sections, Z] for a form: "through" (path) or "AABA" (letters from the first two waypoints, each
    letter sections // 4 sections long, a transition into B and back where a letter has two sections)."""
    w = np.asarray(waypoints, dtype=np.float32)
    if form == "through":
        return path(w, sections)
    if form != "AABA":
        raise ValueError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    if len(w) < 2 or sections < 4:
        raise ValueError("AABA needs two waypoints (A and B) and at least 16 bars")
    per = sections // 4
    a, b = np.repeat(w[:1], per, axis=0), np.repeat(w[1:2], per, axis=0)
    return np.concatenate([a, a, b, a, np.repeat(w[:1], sections - 4 * per, axis=0)])


def sections_for_bars(bars: int, bars_per_section: int = 4) -> int:
    """Number of model windows needed to cover `bars` bars (rounded up)."""
    if bars < 1:
        raise ValueError("a piece needs at least one bar")
    return -(-bars // bars_per_section)


def along_path(details: np.ndarray | None, path) -> np.ndarray | None:
    """Per-bar details [n, U, C] of a blend's or piece's endpoints carried along the same path as their z:
    path(flat [n, U*C]) -> [K, U*C] gives [K, U, C]; None when there are none (or all are zero)."""
    if details is None or not np.any(details):
        return None
    d = np.asarray(details, np.float32)
    out = np.asarray(path(d.reshape(len(d), -1)), np.float32)
    return out.reshape(len(out), *d.shape[1:])


def stack_details(details: list, shape: tuple[int, int]) -> np.ndarray | None:
    """Several melodies' details (None = none) as one array [N, U, C] with zeros for none; None when none has one."""
    if all(d is None for d in details):
        return None
    return np.stack([np.zeros(shape, np.float32) if d is None else np.asarray(d, np.float32) for d in details])


def blend_details(details: list, shape: tuple[int, int], path) -> np.ndarray | None:
    """The details [K, U, C] of a blend's points: path(flat [n, U*C]) -> [K, U*C] applied to the endpoints'
    details (zeros for none), the same path as their z takes; None when no endpoint has a detail."""
    return along_path(stack_details(details, shape), path)


def detail_row(details: np.ndarray | None, i: int) -> np.ndarray | None:
    """Row i of a blend's or piece's details, None when there are none or that row is zero."""
    return None if details is None else nonzero(details[i])
