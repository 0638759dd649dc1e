"""Training on several processes with PyTorch's own engine: `torchrun` + DistributedDataParallel.

    torchrun --nproc_per_node=N -m vae train ...              (one machine: N GPUs, or N CPU processes)
    torchrun --nnodes=M --nproc_per_node=N --rdzv_backend=c10d --rdzv_endpoint=HOST:PORT -m vae train ...

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them (plain `python -m vae train`) everything here is a
no-op for one process. Every rank reads the same cached corpus and takes its own share of each global batch
(`shard`); gradients are averaged by DDP, so all ranks hold the same weights after every step; only rank 0
validates, logs and writes checkpoints, and every rank resumes from the same `last` checkpoint.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """Where this process sits: rank (0 = the one that writes), world (processes in all), local rank (its GPU)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def setup(device: str) -> tuple[Ranks, str]:
    """Join the process group torchrun started (gloo on CPU, NCCL on CUDA) -> (ranks, this rank's device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks(), device
    ranks = Ranks(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if device.startswith("cuda"):
        device = f"cuda:{ranks.local_rank}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return ranks, device


def wrap(model: torch.nn.Module, ranks: Ranks, device: str) -> torch.nn.Module:
    """The model as the training step calls it: DDP-wrapped (gradients averaged across ranks) when distributed."""
    if not ranks.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[torch.device(device).index] if device.startswith("cuda") else None)


def shard(batch: torch.Tensor | np.ndarray, ranks: Ranks):
    """This rank's share of a global batch of indices: every world-th, from its rank on (disjoint, complete)."""
    return batch[ranks.rank :: ranks.world]


def any_rank(flag: bool, ranks: Ranks) -> bool:
    """Whether any rank says so (e.g. its time budget ran out), so all ranks stop at the same step."""
    if not ranks.active:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter's bytes, in order: equal on every rank when the ranks agree."""
    h = hashlib.sha256()
    for _, p in sorted(model.state_dict().items()):
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def barrier(ranks: Ranks) -> None:
    if ranks.active:
        dist.barrier()


def finish(ranks: Ranks) -> None:
    if ranks.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
