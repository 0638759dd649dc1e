"""Section `scale`: k-NN growth (corpus, 10k..1M latents), FAISS at 1M and 10M, corpus build, corpus encoding,
start-up to a served page."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from bench.context import Context, Section, Stopwatch, app_env, free_port, timed

SIZES = (10_000, 100_000, 1_000_000)
REPO = Path(__file__).resolve().parent.parent


def run(ctx: Context) -> Section:
    sec = Section("scale")
    t = Stopwatch()
    neighbours(ctx, sec)
    approx_neighbours(ctx, sec)
    big_map(ctx, sec)
    index_build(ctx, sec)
    if ctx.quick:
        sec.data["corpus_build"] = "skipped with --quick"
    else:
        corpus_build(ctx, sec)
    startup(ctx, sec)
    sec.data["seconds"] = round(t.s, 1)
    return sec


def _knn_stats(index, queries: np.ndarray, repeat: int, **kw) -> dict:
    it = iter(np.resize(np.arange(len(queries)), repeat + 10))
    stats, _ = timed(lambda: index.query(queries[next(it)], 10, **kw), repeat, warmup=3)
    return stats


def neighbours(ctx: Context, sec: Section) -> None:
    """ms per 10-NN query (one z at a time, as the app asks) over the corpus and over synthetic latents."""
    from explorer.latent.encoded import load_or_build_index
    from explorer.latent.neighbours import NeighbourIndex, synthetic_latents

    model = ctx.model()
    corpus = ctx.corpus()
    index = load_or_build_index(model, corpus, ctx.checkpoint, ctx.cache_dir, progress=False)
    rng = np.random.default_rng(0)
    queries = (index.mu[rng.choice(len(index.mu), 64)] + rng.normal(0, 0.3, (64, index.latent_dim))).astype(np.float32)
    knn = NeighbourIndex(index.mu, corpus.tune)
    n = ctx.reps(200, 40)
    corp = _knn_stats(knn, queries, n)
    excl = _knn_stats(knn, queries, n, exclude_group=int(corpus.tune[0]))
    sec.data["knn_corpus"] = {"windows": len(knn), **corp, "excluding_own_tune": excl}
    sec.add(f"10-NN over the corpus ({len(knn):,} windows) p50", corp["median_ms"], "ms", le=10, note=f"p95 {corp['p95_ms']:.2f} ms")
    curve = []
    for size in SIZES:
        lat = synthetic_latents(size, index.latent_dim, seed=1)
        s = _knn_stats(NeighbourIndex(lat), queries, ctx.reps(50 if size >= 1_000_000 else 100, 10))
        curve.append({"latents": size, **s})
        del lat
        sec.add(f"10-NN over {size:,} synthetic latents p50", s["median_ms"], "ms",
                le=50 if size == 1_000_000 else None, note=f"p95 {s['p95_ms']:.2f} ms")
    ns = np.array([c["latents"] for c in curve], float)
    ms = np.array([c["median_ms"] for c in curve], float)
    slope, intercept = np.polyfit(ns, ms, 1)
    exponent = float(np.polyfit(np.log(ns), np.log(ms), 1)[0])
    sec.data["knn_growth"] = {"curve": curve, "ms_per_100k": round(slope * 1e5, 3), "intercept_ms": round(intercept, 3),
                              "loglog_exponent": round(exponent, 3)}
    sec.add("10-NN growth: ms per 100k latents", slope * 1e5, "ms", note=f"log-log exponent {exponent:.2f} (1 = linear)")


APPROX_SIZES = (1_000_000, 10_000_000)


def posterior_latents(mu: np.ndarray, sigma: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n latents [n, Z] drawn like a large collection's would be: a corpus window's posterior N(mu, sigma^2) each
    (isotropic N(0, I) latents would have no neighbourhoods at all to find)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, mu.shape[1]), np.float32)
    for i in range(0, n, 262144):
        rows = rng.integers(0, len(mu), min(262144, n - i))
        out[i : i + len(rows)] = mu[rows] + sigma[rows] * rng.standard_normal((len(rows), mu.shape[1]), dtype=np.float32)
    return out


def approx_neighbours(ctx: Context, sec: Section) -> None:
    """FAISS IVF (explorer.latent.neighbours.ApproxIndex) against exact search at 1M and 10M posterior-drawn latents:
    ms per single query, recall@10 against exact search, build time."""
    import os

    from explorer.latent.encoded import load_or_build_index
    from explorer.latent.neighbours import ApproxIndex, NeighbourIndex

    index = load_or_build_index(ctx.model(), ctx.corpus(), ctx.checkpoint, ctx.cache_dir, progress=False)
    rows = []
    for size in APPROX_SIZES[:1] if ctx.quick else APPROX_SIZES:
        lat = posterior_latents(index.mu, index.sigma, size, seed=2)
        queries = posterior_latents(index.mu, index.sigma, 60, seed=3)
        exact = NeighbourIndex(lat)
        truth = [exact.query(q, 10)[0] for q in queries[:30]]
        ex = _knn_stats(exact, queries, ctx.reps(20, 5))
        t0 = time.perf_counter()
        approx = ApproxIndex(lat, threads=os.cpu_count())
        build = time.perf_counter() - t0
        import faiss

        faiss.omp_set_num_threads(1)  # queries one at a time, as the app asks, on one thread
        ap = _knn_stats(approx, queries, ctx.reps(200, 40))
        recall = float(np.mean([len(set(approx.query(q, 10)[0]) & set(t)) / 10 for q, t in zip(queries[:30], truth, strict=True)]))
        rows.append({"latents": size, "exact": ex, "approx": ap, "recall_at_10": recall, "build_s": round(build, 1)})
        sec.add(f"10-NN over {size:,} latents, FAISS IVF p50", ap["median_ms"], "ms", le=10,
                note=f"recall@10 {recall:.3f} against exact search (exact p50 {ex['median_ms']:.1f} ms); index built "
                     f"in {build:.0f} s on {os.cpu_count()} cores")
        del lat, exact, approx
    sec.data["knn_approx"] = rows


MAP_TUNES = 1_000_000


def big_map(ctx: Context, sec: Section) -> None:
    """The map of a million-tune collection: tune points drawn like the corpus's windows (posterior draws placed
    by the app's own projection), five collections. Side by side: every point (what the map drew before) and
    the density under a 20,000-point sample (explorer.media.figures.corpus_map): the figure's build time, its size, and
    the time Chromium takes to draw it with plotly.js (Plotly.newPlot to the next frame)."""
    from explorer.latent.encoded import load_or_build_index
    from explorer.latent.mapping import fit_map
    from explorer.media import figures

    corpus = ctx.corpus()
    index = load_or_build_index(ctx.model(), corpus, ctx.checkpoint, ctx.cache_dir, progress=False)
    n = ctx.reps(MAP_TUNES, 200_000)
    cmap = fit_map(index.mu, index.split, corpus.tune % 5, 5, method="pca")
    xy = cmap.place(posterior_latents(index.mu, index.sigma, n, seed=4))
    rng = np.random.default_rng(5)
    names = np.array(["essen", "oneills", "ryans", "airds", "bach"])[rng.integers(0, 5, n)]
    hover = np.char.add("Tune ", np.arange(n).astype(str))
    rows = []
    for label, cap in (("every point", n + 1), (f"density + {figures.MAP_POINTS_MAX:,}-point sample", figures.MAP_POINTS_MAX)):
        t0 = time.perf_counter()
        spec = figures.corpus_map(xy[:, 0], xy[:, 1], names, hover, np.arange(n), max_points=cap)
        text = figures.to_json(spec)
        build = time.perf_counter() - t0
        rows.append({"figure": label, "build_s": round(build, 2), "mb": round(len(text) / 2**20, 1),
                     "draw_s": _draw_seconds(text)})
        del spec, text
    sec.data["big_map"] = {"tunes": n, "rows": rows}
    for r in rows:
        draw = "did not finish in 120 s" if r["draw_s"] is None else f"{r['draw_s']:.2f} s"
        sec.add(f"map of {n:,} tunes, {r['figure']}: drawn in Chromium", r["draw_s"], "s",
                note=f"{r['mb']} MB of figure, built in {r['build_s']} s; draw {draw}")


def _draw_seconds(figure_json: str, timeout_s: float = 120.0) -> float | None:
    """Seconds Chromium takes to draw a Plotly figure served over HTTP (fetch and parse, Plotly.newPlot, the next
    frame); None if it did not finish in timeout_s, the page crashed, or there is no Chromium."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import plotly

    from bench.browser import available, chromium, first_page

    if not available():
        return None
    folder = Path(tempfile.mkdtemp(prefix="melody-map-"))
    (folder / "fig.json").write_text(figure_json)
    (folder / "plotly.min.js").write_bytes((Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes())
    (folder / "index.html").write_text('<html><body><div id="m" style="width:900px;height:520px"></div>'
                                       '<script src="plotly.min.js"></script></body></html>')

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with chromium() as browser:
            try:
                page = first_page(browser)
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function("() => !!window.Plotly")
                return page.evaluate("""async (limit) => {
                  const t0 = performance.now();
                  const draw = (async () => {
                    const fig = await (await fetch('fig.json')).json();
                    await Plotly.newPlot('m', fig.data, fig.layout);
                    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
                    return (performance.now() - t0) / 1000;
                  })();
                  return Promise.race([draw, new Promise((r) => setTimeout(() => r(null), limit * 1000))]);
                }""", timeout_s)
            except Exception:  # noqa: BLE001 (a crashed page is reported as not drawn)
                return None
    finally:
        server.shutdown()


def index_build(ctx: Context, sec: Section) -> None:
    """Encoding speed (all cores, batch 1024, as the index build does) on a sample, projected to the full corpus."""
    from explorer.latent.encoded import encode_windows

    model = ctx.model()
    full = ctx.full_corpus()
    n = min(len(full), 4096 if ctx.quick else 16384)
    sample = full.tokens[np.random.default_rng(0).choice(len(full), n, replace=False)]
    encode_windows(model, sample[:1024], progress=False)  # warm-up
    t0 = time.perf_counter()
    encode_windows(model, sample, progress=False)
    s = time.perf_counter() - t0
    rate = n / s
    projected = len(full) / rate
    sec.data["index_build"] = {"sample_windows": n, "seconds": round(s, 2), "windows_per_s": round(rate, 1),
                               "full_corpus_windows": len(full), "projected_full_s": round(projected, 1)}
    sec.add("corpus index build (encode every window)", projected, "s",
            note=f"projected from {n:,} windows at {rate:,.0f}/s to {len(full):,}")


def corpus_build(ctx: Context, sec: Section) -> None:
    """First-run corpus build from the installed music21 package, 2 workers, into a temp folder."""
    from vae.checkpoint import data_config, read_meta
    from vae.corpus import build_corpus, music21_jobs

    cfg = data_config(read_meta(Path(ctx.checkpoint)))
    jobs = music21_jobs(cfg.collections)
    with tempfile.TemporaryDirectory(dir=ctx.work_dir) as tmp:
        t0 = time.perf_counter()
        c = build_corpus(cfg, jobs, Path(tmp) / "corpus", workers=2, progress=False)
        s = time.perf_counter() - t0
    sec.data["corpus_build"] = {"seconds": round(s, 1), "files": len(jobs), "tunes": len(c.tunes), "windows": len(c),
                                "workers": 2}
    sec.add("first-run corpus build (music21 corpus, 2 workers)", s, "s", le=120,
            note=f"{len(jobs):,} files, {len(c.tunes):,} tunes, {len(c):,} windows")


def startup(ctx: Context, sec: Section) -> None:
    """`python app.py` with warm caches, from process start until the page answers HTTP 200 (median of runs)."""
    runs = []
    for _ in range(ctx.reps(3, 1)):
        runs.append(_start_app_once(ctx))
    secs = [r["seconds_to_page"] for r in runs if r["seconds_to_page"] is not None]
    sec.data["startup"] = {"runs": runs}
    if not secs:
        sec.add("start-up to a served page (warm caches)", None, "s", le=10, note="the app did not serve a page")
        return
    med = float(np.median(secs))
    rss = [r["app_peak_rss_mb"] for r in runs if r.get("app_peak_rss_mb")]
    sec.add("start-up to a served page (warm caches)", med, "s", le=10, note=f"median of {len(secs)}; python app.py")
    if rss:
        sec.add("app process peak RSS after start-up", float(np.median(rss)), "MB")


def _start_app_once(ctx: Context, timeout: float = 180.0) -> dict:
    port = free_port()
    cmd = [sys.executable, str(REPO / "app.py"), "--checkpoint", ctx.checkpoint, "--port", str(port)]
    if ctx.corpus_dir != ctx.full_corpus_dir:
        cmd += ["--corpus", ctx.corpus_dir]
    log = Path(ctx.work_dir) / f"app-{port}.log"
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=app_env(ctx), stdout=out, stderr=subprocess.STDOUT)
    took = None
    rss = None
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        took = time.perf_counter() - t0
                        break
            except OSError:
                time.sleep(0.1)
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            rss = int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024
        except (OSError, StopIteration, ValueError):
            pass
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    tail = log.read_text()[-400:] if took is None else ""
    return {"seconds_to_page": None if took is None else round(took, 2), "app_peak_rss_mb": None if rss is None else round(rss, 1),
            "log_tail": tail}
