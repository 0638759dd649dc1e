"""What every benchmark section shares: the run's settings (checkpoint, corpus, quick), rows of results, helpers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench.stats import timeit


@dataclass
class Context:
    """Settings a section runs with; plain data so it can be passed to a worker process as JSON."""

    checkpoint: str  # a snapshot of the checkpoint folder, so training that rewrites `best` cannot change it mid-run
    source_checkpoint: str  # what the user named (or the default)
    corpus_dir: str  # the corpus the explorer serves (the full one, or a subset with --corpus-limit)
    full_corpus_dir: str  # the full corpus (for the honest test split and the corpus size)
    cache_dir: str | None  # explorer index cache (None = the app's default .cache/index)
    melody_cache: str | None  # MELODY_CACHE for subprocesses that run app.py (None = default)
    work_dir: str  # scratch space for this run
    quick: bool = False
    corpus_limit: int | None = None  # tunes kept in the served corpus (None = all)

    def reps(self, full: int, quick: int) -> int:
        """Repetitions for a timing: `full` in a normal run, `quick` with --quick."""
        return quick if self.quick else full

    def dump(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> Context:
        return cls(**json.loads(Path(path).read_text()))

    # --- shared loaders (each worker process builds what it needs once) -------------------------------
    def corpus(self):
        from vae.corpus import Corpus

        return Corpus.load(Path(self.corpus_dir))

    def full_corpus(self):
        from vae.corpus import Corpus

        return Corpus.load(Path(self.full_corpus_dir))

    def model(self):
        from vae.inference import TrainedModel

        return TrainedModel.load(self.checkpoint)

    def services(self):
        """LatentSpace over the served corpus with the run's cache (warm after the prepare step)."""
        from explorer.latent.space import LatentSpace

        return LatentSpace.build(self.checkpoint, corpus=self.corpus(), cache_dir=self.cache_dir, progress=False)


@dataclass
class Row:
    """One line of the results table: a measured value, its unit and, where the README sets one, the target."""

    section: str
    metric: str
    value: float | int | str | None
    unit: str = ""
    target: str = ""  # e.g. "<= 40"
    ok: bool | None = None  # None: no target
    note: str = ""


@dataclass
class Section:
    """What one section returns: table rows and the full data for results.json."""

    name: str
    rows: list[Row] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def add(self, metric: str, value, unit: str = "", le: float | None = None, ge: float | None = None,
            note: str = "") -> Row:
        """Add a row; `le`/`ge` give a target (value <= le, value >= ge) and decide ok."""
        target, ok = "", None
        if le is not None:
            target, ok = f"<= {le:g}", value is not None and float(value) <= le
        elif ge is not None:
            target, ok = f">= {ge:g}", value is not None and float(value) >= ge
        if isinstance(value, float | np.floating):
            value = round(float(value), 4)
        row = Row(self.name, metric, value, unit, target, ok, note)
        self.rows.append(row)
        return row

    def to_json(self) -> dict:
        return {"name": self.name, "rows": [asdict(r) for r in self.rows], "data": self.data}


def timed(fn: Callable[[], object], repeat: int, warmup: int = 3) -> tuple[dict, list]:
    """bench.stats.timeit over fn, also returning what the measured (not the warm-up) calls returned."""
    results: list = []
    count = {"n": 0}

    def wrapped():
        out = fn()
        count["n"] += 1
        if count["n"] > warmup:
            results.append(out)

    return timeit(wrapped, repeat=repeat, warmup=warmup), results


def cycle(items) -> Iterator:
    """Endless iterator over items (so every timed call gets a fresh input)."""
    while True:
        yield from items


def stage_medians(timings: list[dict]) -> dict[str, float]:
    """Median and p95 per stage over a list of {stage: ms} dicts."""
    out = {}
    for k in timings[0] if timings else []:
        a = np.array([t[k] for t in timings], dtype=float)
        out[k] = {"median_ms": round(float(np.median(a)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3)}
    return out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS on Linux; the peak elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    import resource
    import sys

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 / 1024 if sys.platform == "darwin" else r / 1024


def serving_threads() -> int:
    """Set torch threads as the app does for serving (explorer.latent.space.default_threads); returns the count."""
    import torch

    from explorer.latent.space import default_threads

    default_threads()
    return torch.get_num_threads()


class Stopwatch:
    """t = Stopwatch(); ...; t.s -> seconds since creation."""

    def __init__(self):
        self.t0 = time.perf_counter()

    @property
    def s(self) -> float:
        return time.perf_counter() - self.t0


def app_env(ctx: Context) -> dict:
    """Environment for subprocesses that behave like the app (OMP passive, one BLAS thread)."""
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    if ctx.melody_cache:
        env["MELODY_CACHE"] = ctx.melody_cache
    return env
