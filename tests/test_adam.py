"""vae.fidelity.Adam: torch.optim.Adam's numbers step for step, on a real fit's loss shape (a quadratic plus noise)."""

from __future__ import annotations

import torch

from vae.fidelity import Adam


def test_adam_steps_are_torch_adams():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(3, 8, generator=g)
    a = torch.randn(3, 8, generator=g, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    ours, theirs = Adam(a, lr=0.08), torch.optim.Adam([b], lr=0.08)
    for _ in range(40):
        for p in (a, b):
            (p.grad,) = torch.autograd.grad(((p - target) ** 2).sum() + p.abs().sum(), [p])
        ours.step()
        theirs.step()
        assert torch.equal(a, b)
    assert not torch.equal(a, target.new_zeros(3, 8))
