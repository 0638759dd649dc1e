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
import uuid

import numpy as np


def payloads(z: np.ndarray, n: int, seed: int = 0) -> list[str]:
    """n JSON latents: rows of z (corpus means) plus N(0, 0.3) noise, so no two calls repeat."""
    rng = np.random.default_rng(seed)
    rows = z[rng.integers(0, len(z), n)] + rng.normal(0, 0.3, (n, z.shape[1]))
    return [json.dumps({"z": [round(float(v), 4) for v in r]}) for r in rows]


def connection(url: str):
    """A kept-alive HTTP connection to the server at `url`."""
    import http.client
    from urllib.parse import urlparse

    u = urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


class RawClient:
    """A light client of Gradio's own REST API (POST /gradio_api/call/NAME, then read the event's result
    stream), over one kept-alive connection: what curl users do, at a fraction of gradio_client's CPU."""

    def __init__(self, url: str, fresh: bool = False):
        self.conn = connection(url)
        self.session = uuid.uuid4().hex  # one session per user, as a browser tab or a gradio_client Client has
        self.fresh = fresh  # no session hash: each call is a new Gradio session (as curl users' calls are)

    def predict(self, *args, api_name: str) -> list:
        name = api_name.lstrip("/")
        body = {"data": list(args), **({} if self.fresh else {"session_hash": self.session})}
        self.conn.request("POST", f"/gradio_api/call/{name}", json.dumps(body), {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {body[:200]!r}")
        event = json.loads(body)["event_id"]
        self.conn.request("GET", f"/gradio_api/call/{name}/{event}")
        r = self.conn.getresponse()
        text = r.read().decode()
        kind = None
        for line in text.splitlines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                if kind == "error":
                    raise RuntimeError(f"error event: {line[5:200]}")
                return json.loads(line[5:])
        raise RuntimeError(f"no result in the event stream: {text[:200]!r}")


class PlainClient:
    """POSTs the JSON latent to one of the app's plain HTTP routes (explorer.serve.routes), kept-alive."""

    def __init__(self, url: str):
        self.conn = connection(url)

    def predict(self, payload: str, *args, api_name: str) -> bytes:
        self.conn.request("POST", api_name, payload, {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {body[:200]!r}")
        return body


def make_client(url: str, kind: str):
    if kind in ("raw", "raw-fresh"):
        return RawClient(url, fresh=kind == "raw-fresh")
    if kind == "plain":
        return PlainClient(url)
    from gradio_client import Client

    return Client(url, download_files=False, verbose=False, analytics_enabled=False)


def run_load(url: str, users: int, calls: int | None, seconds: float | None, z: np.ndarray,
             api_name: str = "/decode", client: str = "gradio", echo: bool = False) -> dict:
    """`users` clients start together; each makes `calls` calls (or calls until `seconds` have passed).
    client: "gradio" (gradio_client, one per user), "raw" (RawClient) or "plain" (PlainClient, for the
    /v1 routes). echo: send the payload alone (a bare echo app's endpoint), not /decode's five arguments."""

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
            clients[u] = make_client(url, client)
        except Exception as exc:  # a client that cannot connect is an error too
            with lock:
                errors.append(f"connect: {exc!r}"[:200])
        ready.wait()
        k = 0
        while clients[u] is not None and (k < calls if calls else time.perf_counter() < stop[0]):
            t0 = time.perf_counter()
            try:
                payload = todo[(u * (calls or 400) + k) % len(todo)]
                args = () if echo else (0.0, 0, 120, 0)
                clients[u].predict(payload, *args, api_name=api_name)
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
    return {"client": client, "users": users, "calls_per_user": calls, "ok": len(lat), "errors": len(errors),
            "error_samples": errors[:5], "median_ms": round(float(np.median(a)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1),
            "wall_s": round(wall, 2), "calls_per_s": round(len(lat) / wall, 2) if wall else 0.0,
            "steady_calls_per_s": round(len(mid) / (0.8 * wall), 2) if wall else 0.0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("--latents", help=".npy file of [N, Z] latents to perturb (default: N(0, 1) latents of the "
                                     "size the app's /v1/health reports)")
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--calls", type=int, help="calls per user (default: until --seconds)")
    p.add_argument("--seconds", type=float)
    p.add_argument("--api-name", default="/decode")
    p.add_argument("--client", choices=("gradio", "raw", "raw-fresh", "plain"), default="gradio")
    p.add_argument("--echo", action="store_true", help="the endpoint takes the payload alone")
    a = p.parse_args()
    if not a.calls and not a.seconds:
        p.error("give --calls or --seconds")
    if a.latents:
        z = np.load(a.latents)
    else:
        import urllib.request

        with urllib.request.urlopen(a.url.rstrip("/") + "/v1/health", timeout=30) as r:
            dim = json.loads(r.read())["latent_dim"]
        z = np.random.default_rng(0).standard_normal((2000, dim)).astype(np.float32)
    print(json.dumps(run_load(a.url, a.users, a.calls, a.seconds, z, a.api_name, a.client, a.echo)))


if __name__ == "__main__":
    main()
