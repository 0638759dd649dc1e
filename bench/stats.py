"""Timing helpers: median and p95 after warm-up, and the machine facts every result carries."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np


def timeit(fn: Callable[[], object], repeat: int = 30, warmup: int = 3) -> dict[str, float]:
    """Run fn `warmup` times unmeasured, then `repeat` times; milliseconds median/p95/mean/min."""
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    a = np.asarray(ms)
    return {"median_ms": round(float(np.median(a)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3),
            "mean_ms": round(float(a.mean()), 3), "min_ms": round(float(a.min()), 3), "n": repeat}


def machine() -> dict:
    import torch

    return {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "machine": platform.machine(),
            "python": platform.python_version(), "torch": torch.__version__,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}
