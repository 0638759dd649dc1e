"""A server process keeps glibc's malloc to a few arenas (explorer.serve.process): many threads allocating at once
no longer spread memory over an arena each."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = r"""
import ctypes, os, sys, tempfile, threading
import numpy as np
from explorer.serve.process import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas()
barrier = threading.Barrier(16)
def work():
    barrier.wait()
    for k in range(300):
        a = np.ones(20_000 + 37 * k)  # sizes below the mmap threshold: they come from an arena
        a.sum()
threads = [threading.Thread(target=work) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
path = tempfile.mktemp()
fp = libc.fopen(path.encode(), b"w")
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.malloc_info(0, fp)
libc.fclose.argtypes = [ctypes.c_void_p]
libc.fclose(fp)
print(open(path).read().count("<heap nr="))
"""


def arenas(mode: str) -> int:
    env = {k: v for k, v in __import__("os").environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas are a Linux matter")
def test_sixteen_threads_allocating_at_once_share_two_arenas():
    assert arenas("limit") <= 2
    assert arenas("default") > 2  # without the cap, contending threads got arenas of their own


def test_a_deployers_own_setting_wins(monkeypatch):
    from explorer.serve.process import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
