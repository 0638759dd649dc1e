"""Reconstruction scores of a model on token windows (shared by training validation and `evaluate`)."""

from __future__ import annotations

import numpy as np
import torch

from vae.constants import HOLD
from vae.model import MelodyVAE


@torch.no_grad()
def reconstruction_scores(model: MelodyVAE, tokens: np.ndarray | torch.Tensor, batch_size: int = 512,
                          device: str = "cpu", greedy: bool = True) -> dict[str, float]:
    """Scores on windows [N, T]: teacher-forced and greedy (from the posterior mean) token accuracy,
    accuracy on note events (non-hold tokens), the always-hold baseline, mean KL (nats) and active units
    (latent dims whose posterior mean varies across windows: Var[mu] > 0.01, Burda et al.)."""
    model.eval()
    x_all = torch.as_tensor(np.asarray(tokens), dtype=torch.long)
    n = len(x_all)
    tf_correct = g_correct = ev_total = tf_ev = g_ev = 0
    kl_sum, nll_sum = 0.0, 0.0
    mus = []
    for i in range(0, n, batch_size):
        x = x_all[i : i + batch_size].to(device)
        mu, logvar = model.encode(x)
        mus.append(mu.cpu())
        kl_sum += float((0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)).sum())
        logits = model.decode_logits(mu, model.shift_inputs(x)).float()
        nll_sum += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1), reduction="sum"))
        pred = logits.argmax(-1)
        events = x != HOLD
        tf_correct += int((pred == x).sum())
        tf_ev += int(((pred == x) & events).sum())
        ev_total += int(events.sum())
        if greedy:
            gen = model.generate(mu, temperature=0.0)
            g_correct += int((gen == x).sum())
            g_ev += int(((gen == x) & events).sum())
    total = n * x_all.shape[1]
    mu_all = torch.cat(mus) if mus else torch.zeros(0, model.cfg.latent_dim)
    active = int((mu_all.var(0) > 0.01).sum()) if len(mu_all) > 1 else 0
    out = {
        "windows": n,
        "teacher_forced_accuracy": tf_correct / total,
        "teacher_forced_event_accuracy": tf_ev / max(ev_total, 1),
        "always_hold_baseline": float((x_all == HOLD).float().mean()) if n else 0.0,
        "nll_per_token": nll_sum / total,
        "kl_nats": kl_sum / max(n, 1),
        "active_units": active,
        "latent_dim": model.cfg.latent_dim,
    }
    if greedy:
        out["greedy_accuracy"] = g_correct / total
        out["greedy_event_accuracy"] = g_ev / max(ev_total, 1)
    return out
