"""Rendered files: bounded by size and age, one copy inside the app's private Gradio cache, gone on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from explorer.storage import RenderStore


def test_size_cap_removes_the_oldest_first(tmp_path):
    store = RenderStore(tmp_path / "r", max_bytes=10_000, max_age_s=3600)
    paths = []
    for i in range(8):
        p = store.path("melody", ".wav")
        p.write_bytes(b"x" * 3000)
        os.utime(p, (time.time() - 100 + i, time.time() - 100 + i))  # distinct ages, oldest first
        paths.append(p)
    removed = store.sweep(force=True)  # 24 kB over a 10 kB cap: down to 80% of it, oldest first
    assert removed == 6 and store.size() <= 8_000
    assert [p.exists() for p in paths] == [False] * 6 + [True] * 2


def test_age_cap(tmp_path):
    store = RenderStore(tmp_path / "r", max_bytes=10**9, max_age_s=60)
    old, new = store.path("a", ".mid"), store.path("b", ".mid")
    old.write_bytes(b"1")
    new.write_bytes(b"2")
    os.utime(old, (time.time() - 120, time.time() - 120))
    store.sweep(force=True)
    assert not old.exists() and new.exists()
    assert store.sweep() == 0  # a second sweep right after is skipped (rate limit)


SCRIPT = """
import os, sys, time
from explorer.storage import cleanup_on_sigterm, private_gradio_cache
folder = private_gradio_cache()
cleanup_on_sigterm()
(folder / "renders").mkdir()
(folder / "renders" / "a.wav").write_bytes(b"x")
print(folder, os.environ["GRADIO_TEMP_DIR"], flush=True)
time.sleep(60)
"""


def test_a_private_cache_is_removed_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    p = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, env=env,
                         cwd=Path(__file__).resolve().parent.parent)
    folder, env_dir = p.stdout.readline().split()
    assert folder == env_dir and Path(folder, "renders", "a.wav").exists()
    assert "melody-explorer-gradio-" in folder
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 128 + signal.SIGTERM
    assert not Path(folder).exists()



def test_a_fast_stream_of_renders_never_overshoots_the_cap(tmp_path):
    """Hundreds of files named and written within one sweep interval: the folder stays under its cap."""
    store = RenderStore(tmp_path / "r", max_bytes=2_000_000)
    most = 0
    for _ in range(400):  # 400 x 50 kB = 20 MB, ten times the cap, in well under SWEEP_EVERY_S
        store.path("melody", ".wav").write_bytes(b"x" * 50_000)
        most = max(most, store.size())
    assert most <= 2_000_000 + 50_000  # at most one file past the cap, between a write and the next sweep
    assert store.size() > 1_000_000  # and it did not throw everything away
