"""A melody comes back as itself: fit z (and, where z cannot say it all, a per-bar detail) to a melody, and
score a rendering against it note by note.

The encoder's posterior mean is a fast guess of the z that decodes to a melody; off the training domain
(pop, ragtime, classical themes) it is a poor one (the amortisation gap). `fit_latent` closes the gap by a
few dozen gradient steps on z that raise the decoder's likelihood of the melody's tokens, starting from
mu and keeping, per melody, whichever z's greedy decoding matches the melody best (mu itself included,
so fitting never makes a rendering worse).

Off the domain even the best z leaves notes out (measured: a folk-trained decoder reproduces about half of
a pop vocal's notes from any z): the decoder cannot say syncopations and leaps it never learned from 64
numbers. `fit_detail` then fits a small offset to each bar's context (the conductor's output, MusicVAE's
per-bar latent), as little as it takes: it stops as soon as the melody comes back whole. The melody is
(z, detail). Pushes and blends move z and keep the detail; a slider move fades it with the distance moved
(`DetailFollow`), since a detail fitted to hold the upload's notes would otherwise pull a moved melody back
toward them (bench/slider_uploads.md). `fit_melody` does both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vae.constants import FIRST_NOTE_ON

FIT_STEPS = 60  # gradient steps on z
FIT_LR = 0.08  # Adam step size on z
FIT_CHECK_EVERY = 10  # greedy decodes between steps to keep the best z
PRIOR_WEIGHT = 1e-3  # pull toward the prior, so a fitted z stays where sliders and the map make sense
MELODY_Z_STEPS = 30  # z steps before the detail takes over (fit_melodies): 60 gave the same F1 and detail size
# on pop, classical and ragtime windows, at 1.6x the time (388 vs 248 ms a pop window)
DETAIL_STEPS = 300  # at most; most melodies stop far earlier (pop vocals: ~30). Ragtime windows, 40: 150 steps
# reached F1 0.909, 300 reached 0.931
DETAIL_LR = 0.1  # Adam step size on the detail: 0.05 reached 0.87 on ragtime where 0.1 reached 0.90; 0.2 reached
# 0.946 in 300 steps but with twice the detail (|detail| 17.8 vs 8.3 on pop): more of the melody held outside z
DETAIL_WEIGHT = 1e-2  # L2 pull of the detail toward 0: as little detail as the melody needs
DETAIL_CHECK_EVERY = 10


def note_set(tokens: np.ndarray) -> set[tuple[int, int]]:
    """Exact notes of one window [T]: {(onset step, pitch token)}."""
    t = np.asarray(tokens)
    steps = np.flatnonzero(t >= FIRST_NOTE_ON)
    return set(zip(steps.tolist(), t[steps].tolist(), strict=True))


def note_f1(reference: np.ndarray, rendering: np.ndarray) -> np.ndarray:
    """Exact-note F1 (same pitch, same onset) of renderings [B, T] against references [B, T] -> [B].

    1 when both are silent; 0 when one is silent and the other is not.
    """
    ref = np.atleast_2d(reference)
    out = np.atleast_2d(rendering)
    scores = np.empty(len(ref), np.float64)
    for i, (r, o) in enumerate(zip(ref, out, strict=True)):
        a, b = note_set(r), note_set(o)
        if not a and not b:
            scores[i] = 1.0
            continue
        scores[i] = 2 * len(a & b) / (len(a) + len(b))
    return scores



class Adam:
    """torch.optim.Adam's update for one tensor (betas 0.9 / 0.999, eps 1e-8, its single-tensor arithmetic, step
    for step the same numbers), without torch.optim: building the first torch.optim.Adam of a process imports
    torch's compiler machinery, 1.7 s of CPU that the first upload's fit waited for."""

    def __init__(self, param: torch.Tensor, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.param, self.lr, self.betas, self.eps, self.t = param, float(lr), betas, float(eps), 0
        self.m = torch.zeros_like(param, memory_format=torch.preserve_format)
        self.v = torch.zeros_like(param, memory_format=torch.preserve_format)

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        g = self.param.grad
        self.t += 1
        self.m.lerp_(g, 1 - b1)
        self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (self.v.sqrt() / math.sqrt(1 - b2 ** self.t)).add_(self.eps)
        self.param.addcdiv_(self.m, denom, value=-self.lr / (1 - b1 ** self.t))

def fit_latent(model, tokens: np.ndarray, steps: int = FIT_STEPS, lr: float = FIT_LR,
               check_every: int = FIT_CHECK_EVERY, progress=None,
               start: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z that decode to melodies [B, T] (or one [T]) more faithfully than their posterior means.

    model: a vae.inference.TrainedModel. Returns (z [B, Z], greedy renderings [B, T], exact-note F1 [B]),
    or unbatched for one melody. progress(frac) is called after each check. start: the posterior means [B, Z]
    and their greedy renderings [B, T] when the caller has them already (one encode and decode less).
    """
    x = np.asarray(tokens, dtype=np.int64)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    net = model.model
    mu, best_out = start if start is not None else (None, None)
    if mu is None:
        mu, _ = model.encode(x)
        best_out = model.decode(mu)
    mu = np.asarray(mu, np.float32)
    best_z, best_out = mu.copy(), np.asarray(best_out).copy()
    best_f1 = note_f1(x, best_out)
    target = torch.as_tensor(x, device=model.device)
    inputs = net.shift_inputs(target)
    z = torch.tensor(mu, device=model.device, requires_grad=True)
    opt = Adam(z, lr=lr)
    # Gradients w.r.t. z only (autograd.grad): the shared model's weights, train/eval mode and .grad are never
    # touched, so fits on several server threads at once do not interfere.
    for step in range(1, steps + 1):
        if not (best_f1 < 1.0).any():
            break
        logits = net.decode_logits(z, inputs)
        nll = F.cross_entropy(logits.transpose(1, 2).float(), target, reduction="none").sum(1)
        loss = (nll + PRIOR_WEIGHT * 0.5 * (z * z).sum(1)).sum()
        (z.grad,) = torch.autograd.grad(loss, [z])
        opt.step()
        if step % check_every == 0 or step == steps:
            cand = z.detach().cpu().numpy()
            out = model.decode(cand)
            f1 = note_f1(x, out)
            better = f1 > best_f1
            best_z[better], best_out[better], best_f1[better] = cand[better], out[better], f1[better]
            if progress:
                progress(step / steps)
    if single:
        return best_z[0], best_out[0], best_f1[0]
    return best_z, best_out, best_f1


