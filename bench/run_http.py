"""Section `http` (with `memory`): the real app launched in this process, called from a second process.

Every load runs in its own process (bench.load), so the clients' work does not share the server's
interpreter, and this process's memory is the served app's. Latencies through gradio_client include Gradio's
queue and the client protocol; a bare echo app served the same way gives the framework's own floor. The
16-user load is measured once per lever, side by side (same payloads, same seconds), each row adding one
lever: the decode loop in TorchScript, decodes batched across users, 22.05 kHz renders, Gradio's analytics
summary computed once per 1,000 events instead of after every event, renders on a synth per core, FluidSynth's
short calls keeping the GIL, MIDI files written directly, /decode let in 16 at once. Rows run in this order,
and Gradio's event records pile up over the run (up to 10,000), so the per-event summary costs later rows more
than earlier ones: read that step as "no longer paying a cost that grows with uptime".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench.context import Context, Section, Stopwatch, cycle, free_port, peak_rss_mb, rss_mb, timed
from explorer.media.voices import CACHE_BYTES
from explorer.serve.process import limit_malloc_arenas
from vae.paths import REPO

USERS = 16
LEVEL_MB_PER_MIN = 5.0  # "level": the sustained run's RSS grows by less than this in its second half
TODAY = {"decode_p50_ms": 140.0, "calls_per_s": 10.2, "p95_ms": 2015.0}  # step 14's starting figures (2026-12-01/02)


def load(url: str, latents: Path, users: int, calls: int | None = None, seconds: float | None = None,
         client: str = "gradio", api_name: str = "/decode", echo: bool = False, sample=None) -> dict:
    """Run bench.load in a subprocess; `sample()` is called every 5 s while it runs (memory, disk). Adds
    "server_cpu_ms_per_call": this process's CPU time (the served apps live here, the clients do not) per
    answered call, and "load_avg": the host's 1-minute load average at the end (other work on the machine)."""
    cmd = [sys.executable, "-m", "bench.load", url, "--latents", str(latents), "--users", str(users),
           "--client", client, "--api-name", api_name, *(["--calls", str(calls)] if calls else []),
           *(["--seconds", str(seconds)] if seconds else []), *(["--echo"] if echo else [])]
    cpu = time.process_time()
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    if sample:
        t0 = time.perf_counter()
        while p.poll() is None:
            samples.append((time.perf_counter() - t0, *sample()))
            time.sleep(5)
    out, err = p.communicate(timeout=1200)
    if p.returncode:
        raise RuntimeError(f"bench.load failed: {err[-500:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["server_cpu_ms_per_call"] = round((time.process_time() - cpu) * 1000 / max(res["ok"], 1), 1)
    res["load_avg"] = round(os.getloadavg()[0], 2)
    if samples:
        res["samples"] = samples
    return res


def run(ctx: Context) -> Section:
    from explorer.ui import build_ui, launch
    from explorer.ui.levers.echo import echo_app

    sec = Section("http")
    limit_malloc_arenas()  # as app.py does first (launch does it again): before the services' threads start
    t = Stopwatch()
    rss_start = peak_rss_mb()
    services = ctx.services()
    demo = build_ui(services)  # as the app: torch threads 1, renders in its private Gradio cache
    port = free_port()
    launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    rss_built = peak_rss_mb()
    latents = Path(ctx.work_dir) / "latents.npy"
    np.save(latents, services.index.mu[np.random.default_rng(0).choice(len(services.index.mu), 2000)])
    echo = echo_app(free_port())
    try:
        _single_user(sec, ctx, url, echo, latents)
        _levers(sec, ctx, demo, services, url, latents)
        _sustained(sec, ctx, demo, url, latents)
        _uploads_and_neighbours(sec, ctx, url, latents)
    finally:
        echo.close()
        demo.close()
    _memory(sec, rss_start, rss_built, peak_rss_mb())
    sec.data["seconds"] = round(t.s, 1)
    return sec


def _single_user(sec: Section, ctx: Context, url: str, echo, latents: Path) -> None:
    """One user's /decode through gradio_client and the plain routes, beside a bare echo app's floor and
    capacity (the echo app is closed afterwards: its server threads would share this interpreter later)."""
    echo_url = f"http://127.0.0.1:{echo.server_port}/"
    n = ctx.reps(60, 12)
    floor = load(echo_url, latents, 1, calls=n, api_name="/echo", echo=True)
    # the framework's own capacity on this machine: 16 light users on a bare echo app (same client, payloads)
    echo_cap = load(echo_url, latents, USERS, seconds=10 if ctx.quick else 20, client="raw", api_name="/echo",
                    echo=True)
    echo.close()  # idle, but its server threads would share this interpreter during the loads
    one = load(url, latents, 1, calls=n)
    plain = load(url, latents, 1, calls=2 * n, client="plain", api_name="/v1/decode.mid")
    plain_json = load(url, latents, 1, calls=2 * n, client="plain", api_name="/v1/decode")
    sec.data.update(echo_floor=floor, echo_capacity=echo_cap, decode=one, plain_mid=plain, plain_json=plain_json)
    sec.add("/decode p50 through gradio_client (z -> melody, WAV, MIDI)", one["median_ms"], "ms",
            le=1.3 * floor["median_ms"],
            note=f"n={n}; {one['median_ms'] / floor['median_ms']:.2f}x the echo floor; "
                 f"{one['median_ms'] / TODAY['decode_p50_ms']:.2f}x step 14's {TODAY['decode_p50_ms']:.0f} ms")
    sec.add("  bare echo app through gradio_client p50 (the framework's floor)", floor["median_ms"], "ms")
    sec.add("/decode p95", one["p95_ms"], "ms")
    sec.add("/v1/decode.mid p50 (plain HTTP route: z -> MIDI file)", plain["median_ms"], "ms", le=40,
            note=f"n={2 * n}; p95 {plain['p95_ms']:.0f} ms")
    sec.add("/v1/decode p50 (plain HTTP route: JSON with notes + MIDI)", plain_json["median_ms"], "ms",
            note=f"p95 {plain_json['p95_ms']:.0f} ms")


def _levers(sec: Section, ctx: Context, demo, services, url: str, latents: Path) -> None:
    """16 users, one lever at a time (same payloads and seconds), each row adding one to the row above; the last
    row is what ships. Each row also says the server's CPU per call. Then the same load through gradio_client."""
    seconds = 10 if ctx.quick else 20
    switch = _LeverSwitch(demo, services)
    batcher = services.batcher
    levers = {}
    for name, lv in switch.steps():
        switch.set(lv)
        batches, rows = batcher.batches, batcher.rows
        try:
            levers[name] = load(url, latents, USERS, seconds=seconds, client="raw")
            levers[name]["rows_per_batch"] = round((batcher.rows - rows) / max(batcher.batches - batches, 1), 2)
        finally:
            switch.restore()
    sec.data["levers"] = levers
    _lever_rows(sec, levers, services)
    gc_load = load(url, latents, USERS, seconds=seconds, client="gradio")
    sec.data["gradio_client_load"] = gc_load
    sec.add(f"{USERS} users through gradio_client (16 Clients in one process)", gc_load["calls_per_s"], "calls/s",
            note=f"p95 {gc_load['p95_ms']:.0f} ms; the clients themselves take ~1 core here (measured), "
                 "so this is the load generator's limit, not the server's")


class _LeverSwitch:
    """What each lever row changes in the running app (module functions, the queue's settings, the synth pools),
    set for a row and put back to the shipped settings after it."""

    def __init__(self, demo, services):
        import vae.model as vm
        from explorer.media import audio as audio_module
        from explorer.media import files as files_module

        self.vm, self.audio, self.files = vm, audio_module, files_module
        self.h, self.services = demo.handlers, services
        self.scripted, self.batcher, self.rate = vm._greedy_loop, services.batcher, self.h.files.sample_rate
        self.queue = demo._queue
        self.freq = self.queue.ANAYLTICS_CACHE_FREQUENCY
        self.decode_queue = self.queue.event_queue_per_concurrency_id["api-decode"]  # /decode's group (api_tab)
        self.pools = dict(audio_module._synths)  # warmed by the loads before: the shipped pools (a synth per core)
        from explorer.media.files import EXPORT_RATE

        font = next(iter(self.pools))[0]
        self.single = {(font, r): audio_module.SynthPool(font, r, 1) for r in {self.rate, EXPORT_RATE}}  # one synth
        self.fluid = audio_module._fluid()  # the FluidSynth calls renders make: short ones keep the GIL (shipped) ...
        self.keeping = dict(vars(self.fluid))
        self.releasing = _releasing(self.keeping)  # ... or every call lets it go (before)
        self.direct_midi = files_module.notes_midi_bytes
        self.mixed = audio_module.SynthPool.render_notes  # each note's sound made once, renders mix them (shipped)

    def steps(self) -> list[tuple[str, dict]]:
        """(row name, settings), the first as before all levers, the last as shipped."""
        from explorer.media.files import EXPORT_RATE
        from explorer.ui.api_tab import DECODE_CONCURRENCY

        old = dict(freq=1, pool=False, gil=False, midi=False, together=False, voices=False)
        now = dict(loop=self.scripted, batching=True, rate=self.rate, freq=self.freq)
        return [("decode loop in Python, 44.1 kHz renders, Gradio's per-event analytics (before)",
                 dict(old, loop=lambda: self.vm._greedy_loop_py, batching=False, rate=EXPORT_RATE)),
                ("+ TorchScript decode loop", dict(old, loop=self.scripted, batching=False, rate=EXPORT_RATE)),
                ("+ decodes batched across users", dict(old, loop=self.scripted, batching=True, rate=EXPORT_RATE)),
                ("+ 22.05 kHz renders", dict(old, loop=self.scripted, batching=True, rate=self.rate)),
                ("+ Gradio's analytics summary once per 1,000 events", dict(old, **now)),
                (f"+ renders on {self.audio.SYNTHS} synths at once", dict(old, **now, pool=True)),
                ("+ FluidSynth's short calls keep the GIL (a render let it go ~60 times)",
                 dict(old, **now, pool=True, gil=True)),
                ("+ MIDI files written directly (pretty_midi's bytes, not its objects)",
                 dict(old, **now, pool=True, gil=True, midi=True)),
                (f"+ /decode {DECODE_CONCURRENCY} at once, not {self.queue.default_concurrency_limit} (decodes batch)",
                 dict(old, **now, pool=True, gil=True, midi=True, together=True)),
                ("+ each note's sound synthesised once, renders mix them (explorer.media.voices) (shipped)",
                 dict(now, pool=True, gil=True, midi=True, together=True, voices=True))]

    def set(self, lv: dict) -> None:
        from explorer.ui.api_tab import DECODE_CONCURRENCY

        self.vm._greedy_loop, self.services.batcher = lv["loop"], self.batcher if lv["batching"] else None
        self.h.files.sample_rate, self.queue.ANAYLTICS_CACHE_FREQUENCY = lv["rate"], lv["freq"]
        self.audio._synths.update(self.pools if lv["pool"] else self.single)
        vars(self.fluid).update(self.keeping if lv["gil"] else self.releasing)
        self.files.notes_midi_bytes = self.direct_midi if lv["midi"] else _pretty_midi_bytes
        self.decode_queue.concurrency_limit = (DECODE_CONCURRENCY if lv["together"]
                                               else self.queue.default_concurrency_limit)
        self.audio.SynthPool.render_notes = self.mixed if lv["voices"] else _one_pass

    def restore(self) -> None:
        from explorer.ui.api_tab import DECODE_CONCURRENCY

        self.vm._greedy_loop, self.services.batcher, self.h.files.sample_rate = self.scripted, self.batcher, self.rate
        self.queue.ANAYLTICS_CACHE_FREQUENCY = self.freq
        self.audio._synths.update(self.pools)
        vars(self.fluid).update(self.keeping)
        self.files.notes_midi_bytes = self.direct_midi
        self.decode_queue.concurrency_limit = DECODE_CONCURRENCY
        self.audio.SynthPool.render_notes = self.mixed


def _lever_rows(sec: Section, levers: dict, services) -> None:
    """The lever rows, the echo app's ceiling beside them, and the shipped row's p95, CPU and errors."""
    echo_cap = sec.data["echo_capacity"]
    names = list(levers)
    base = levers[names[0]]
    for name, r in levers.items():
        sec.add(f"{USERS} users /decode calls/s: {name}", r["calls_per_s"], "calls/s",
                ge=40 if name == names[-1] else None,
                note=f"p50 {r['median_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, {r['errors']} errors; server CPU "
                     f"{r['server_cpu_ms_per_call']:.0f} ms a call, "
                     + (f"{r['rows_per_batch']:.1f} rows a decode batch, " if r["rows_per_batch"] else "")
                     + f"load average {r['load_avg']:.1f}; x{r['calls_per_s'] / base['calls_per_s']:.2f} of the first "
                     f"row, x{r['calls_per_s'] / TODAY['calls_per_s']:.2f} of step 14's {TODAY['calls_per_s']}/s")
    sec.add(f"  {USERS} users on a bare echo app (Gradio's own ceiling here, same clients)", echo_cap["calls_per_s"],
            "calls/s", note=f"p50 {echo_cap['median_ms']:.0f} ms, p95 {echo_cap['p95_ms']:.0f} ms; server CPU "
                            f"{echo_cap['server_cpu_ms_per_call']:.1f} ms a call; load average {echo_cap['load_avg']:.1f}")
    shipped = levers[names[-1]]
    sec.add(f"{USERS} users /decode p95 (shipped)", shipped["p95_ms"], "ms", le=500,
            note=f"{shipped['p95_ms'] / TODAY['p95_ms']:.2f}x step 14's {TODAY['p95_ms']:.0f} ms")
    sec.add(f"{USERS} users /decode server CPU a call (shipped)", shipped["server_cpu_ms_per_call"], "ms",
            note=f"first row {base['server_cpu_ms_per_call']:.0f} ms; the bare echo app "
                 f"{echo_cap['server_cpu_ms_per_call']:.1f} ms (Gradio's own share)")
    sec.add(f"{USERS} users /decode errors", sum(r["errors"] for r in levers.values()), le=0)
    sec.add("  batches / rows decoded during the loads", services.batcher.batches, "",
            note=f"{services.batcher.rows} rows: {services.batcher.rows / max(services.batcher.batches, 1):.1f} "
                 "per batch")


def _releasing(keeping: dict) -> dict:
    """explorer.media.audio's FluidSynth calls bound through ctypes.CDLL: every call lets the GIL go (as
    pyfluidsynth's calls did before)."""
    import ctypes

    import fluidsynth

    lib = ctypes.CDLL(fluidsynth._fl._name)
    out = {}
    for key, fn in keeping.items():
        f = getattr(lib, fn.__name__)
        f.argtypes, f.restype = fn.argtypes, fn.restype
        out[key] = f
    return out


def note_cache_mb() -> float:
    """MB held by the note-sound caches of every synth pool (explorer.media.voices)."""
    from explorer.media import audio

    return sum(pool.sounds.nbytes for pool in list(audio._synths.values())) / 2**20


def _one_pass(pool, notes, total: int, programs: dict[int, int], stereo: bool = True):
    """SynthPool.render_notes as before explorer.media.voices: every note synthesised in one pass of events (and
    the mono downmix in a pass of its own, as render did)."""
    events = [e for s, end, ch, key, vel in notes for e in ((s, 1, ch, key, vel), (end, 0, ch, key, 0))]
    audio = pool.render_events(events, total, programs)
    return audio if stereo else ((audio[:, 0].astype(np.int32) + audio[:, 1]) // 2).astype(np.int16)


def _pretty_midi_bytes(notes, **kwargs) -> bytes:
    """A MIDI file's bytes through pretty_midi's objects and writer (vae.midi_export), as before."""
    import io

    from vae.midi_export import notes_to_midi

    buf = io.BytesIO()
    notes_to_midi(notes, **kwargs).write(buf)
    return buf.getvalue()


def _sustained(sec: Section, ctx: Context, demo, url: str, latents: Path) -> None:
    """Sustained load: 16 users for a while, each call without a session hash (a new Gradio session each, as
    curl users' calls are); memory, disk and sessions held sampled as it runs (do they level off?)"""
    h = demo.handlers
    seconds = 30 if ctx.quick else 240
    lock = threading.Lock()
    queue = demo._queue

    def sample():
        with lock:
            return (rss_mb(), (h.store.size() + demo.uploads.size()) / 2**20, len(demo.state_holder.session_data),
                    note_cache_mb(), len(queue.pending_event_ids_session) + len(queue.pending_messages_per_session),
                    sum(len(files) for files in list(demo.temp_file_sets)))

    sustained = load(url, latents, USERS, seconds=seconds, client="raw-fresh", sample=sample)
    sec.data["sustained"] = sustained
    times = np.array([s[0] for s in sustained["samples"]])
    rss = np.array([s[1] for s in sustained["samples"]])
    disk = np.array([s[2] for s in sustained["samples"]])
    half = len(times) // 2
    cache = np.array([s[4] for s in sustained["samples"]])

    def growth(mb: np.ndarray) -> float:
        return float(np.polyfit(times[half:] / 60, mb[half:], 1)[0]) if len(times) - half >= 2 else float("nan")

    slope, unbounded = growth(rss), growth(rss - cache)
    sec.add(f"{USERS} users for {seconds} s: errors", sustained["errors"], le=0,
            note=f"{sustained['ok']} calls, {sustained['calls_per_s']:.1f} calls/s")
    sec.add("  RSS growth, second half of the run", round(slope, 1), "MB/min", le=LEVEL_MB_PER_MIN,
            note=f"RSS {rss[0]:.0f} -> {rss[-1]:.0f} MB (server process only); of it the note-sound cache "
                 f"(explorer.media.voices, capped at {CACHE_BYTES / 2**20:.0f} MB a soundfont and rate) "
                 f"{cache[0]:.0f} -> {cache[-1]:.0f} MB")
    sec.add("  ↳ the same less the note-sound cache (bounded, filling)", round(unbounded, 1), "MB/min")
    held = np.array([s[3] for s in sustained["samples"]])
    sec.add("  Gradio sessions held, most during the run", int(held.max()), "sessions",
            le=demo.session_limits.max_sessions, note=f"a new session per call; {sustained['ok']} calls; "
            f"end {held[-1]}; idle ones swept after {demo.session_limits.api_ttl_s:g} s")
    books = np.array([s[5] for s in sustained["samples"]])
    paths = np.array([s[6] for s in sustained["samples"]])
    sec.add("  Gradio's queue bookkeeping (ids and message queues of sessions), most during the run", int(books.max()),
            "entries", le=4 * demo.session_limits.max_sessions,
            note=f"end {books[-1]}; one of each per call, kept for good, before explorer.ui.sessions.tidy_queue")
    sec.add("  served files' paths Gradio remembers, most during the run", int(paths.max()), "paths",
            note=f"end {paths[-1]}; those of files removed from disk are dropped (forget_gone_files)")
    sec.add("  rendered files and uploads on disk, most during the run", round(float(disk.max()), 1), "MB",
            le=h.store.max_bytes / 2**20, note=f"cap {h.store.max_bytes / 2**20:.0f} MB; end {disk[-1]:.0f} MB")


def _uploads_and_neighbours(sec: Section, ctx: Context, url: str, latents: Path) -> None:
    """Uploads and neighbours last, from a gradio_client in this process (its own work is in these times; its
    threads would slow the loads before)."""
    from gradio_client import Client, handle_file

    from bench.song import make_song

    client = Client(url, download_files=False, verbose=False, analytics_enabled=False)
    song = make_song(Path(ctx.work_dir) / "http song.mid")
    zs = cycle([json.dumps({"z": [round(float(v), 4) for v in z]}) for z in np.load(latents)[:97]])
    stats, outs = timed(lambda: client.predict(handle_file(str(song)), api_name="/encode"), ctx.reps(30, 6), warmup=2)
    sec.data["encode"] = {**stats, "candidate": outs[0].get("candidate") if isinstance(outs[0], dict) else None}
    sec.add("/encode p50 (upload multi-track MIDI -> z, map)", stats["median_ms"], "ms", note="client in-process")
    stats, _ = timed(lambda: client.predict(next(zs), None, 10, api_name="/neighbours"), ctx.reps(50, 10), warmup=3)
    sec.data["neighbours"] = stats
    sec.add("/neighbours p50 (k=10)", stats["median_ms"], "ms", note="client in-process")


def _memory(sec: Section, rss_start: float, rss_built: float, rss_end: float) -> None:
    """The served app's peak memory, before and after the loads, as data and as the `memory` rows."""
    sec.data["memory"] = {"peak_rss_mb_before_build": round(rss_start, 1), "peak_rss_mb_app_built": round(rss_built, 1),
                          "peak_rss_mb_after_load": round(rss_end, 1),
                          "note": "peak RSS (ru_maxrss) of the process holding services + handlers + UI; the "
                                  "load clients run in their own processes"}
    mem = Section("memory")
    mem.add("peak RSS: services + handlers + UI launched", round(rss_built, 1), "MB", note="before any request")
    mem.add("peak RSS after the HTTP load tests", round(rss_end, 1), "MB", note="the server alone")
    sec.rows.extend(mem.rows)
