"""A load generator in its own process: `python -m bench.load URL --users 16 --calls 10 [--seconds S]`.

Each user is a thread with its own gradio_client Client calling `/decode` back to back; the payloads are
latents near corpus melodies, read from a .npy file. Prints one JSON object (latencies, calls/s, errors).
Run beside the server, not inside it, so the clients' own work does not share the server's interpreter
(and its GIL), and the server's memory is its own.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import numpy as np


def payloads(z: np.ndarray, n: int, seed: int = 0) -> list[str]:
    """n JSON latents: rows of z (corpus means) plus N(0, 0.3) noise, so no two calls repeat."""
    rng = np.random.default_rng(seed)
    rows = z[rng.integers(0, len(z), n)] + rng.normal(0, 0.3, (n, z.shape[1]))
    return [json.dumps({"z": [round(float(v), 4) for v in r]}) for r in rows]


def run_load(url: str, users: int, calls: int | None, seconds: float | None, z: np.ndarray,
             api_name: str = "/decode") -> dict:
    """`users` clients start together; each makes `calls` calls (or calls until `seconds` have passed)."""
    from gradio_client import Client

    todo = payloads(z, users * (calls or 400))
    lock = threading.Lock()
    lat: list[float] = []
    done_at: list[float] = []
    errors: list[str] = []
    clients: list = [None] * users
    ready = threading.Barrier(users + 1)
    stop = [float("inf")]

    def user(u: int) -> None:
        try:
            clients[u] = Client(url, download_files=False, verbose=False, analytics_enabled=False)
        except Exception as exc:  # a client that cannot connect is an error too
            with lock:
                errors.append(f"connect: {exc!r}"[:200])
        ready.wait()
        k = 0
        while clients[u] is not None and (k < calls if calls else time.perf_counter() < stop[0]):
            t0 = time.perf_counter()
            try:
                clients[u].predict(todo[(u * (calls or 400) + k) % len(todo)], 0.0, 0, 120, 0, api_name=api_name)
                with lock:
                    lat.append((time.perf_counter() - t0) * 1000)
                    done_at.append(time.perf_counter())
            except Exception as exc:
                with lock:
                    errors.append(repr(exc)[:200])
            k += 1

    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    for th in threads:
        th.start()
    ready.wait()
    t0 = time.perf_counter()
    if seconds:
        stop[0] = t0 + seconds
    for th in threads:
        th.join(timeout=900)
    wall = time.perf_counter() - t0
    a = np.asarray(lat) if lat else np.zeros(1)
    # Steady state: calls completed in the middle 80% of the run (start-up and drain excluded).
    mid = [t for t in done_at if t0 + 0.1 * wall <= t <= t0 + 0.9 * wall]
    return {"users": users, "calls_per_user": calls, "ok": len(lat), "errors": len(errors),
            "error_samples": errors[:5], "median_ms": round(float(np.median(a)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1),
            "wall_s": round(wall, 2), "calls_per_s": round(len(lat) / wall, 2) if wall else 0.0,
            "steady_calls_per_s": round(len(mid) / (0.8 * wall), 2) if wall else 0.0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("--latents", required=True, help=".npy file of [N, Z] latents to perturb")
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--calls", type=int, help="calls per user (default: until --seconds)")
    p.add_argument("--seconds", type=float)
    p.add_argument("--api-name", default="/decode")
    a = p.parse_args()
    if not a.calls and not a.seconds:
        p.error("give --calls or --seconds")
    print(json.dumps(run_load(a.url, a.users, a.calls, a.seconds, np.load(a.latents), a.api_name)))


if __name__ == "__main__":
    main()
