"""Section `http` (with `memory`): the real app launched in this process, called through gradio_client.

Timings include gradio's queue and the client's protocol overhead (about 75-80 ms on loopback, measured with a bare echo app);
result files are not downloaded. Peak RSS of this process is the memory of a served app.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

from bench.context import Context, Section, Stopwatch, cycle, free_port, peak_rss_mb, rss_mb, timed
from bench.song import make_song

USERS = 16


def run(ctx: Context) -> Section:
    from gradio_client import Client, handle_file

    from explorer.ui import build_ui, launch

    sec = Section("http")
    t = Stopwatch()
    rss_start = peak_rss_mb()
    services = ctx.services()
    demo = build_ui(services)  # as the app: torch threads 1, renders in its private Gradio cache
    h = demo.handlers
    port = free_port()
    launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    rss_built = peak_rss_mb()
    try:
        client = Client(url, download_files=False, verbose=False, analytics_enabled=False)
        rng = np.random.default_rng(0)
        mu = services.index.mu
        zs = cycle([json.dumps({"z": [round(float(v), 4) for v in mu[i] + rng.normal(0, 0.3, mu.shape[1])]})
                    for i in rng.choice(len(mu), 97, replace=False)])

        def decode():
            return client.predict(next(zs), 0.0, 0, 120, 0, api_name="/decode")

        n = ctx.reps(50, 10)
        stats, _ = timed(decode, n, warmup=3)
        local, _ = timed(lambda: local_decode(h, next(zs)), n, warmup=3)
        sec.data["decode"] = {**stats, "same_work_in_process": local}
        sec.add("/decode p50 (z -> melody, WAV, MIDI)", stats["median_ms"], "ms", le=150, note=f"n={n}")
        sec.add("/decode p95", stats["p95_ms"], "ms")
        sec.add("  same work in-process, no HTTP p50", local["median_ms"], "ms",
                note=f"HTTP + queue + client overhead ~{stats['median_ms'] - local['median_ms']:.0f} ms")

        song = make_song(Path(ctx.work_dir) / "http song.mid")
        n = ctx.reps(30, 6)
        stats, outs = timed(lambda: client.predict(handle_file(str(song)), api_name="/encode"), n, warmup=2)
        sec.data["encode"] = {**stats, "candidate": outs[0].get("candidate") if isinstance(outs[0], dict) else None}
        sec.add("/encode p50 (upload multi-track MIDI -> z, map)", stats["median_ms"], "ms", note=f"n={n}")
        sec.add("/encode p95", stats["p95_ms"], "ms")

        n = ctx.reps(50, 10)
        stats, _ = timed(lambda: client.predict(next(zs), None, 10, api_name="/neighbours"), n, warmup=3)
        sec.data["neighbours"] = stats
        sec.add("/neighbours p50 (k=10)", stats["median_ms"], "ms", note=f"n={n}")
        sec.add("/neighbours p95", stats["p95_ms"], "ms")

        calls = ctx.reps(10, 3)
        load = concurrent_decodes(url, USERS, calls, list(zs.__next__() for _ in range(USERS * calls)))
        sec.data["concurrent"] = load
        sec.add(f"{USERS} users x {calls} /decode: errors", load["errors"], le=0)
        sec.add(f"{USERS} users /decode p95", load["p95_ms"], "ms", le=1000,
                note=f"p50 {load['median_ms']:.0f} ms, {load['calls_per_s']:.1f} calls/s")
        # Sustained load: 16 users for a while, memory and disk sampled as it runs (do they level off?)
        seconds = 30 if ctx.quick else 150
        sustained = sustained_load(url, USERS, seconds, zs, h)
        sec.data["sustained"] = sustained
        sec.add(f"{USERS} users for {seconds} s: errors", sustained["errors"], le=0,
                note=f"{sustained['calls']} calls, {sustained['calls_per_s']:.1f} calls/s")
        sec.add("  RSS growth, second half of the run", sustained["rss_slope_mb_per_min_second_half"], "MB/min",
                note=f"RSS {sustained['rss_mb'][0]:.0f} -> {sustained['rss_mb'][-1]:.0f} MB")
        sec.add("  rendered files on disk at the end", sustained["disk_mb_end"], "MB",
                note=f"cap {h.store.max_bytes / 2**20:.0f} MB")
    finally:
        demo.close()
    rss_end = peak_rss_mb()
    sec.data["memory"] = {"peak_rss_mb_before_build": round(rss_start, 1), "peak_rss_mb_app_built": round(rss_built, 1),
                          "peak_rss_mb_after_load": round(rss_end, 1),
                          "note": "peak RSS (ru_maxrss) of the process holding services + handlers + UI; "
                                  "after_load also holds 17 gradio_client clients"}
    mem = Section("memory")
    mem.add("peak RSS: services + handlers + UI launched", round(rss_built, 1), "MB", note="before any request")
    mem.add("peak RSS after the HTTP load test", round(rss_end, 1), "MB", note="includes the test's own clients")
    sec.rows.extend(mem.rows)
    sec.data["seconds"] = round(t.s, 1)
    return sec


def local_decode(h, text: str):
    """The /decode endpoint's own function (explorer.api.decode), called directly without HTTP."""
    from explorer import api

    return api.decode(h, text, 0.0, 0, 120, 0)


