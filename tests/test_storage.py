"""Rendered files: bounded by size and age, one copy inside the app's private Gradio cache, gone on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from explorer.media.storage import RenderStore


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
from explorer.media.storage import cleanup_on_sigterm, private_gradio_cache
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


def _aged(path: Path, size: int, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_the_upload_cache_is_capped_and_never_touches_the_renders(tmp_path):
    """200 uploads of one 5 MB file added 1 GB to Gradio's cache; now the oldest go beyond the cap, empty
    leftovers and old uploads go, their folders too, and the render folder is left to its own store."""
    from explorer.media.storage import UploadCache

    renders = tmp_path / "renders"
    render = _aged(renders / "melody.wav", 500, 10_000)  # old, but the render store's to manage
    ups = [_aged(tmp_path / f"h{i:03d}" / "song.mid", 100, 300 - i) for i in range(30)]  # oldest first
    empty = _aged(tmp_path / "tmpabc123", 0, 120)
    stale = _aged(tmp_path / "old" / "x.mid", 10, 5_000)
    cache = UploadCache(tmp_path, exclude=renders, max_bytes=1_000, max_age_s=3_600)
    removed = cache.sweep(force=True)
    assert render.exists() and renders.is_dir()
    assert not empty.exists() and not stale.exists() and not stale.parent.exists()
    kept = [p for p in ups if p.exists()]
    assert kept == ups[-len(kept):] and 0 < len(kept) * 100 <= 1_000  # the newest kept, under the cap
    assert all(p.parent.exists() == p.exists() for p in ups)  # emptied folders removed
    assert removed == 2 + len(ups) - len(kept)
    assert cache.size() <= 1_000


def test_a_read_upload_is_removed_but_nothing_outside_the_cache(tmp_path):
    from explorer.media.storage import UploadCache

    cache = UploadCache(tmp_path / "cache", exclude=tmp_path / "cache" / "renders")
    up = _aged(tmp_path / "cache" / "abc" / "song.mid", 10, 0)
    outside = _aged(tmp_path / "mine.mid", 10, 0)
    render = _aged(tmp_path / "cache" / "renders" / "a.wav", 10, 0)
    for p in (up, outside, render, None, ""):
        cache.discard(p)
    assert not up.exists() and not up.parent.exists()
    assert outside.exists() and render.exists()


GIVEN_SCRIPT = """
import os, sys, time
from explorer.media.storage import cleanup_on_sigterm, private_gradio_cache, remove_at_exit
folder = private_gradio_cache()
(folder / "renders").mkdir()
remove_at_exit(folder / "renders")  # as build_ui does
cleanup_on_sigterm()
(folder / "renders" / "a.wav").write_bytes(b"x")
print(folder, flush=True)
time.sleep(60)
"""


def test_renders_are_removed_on_sigterm_in_a_deployer_set_cache(tmp_path):
    given = tmp_path / "deployer-cache"
    env = {**os.environ, "GRADIO_TEMP_DIR": str(given)}
    p = subprocess.Popen([sys.executable, "-c", GIVEN_SCRIPT], stdout=subprocess.PIPE, text=True, env=env,
                         cwd=Path(__file__).resolve().parent.parent)
    assert Path(p.stdout.readline().strip()) == given
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 128 + signal.SIGTERM
    assert given.is_dir() and not (given / "renders").exists()  # the deployer's folder stays, our files go


def test_size_counts_a_file_swept_while_it_is_listed_as_gone(tmp_path, monkeypatch):
    """size() lists the folder, then reads each file's size: a sweep on another thread may remove a file in between
    (the http bench's sampler died of it under load). That file counts 0; the others are counted."""
    import explorer.media.storage as storage

    store = RenderStore(tmp_path / "renders")
    paths = [store.path(f"t{k}", ".wav") for k in range(3)]
    for k, p in enumerate(paths):
        p.write_bytes(b"x" * (100 * (k + 1)))
    listed = list(os.scandir(store.folder))  # listed before ...
    paths[0].unlink()  # ... the sweep removes one
    real = os.scandir
    monkeypatch.setattr(storage.os, "scandir", lambda folder: iter(listed) if Path(folder) == store.folder else real(folder))
    assert store.size() == 200 + 300
