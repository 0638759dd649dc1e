"""Run a parse of user input in a worker process with a time limit, so no input can hold a server thread.

A parser may be slow on crafted input in ways its own checks do not foresee (music21's ABC handler took
minutes on one 25-byte text). The call runs in a separate process; past the limit that process is killed
and the caller gets a MusicReadError with a sentence. The worker is started on first use (never at import)
and reused, so a parse costs a few milliseconds of transfer after the first.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import threading
from collections.abc import Callable
from typing import TypeVar

from vae.errors import MusicReadError

T = TypeVar("T")
WORKERS = 1  # parses at once (an ABC tune parses in milliseconds; a stuck one is stopped at its limit)
STARTUP_SECONDS = 120  # a new worker imports the parsers (music21) before its first call's clock starts
WARM_MODULES = ("vae.abc_reader", "music21.abcFormat")


def _warm() -> None:
    """Each worker's initializer: import the parsers once, so a call's time limit measures the parse alone."""
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)


class ParseTimeout(MusicReadError):
    """A parse of user input ran past its time limit and was stopped."""

    reason = "too slow to read"


class BoundedPool:
    """A small pool of worker processes whose calls are cut off after a time limit."""

    def __init__(self, workers: int = WORKERS):
        self.workers = workers
        self._lock = threading.Lock()
        self._pool: cf.ProcessPoolExecutor | None = None
        self._closing_registered = False

    def _get(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                              initializer=_warm)
                pool.submit(int).result(timeout=STARTUP_SECONDS)  # returns once the worker has imported the parsers
                self._pool = pool
                if not self._closing_registered:  # shut down before the interpreter tears its modules down
                    atexit.register(self.close)
                    self._closing_registered = True
            return self._pool

    def _kill(self, pool: cf.ProcessPoolExecutor) -> None:
        """Stop a pool whose worker is stuck: kill its processes (a running call cannot be cancelled otherwise)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def call(self, seconds: float, what: str, fn: Callable[..., T], *args) -> T:
        """fn(*args) in a worker (fn and args must pickle); raises ParseTimeout after `seconds`, naming `what`.
        A call that fails because another call's stuck worker was killed is retried once in a fresh pool."""
        for attempt in range(2):
            pool = self._get()
            future = pool.submit(fn, *args)
            try:
                return future.result(timeout=seconds)
            except cf.TimeoutError:
                self._kill(pool)
                raise ParseTimeout(f"Reading {what} took longer than {seconds:g} seconds, so it was stopped: "
                                   "simplify it (a usual meter and note length) and try again.") from None
            except cf.process.BrokenProcessPool:
                self._kill(pool)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_POOL = BoundedPool()


def bounded(seconds: float, what: str, fn: Callable[..., T], *args) -> T:
    """fn(*args) in the shared worker pool, stopped after `seconds` (see BoundedPool.call)."""
    return _POOL.call(seconds, what, fn, *args)