def concurrent_decodes(url: str, users: int, calls: int, payloads: list[str]) -> dict:
    """`users` threads, each with its own Client, start together and call /decode `calls` times each."""
    from gradio_client import Client

    clients = [None] * users
    errors: list[str] = []
    lat: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(users + 1)

    def user(u: int):
        try:
            clients[u] = Client(url, download_files=False, verbose=False, analytics_enabled=False)
        except Exception as exc:  # a client that cannot even connect is an error too
            with lock:
                errors.append(f"connect: {exc!r}")
        ready.wait()
        for k in range(calls):
            if clients[u] is None:
                break
            t0 = time.perf_counter()
            try:
                clients[u].predict(payloads[u * calls + k], 0.0, 0, 120, 0, api_name="/decode")
                with lock:
                    lat.append((time.perf_counter() - t0) * 1000)
            except Exception as exc:
                with lock:
                    errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    for th in threads:
        th.start()
    ready.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join(timeout=600)
    wall = time.perf_counter() - t0
    a = np.asarray(lat) if lat else np.zeros(1)
    return {"users": users, "calls_per_user": calls, "ok": len(lat), "errors": len(errors),
            "error_samples": errors[:5], "median_ms": round(float(np.median(a)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1),
            "wall_s": round(wall, 2), "calls_per_s": round(len(lat) / wall, 2) if wall else 0.0}


def sustained_load(url: str, users: int, seconds: float, payloads, h) -> dict:
    """`users` clients calling /decode back to back for `seconds`; RSS (MB) and the render folder's size
    sampled every 5 s. rss_slope_mb_per_min_second_half: least-squares slope over the second half."""
    from gradio_client import Client

    stop = time.perf_counter() + seconds
    lock = threading.Lock()
    counts = {"calls": 0, "errors": 0}

    def user():
        c = Client(url, download_files=False, verbose=False, analytics_enabled=False)
        while time.perf_counter() < stop:
            with lock:
                p = next(payloads)
            try:
                c.predict(p, 0.0, 0, 120, 0, api_name="/decode")
                with lock:
                    counts["calls"] += 1
            except Exception:
                with lock:
                    counts["errors"] += 1

    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    times, rss, disk = [], [], []
    while time.perf_counter() < stop:
        times.append(time.perf_counter() - t0)
        rss.append(rss_mb())
        disk.append(h.store.size() / 2**20)
        time.sleep(5)
    for th in threads:
        th.join(timeout=120)
    wall = time.perf_counter() - t0
    half = len(times) // 2
    slope = float(np.polyfit(np.array(times[half:]) / 60, rss[half:], 1)[0]) if len(times) - half >= 2 else float("nan")
    return {"users": users, "seconds": round(wall, 1), "calls": counts["calls"], "errors": counts["errors"],
            "calls_per_s": round(counts["calls"] / wall, 2), "rss_mb": [round(r, 1) for r in rss],
            "disk_mb": [round(d, 1) for d in disk], "rss_slope_mb_per_min_second_half": round(slope, 1),
            "disk_mb_end": round(h.store.size() / 2**20, 1)}