def quantise_detail(detail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A detail [..., U, C] as int8 codes [..., U, C] and a float16 scale per unit [..., U] (how share links
    carry it); dequantise_detail inverts it."""
    d = np.asarray(detail, np.float32)
    scale = (np.abs(d).max(-1) / 127.0).astype(np.float16)
    safe = np.where(scale.astype(np.float32) > 0, scale.astype(np.float32), 1.0)
    codes = np.clip(np.round(d / safe[..., None]), -127, 127).astype(np.int8)
    return codes, scale


def dequantise_detail(codes: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (np.asarray(codes, np.float32) * np.asarray(scale, np.float16).astype(np.float32)[..., None]).astype(np.float32)


def round_detail(detail: np.ndarray) -> np.ndarray:
    """The detail exactly as a share link restores it (int8 per unit with a float16 scale)."""
    return dequantise_detail(*quantise_detail(detail))


def fit_detail(model, tokens: np.ndarray, z: np.ndarray, steps: int = DETAIL_STEPS, lr: float = DETAIL_LR,
               check_every: int = DETAIL_CHECK_EVERY, weight: float = DETAIL_WEIGHT, progress=None,
               start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bar details that make z [B, Z] decode to melodies [B, T] (greedy) note for note.

    Gradient steps on the detail alone (z and the model fixed) raise the decoder's likelihood of the melody;
    every `check_every` steps each melody's greedy decoding is scored, and a melody keeps the first detail
    that brings it back whole (else its best; zero when z alone already does). Details are rounded as share
    links carry them (round_detail) before they are scored. Returns (detail [B, U, C], renderings [B, T],
    exact-note F1 [B]). progress(frac) is called after each check; `start`: z's own greedy renderings [B, T]
    when the caller has them (else they are decoded here).
    """
    x = np.atleast_2d(np.asarray(tokens, dtype=np.int64))
    z = np.atleast_2d(np.asarray(z, np.float32))
    net = model.model
    best_d = np.zeros((len(x), *model.detail_shape), np.float32)
    best_out = model.decode(z) if start is None else np.array(start, dtype=np.int64)
    best_f1 = note_f1(x, best_out)
    target = torch.as_tensor(x, device=model.device)
    inputs = net.shift_inputs(target)
    z_t = torch.as_tensor(z, device=model.device)
    d = torch.zeros((len(x), *model.detail_shape), device=model.device, requires_grad=True)
    opt = Adam(d, lr=lr)
    for step in range(1, steps + 1):
        todo = best_f1 < 1.0
        if not todo.any():
            break
        logits = net.decode_logits(z_t, inputs, d)
        nll = F.cross_entropy(logits.transpose(1, 2).float(), target, reduction="none").sum(1)
        loss = (nll + weight * (d * d).sum((1, 2))).sum()
        (d.grad,) = torch.autograd.grad(loss, [d])
        opt.step()
        if step % check_every == 0 or step == steps:
            rows = np.flatnonzero(todo)
            cand = round_detail(d.detach().cpu().numpy()[rows])
            out = model.decode(z[rows], detail=cand)
            f1 = note_f1(x[rows], out)
            better = f1 > best_f1[rows]
            keep = rows[better]
            best_d[keep], best_out[keep], best_f1[keep] = cand[better], out[better], f1[better]
            if progress:
                progress(step / steps)
    return best_d, best_out, best_f1


@dataclass
class Fit:
    """Melodies as the model holds them: z [B, Z], detail [B, U, C] (zero where z alone brings a melody back),
    the renderings [B, T] of (z, detail), and exact-note F1 [B] of the renderings from mu, from z alone and in
    all. fit[i] is melody i's (z, detail or None, rendering, f1)."""

    z: np.ndarray
    detail: np.ndarray
    tokens: np.ndarray
    f1: np.ndarray
    f1_encoder: np.ndarray
    f1_z: np.ndarray

    def detail_of(self, i: int) -> np.ndarray | None:
        """Melody i's detail, or None when it needs none."""
        return nonzero(self.detail[i])


def nonzero(detail: np.ndarray | None) -> np.ndarray | None:
    """A detail, or None for none or an all-zero one (a melody that needs no detail has None)."""
    return detail if detail is not None and np.any(detail) else None


def fit_melodies(model, tokens: np.ndarray, detail: bool = True, z_steps: int = MELODY_Z_STEPS, progress=None) -> Fit:
    """Fit z to melodies [B, T] (or one [T]) with fit_latent, then a detail to those that z alone does not bring
    back whole (fit_detail; skipped with detail=False). z is rounded through float16 first, as the explorer
    and share links keep it, so the renderings scored are the ones a user hears."""
    x = np.atleast_2d(np.asarray(tokens, dtype=np.int64))
    mu, _ = model.encode(x)
    out_mu = model.decode(mu)
    f1_mu = note_f1(x, out_mu)
    half = (lambda f: progress(0.5 * f)) if progress else None  # noqa: E731
    z, _, _ = fit_latent(model, x, steps=z_steps, progress=half, start=(mu, out_mu))
    z = np.asarray(z, np.float16).astype(np.float32)
    out = model.decode(z)
    f1_z = note_f1(x, out)
    fit = Fit(z, np.zeros((len(x), *model.detail_shape), np.float32), out, f1_z.copy(), f1_mu, f1_z)
    rows = np.flatnonzero(f1_z < 1.0) if detail else np.zeros(0, int)
    if len(rows):
        rest = (lambda f: progress(0.5 + 0.5 * f)) if progress else None  # noqa: E731
        d, o, f = fit_detail(model, x[rows], z[rows], progress=rest, start=out[rows])
        fit.detail[rows], fit.tokens[rows], fit.f1[rows] = d, o, f
    if progress:
        progress(1.0)
    return fit


@dataclass(frozen=True)
class DetailFollow:
    """How a melody's per-bar detail follows a slider move of `distance` slider units (the Euclidean length of
    the change in slider values): kept whole up to `hold`, then faded linearly to nothing over `fade` more.
    The detail was fitted to bring the upload's own notes back from its own z; kept whole while z moves, it
    holds a moved melody to those notes (bench.slider_uploads measures the choices side by side)."""

    hold: float = 0.0  # slider units moved before the detail starts to fade
    fade: float = 1.0  # slider units over which it then fades to nothing (math.inf: never)

    def weight(self, distance: float) -> float:
        """The share of the detail kept after a move of `distance` slider units, in [0, 1]."""
        d = float(distance) - self.hold
        if d <= 0:
            return 1.0
        return 0.0 if self.fade <= 0 else max(0.0, 1.0 - d / self.fade)

    def apply(self, detail: np.ndarray | None, distance: float) -> np.ndarray | None:
        """The detail [U, C] a melody plays with after a move of `distance` slider units (None: none), rounded as a
        share link carries it (round_detail), so the link restores exactly the melody heard."""
        w = self.weight(distance)
        if detail is None or w <= 0.0:
            return None
        return detail if w >= 1.0 else nonzero(round_detail(w * np.asarray(detail, np.float32)))


KEEP_DETAIL = DetailFollow(hold=math.inf)  # the detail stays whole however far z moves (before step 17)
# A slider move fades the detail over this many slider units (bench/slider_uploads.md: chosen side by side)
DETAIL_FOLLOW = DetailFollow(hold=0.0, fade=1.0)
