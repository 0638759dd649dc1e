"""A melody comes back as itself: fit z to a melody, and score a rendering against it note by note.

The encoder's posterior mean is a fast guess of the z that decodes to a melody; off the training domain
(pop, ragtime, classical themes) it is a poor one (the amortisation gap). `fit_latent` closes the gap by a
few dozen gradient steps on z that raise the decoder's likelihood of the melody's tokens, starting from
mu and keeping, per melody, whichever z's greedy decoding matches the melody best (mu itself included,
so fitting never makes a rendering worse).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vae.constants import FIRST_NOTE_ON

FIT_STEPS = 60  # gradient steps on z
FIT_LR = 0.08  # Adam step size on z
FIT_CHECK_EVERY = 10  # greedy decodes between steps to keep the best z
PRIOR_WEIGHT = 1e-3  # pull toward the prior, so a fitted z stays where sliders and the map make sense


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


def fit_latent(model, tokens: np.ndarray, steps: int = FIT_STEPS, lr: float = FIT_LR,
               check_every: int = FIT_CHECK_EVERY, progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z that decode to melodies [B, T] (or one [T]) more faithfully than their posterior means.

    model: a vae.inference.TrainedModel. Returns (z [B, Z], greedy renderings [B, T], exact-note F1 [B]),
    or unbatched for one melody. progress(frac) is called after each check.
    """
    x = np.asarray(tokens, dtype=np.int64)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    net = model.model
    mu, _ = model.encode(x)
    best_z = mu.copy()
    best_out = model.decode(mu)
    best_f1 = note_f1(x, best_out)
    target = torch.as_tensor(x, device=model.device)
    inputs = net.shift_inputs(target)
    z = torch.tensor(mu, device=model.device, requires_grad=True)
    opt = torch.optim.Adam([z], lr=lr)
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
