"""Greedy decodes from many server threads gathered into one batch (the GRU decodes 16 melodies in about
twice the time of one: measured in `make bench`, section latency).

Requests are never held back waiting for company: one worker thread decodes whatever is queued when it
becomes free, so a lone user gets their decode at once, and under load every decode that arrived during the
previous batch goes into the next. Greedy decoding of a row does not depend on the other rows of its batch
(tested), so a melody is the same whoever it was batched with.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

MAX_ROWS = 64  # rows decoded at once at most (a steered slider move alone asks for 24)


class DecodeBatcher:
    """decode(z [B, Z], detail) -> tokens [B, T], served by one worker thread that batches concurrent calls.

    The wrapped decode takes (z [N, Z], detail [N, U, C] or None); a call without a detail decodes with zeros
    in a batch where others have one (the same melody: a zero detail changes nothing)."""

    def __init__(self, decode: Callable[[np.ndarray, np.ndarray | None], np.ndarray], max_rows: int = MAX_ROWS):
        self._decode = decode
        self.max_rows = max_rows
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # counters for benchmarks: batches run and rows decoded
        self.rows = 0

    def decode(self, z: np.ndarray, detail: np.ndarray | None = None) -> np.ndarray:
        """Greedy tokens [B, T] for z [B, Z] (detail [U, C] for every row, [B, U, C], or None), decoded together
        with whatever other threads asked for."""
        z = np.atleast_2d(np.asarray(z, np.float32))
        if detail is not None:
            detail = np.broadcast_to(np.asarray(detail, np.float32), (len(z), *np.shape(detail)[-2:]))
        if threading.current_thread() is self._worker:  # called from inside a decode: no deadlock
            return self._decode(z, detail)
        self._start()
        fut: Future = Future()
        self._queue.put((z, detail, fut))
        return fut.result()

    def _start(self) -> None:
        if self._worker is None:
            with self._lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="decode-batcher", daemon=True)
                    self._worker.start()

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            rows = len(jobs[0][0])
            while rows < self.max_rows:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                rows += len(job[0])
            self._serve(jobs)

    def _serve(self, jobs: list) -> None:
        try:
            z = np.concatenate([z for z, _, _ in jobs])
            detail = None
            shaped = [d for _, d, _ in jobs if d is not None]
            if shaped:
                detail = np.concatenate([d if d is not None else np.zeros((len(z_), *shaped[0].shape[1:]), np.float32)
                                         for z_, d, _ in jobs])
            tokens = self._decode(z, detail)
        except BaseException as exc:  # each caller gets the error (a bug, raised in its own thread)
            for _, _, fut in jobs:
                fut.set_exception(exc)
            return
        self.batches += 1
        self.rows += len(tokens)
        start = 0
        for z, _, fut in jobs:
            fut.set_result(tokens[start:start + len(z)])
            start += len(z)
