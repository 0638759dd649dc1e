"""`python -m bench.midi_scale --files 10000 [--workers N]`: building a corpus from a large MIDI collection.

Writes N varied multi-track songs (bench.pop, each with its own seed: 16-48 bars of 4/4, a sung line among a
countermelody, piano, bass and drums, track names removed), then times `python -m vae corpus build --midi DIR`
in its own process: files/s, windows, the peak memory of the build with its workers, and a resumed build after
an interruption (Ctrl-C half way, then run again; --skip-resume leaves it out). The songs are written over
--workers processes and kept in --folder for reruns. Prints one line and writes bench/midi_scale-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _write_range(args: tuple[str, int, int]) -> int:
    from bench.pop import make_pop_song

    folder, start, stop = args
    for i in range(start, stop):
        path = Path(folder) / f"song{i:06d}.mid"
        if not path.exists():
            make_pop_song(path, seed=100_000 + i, names="none", bars=16 + 8 * (i % 5))
    return stop - start


def write_songs(folder: Path, n: int, workers: int = 1) -> float:
    """Write songs 0..n-1 into folder (those already there are kept), over `workers` processes; seconds taken."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    chunks = [(str(folder), i, min(n, i + 500)) for i in range(0, n, 500)]
    with ProcessPoolExecutor(max(1, workers)) as pool, tqdm(total=n, unit="song", desc="writing songs",
                                                            mininterval=5) as bar:
        for done in pool.map(_write_range, chunks):
            bar.update(done)
    return time.perf_counter() - t0


def build(midi: Path, cache: Path, workers: int, kill_after: float | None = None) -> dict:
    """Run the corpus build in a child process (its own process group); the peak memory of it and its workers is
    polled from /proc every half second. With kill_after, Ctrl-C (SIGINT) is sent after that many seconds."""
    cmd = [sys.executable, "-m", "vae", "corpus", "build", "--midi", str(midi), "--cache-dir", str(cache),
           "--workers", str(workers)]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    # Its output goes to a file: a pipe nobody reads until the end fills up (64 kB of progress bars at 100k
    # files) and then blocks the build.
    log = tempfile.NamedTemporaryFile("w+", prefix="corpus-build-", suffix=".log", delete=False)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        if kill_after is not None and time.perf_counter() - t0 > kill_after:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(60)
            log.close()
            Path(log.name).unlink()
            return {"killed_after_s": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak, 1)}
        time.sleep(0.5)
    log.close()
    out = Path(log.name).read_text(errors="replace")
    Path(log.name).unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"corpus build failed ({proc.returncode}):\n{out[-3000:]}")
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak, 1), "log_tail": out[-600:]}


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Linux /proc)."""
    total = 0
    try:
        kids = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        kids = [str(pid)]
    for k in kids or [str(pid)]:
        try:
            for line in Path(f"/proc/{k}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--folder", type=Path, help="where the songs are written (kept for reruns)")
    p.add_argument("--skip-resume", action="store_true", help="time the full build only (no interrupted build)")
    a = p.parse_args()
    folder = a.folder or Path(tempfile.gettempdir()) / f"melody-midi-{a.files}"
    gen = write_songs(folder, a.files, a.workers)
    cache = Path(tempfile.mkdtemp(prefix="midi-scale-"))
    full = build(folder, cache / "full", a.workers)
    from vae.corpus import Corpus

    corpus = Corpus.load(next((cache / "full").rglob("windows.npz")).parent)
    if a.skip_resume:
        killed, parts, resumed = {"killed_after_s": None}, None, {"seconds": None}
    else:
        killed = build(folder, cache / "resume", a.workers, kill_after=full["seconds"] / 2)
        parts = len(list((cache / "resume").rglob("part-*.npz")))
        resumed = build(folder, cache / "resume", a.workers)
    rows = {"files": a.files, "workers": a.workers, "write_songs_s": round(gen, 1), "build": full,
            "files_per_s": round(a.files / full["seconds"], 1), "tunes": len(corpus.tunes), "windows": len(corpus),
            "failed": corpus.report["tunes_failed"], "interrupted": {**killed, "parts_kept": parts},
            "resumed_s": resumed["seconds"], "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    out = REPO / "bench" / f"midi_scale-{a.files}.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"{a.files:,} MIDI files, {a.workers} workers: built in {full['seconds']} s ({rows['files_per_s']} files/s), "
          f"{len(corpus):,} windows from {len(corpus.tunes):,} tunes, {rows['failed']} failed; peak memory "
          f"{full['peak_rss_mb']:.0f} MB (build and workers)." + (
              "" if a.skip_resume else f" Interrupted at {killed['killed_after_s']} s with {parts} parts kept; the "
                                       f"resumed build took {resumed['seconds']} s.") + f" -> {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
