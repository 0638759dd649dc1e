"""Attribute regularisation (AR-VAE, Pati & Lerch 2020): latent dimension k orders a batch as attribute k does."""

from __future__ import annotations

import torch


def attribute_loss(mu: torch.Tensor, attrs: torch.Tensor, scale: float = 10.0) -> torch.Tensor:
    """Per-attribute ordering loss. mu [B, K] (the regularised dims), attrs [B, K] (NaN = undefined) -> [K].

    For every pair (i, j) of the batch: |tanh(scale * (mu_ik - mu_jk)) - sign(a_ik - a_jk)|, averaged over
    the pairs where both attribute values are defined. 0 when dim k sorts the batch exactly as attribute k
    (ties in the attribute ask for equal z); 2 when it sorts it backwards.
    """
    if mu.shape != attrs.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and attributes {tuple(attrs.shape)} must have the same shape")
    ok = torch.isfinite(attrs)
    a = torch.where(ok, attrs, torch.zeros_like(attrs))
    dz = mu[:, None, :] - mu[None, :, :]  # [B, B, K]
    da = torch.sign(a[:, None, :] - a[None, :, :])
    pair_ok = (ok[:, None, :] & ok[None, :, :]).float()
    off_diag = 1.0 - torch.eye(mu.shape[0], device=mu.device)[:, :, None]
    w = pair_ok * off_diag
    err = (torch.tanh(scale * dz) - da).abs() * w
    return err.sum((0, 1)) / w.sum((0, 1)).clamp(min=1.0)
