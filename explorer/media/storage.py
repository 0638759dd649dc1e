"""Where rendered files live: one bounded folder inside the app's own Gradio cache, removed on shutdown.

Gradio copies every file an event returns into its cache unless the file is already there, so renders
are written straight into a folder inside the cache (one copy, no hashing). The folder is capped by size
and age (oldest files go first), and an app that made its own private cache (GRADIO_TEMP_DIR) removes it
when it exits or gets SIGTERM, so two apps on one host never serve each other's files and a stopped app
leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

MAX_BYTES = 512 * 2**20  # the render folder never holds more than this
MAX_AGE_S = 3600  # nor files older than this
SWEEP_EVERY_S = 5.0  # at most one sweep per this many seconds (a sweep lists the folder)
SWEEP_TO = 0.8  # a sweep over the cap deletes down to this share of it

_owned: list[Path] = []  # folders this process created and removes on exit
_owned_lock = threading.Lock()


class RenderStore:
    """A folder of rendered files with a size and age cap. path() names a new file; the sweep keeps the caps."""

    def __init__(self, folder: Path | str | None = None, max_bytes: int = MAX_BYTES, max_age_s: float = MAX_AGE_S):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="melody-explorer-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._last = 0.0
        self._lock = threading.Lock()
        self._total = 0  # bytes in the folder at the last sweep
        self._mean = 0.0  # mean file size at the last sweep
        self._named = 0  # files named since the last sweep

    def path(self, stem: str, suffix: str) -> Path:
        """A fresh file name in the folder (the caller writes it)."""
        self._named += 1
        self.sweep()
        return self.folder / f"{stem}-{uuid.uuid4().hex[:10]}{suffix}"

    def _due(self, now: float) -> bool:
        """A sweep is due every SWEEP_EVERY_S, or sooner when the files named since the last one (at the mean
        size then) would take the folder near the cap: a fast stream of renders never overshoots it."""
        if now - self._last >= SWEEP_EVERY_S:
            return True
        if not self._mean:  # no file size seen yet: look again after a few files
            return self._named >= 8
        return self._total + self._named * self._mean > 0.95 * self.max_bytes

    def sweep(self, force: bool = False) -> int:
        """Delete files past the age cap, then (over the size cap) the oldest until the folder holds SWEEP_TO of
        the cap; returns how many were deleted. Runs when due (_due) unless forced, never twice at once."""
        now = time.time()
        if not force and not self._due(now):
            return 0
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            self._last = now
            files = []
            for entry in os.scandir(self.folder):
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                if entry.is_file():
                    files.append((st.st_mtime, st.st_size, entry.path))
            files.sort()
            total = sum(f[1] for f in files)
            removed = 0
            # Over the cap, go down to SWEEP_TO of it: the writes until the next sweep (a few seconds of
            # renders) then still fit under the cap.
            goal = self.max_bytes if total <= 0.95 * self.max_bytes else int(self.max_bytes * SWEEP_TO)
            for mtime, size, path in files:
                if now - mtime <= self.max_age_s and total <= goal:
                    break
                Path(path).unlink(missing_ok=True)
                total -= size
                removed += 1
            kept = len(files) - removed
            self._total, self._named = total, 0
            self._mean = total / kept if kept else self._mean
            return removed
        finally:
            self._lock.release()

    def size(self) -> int:
        """Bytes in the folder now; a file removed while it is listed (a sweep on another thread) counts 0."""
        total = 0
        for entry in os.scandir(self.folder):
            try:
                if entry.is_file():
                    total += entry.stat().st_size
            except FileNotFoundError:
                continue
        return total


UPLOAD_MAX_BYTES = 256 * 2**20  # uploads kept in the Gradio cache (5 MB each at most) never take more than this
UPLOAD_MAX_AGE_S = 900  # an upload is read within seconds of arriving; what a script left behind goes after this
EMPTY_MAX_AGE_S = 60  # empty files (Gradio's leftover tmp* files) go after this


class UploadCache:
    """The uploads in the app's Gradio cache (every file under it but the render folder), capped by size and
    age like the render store: a script uploading the same 5 MB file 200 times no longer fills the disk.
    Uploads the app has read are removed at once (discard)."""

    def __init__(self, root: Path | str, exclude: Path | str | None = None, max_bytes: int = UPLOAD_MAX_BYTES,
                 max_age_s: float = UPLOAD_MAX_AGE_S):
        self.root = Path(root)
        self.exclude = Path(exclude) if exclude else None
        self.max_bytes, self.max_age_s = max_bytes, max_age_s
        self._lock = threading.Lock()
        self._last = 0.0

    def _files(self) -> list[tuple[float, int, str]]:
        out = []
        for folder, dirs, names in os.walk(self.root):
            if self.exclude is not None:
                dirs[:] = [d for d in dirs if Path(folder, d) != self.exclude]
            for name in names:
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                out.append((st.st_mtime, st.st_size, path))
        return sorted(out)

    def size(self) -> int:
        return sum(f[1] for f in self._files())

    def discard(self, path: str | Path | None) -> None:
        """Remove an upload the app has read (and its folder when that is left empty); paths outside the cache
        are left alone."""
        if not path:
            return
        p = Path(path).resolve()
        root = self.root.resolve()
        if root not in p.parents or (self.exclude is not None and self.exclude.resolve() in p.parents):
            return
        p.unlink(missing_ok=True)
        if p.parent != root:
            with contextlib.suppress(OSError):  # not empty: another upload of the same content is there
                p.parent.rmdir()

    def sweep(self, force: bool = False) -> int:
        """Delete uploads past the age cap, empty leftovers, then the oldest over the size cap (down to SWEEP_TO
        of it), and the folders left empty; returns how many files were deleted. At most once per SWEEP_EVERY_S
        unless forced."""
        now = time.time()
        if not force and now - self._last < SWEEP_EVERY_S:
            return 0
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            self._last = now
            files = self._files()
            total = sum(f[1] for f in files)
            goal = self.max_bytes if total <= self.max_bytes else int(self.max_bytes * SWEEP_TO)
            removed = 0
            for mtime, size, path in files:
                age = now - mtime
                if age > self.max_age_s or total > goal or (size == 0 and age > EMPTY_MAX_AGE_S):
                    Path(path).unlink(missing_ok=True)
                    total -= size
                    removed += 1
            for folder, _, _ in sorted(os.walk(self.root), key=lambda w: -len(w[0])):
                f = Path(folder)
                if f != self.root and not (self.exclude is not None and (f == self.exclude or self.exclude in f.parents)):
                    with contextlib.suppress(OSError):
                        os.rmdir(folder)  # only when empty
            return removed
        finally:
            self._lock.release()


def private_gradio_cache() -> Path:
    """This app's own Gradio cache: GRADIO_TEMP_DIR when the deployer set it, else a new private folder
    (set as GRADIO_TEMP_DIR for this process, removed at exit). Call before the Blocks are built."""
    given = os.environ.get("GRADIO_TEMP_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    folder = Path(tempfile.mkdtemp(prefix="melody-explorer-gradio-"))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    remove_at_exit(folder)
    return folder


def remove_at_exit(folder: Path) -> None:
    """Remove `folder` when the process exits normally."""
    with _owned_lock:
        if not _owned:
            atexit.register(cleanup)
        _owned.append(Path(folder))


def cleanup() -> None:
    """Remove every folder this process owns (idempotent)."""
    with _owned_lock:
        for folder in _owned:
            shutil.rmtree(folder, ignore_errors=True)
        _owned.clear()


def cleanup_on_sigterm() -> None:
    """On SIGTERM (a container stop, a Space restart) remove the owned folders, then exit as SIGTERM would.
    Only from the main thread (Python's rule for signal handlers)."""
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        cleanup()
        if callable(previous) and previous not in (signal.SIG_DFL, signal.SIG_IGN):
            previous(signum, frame)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
