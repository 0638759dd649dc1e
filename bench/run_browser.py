"""Section `browser`: the real app in Debian's Chromium (Playwright), timed as a composer feels it.

- Slider release -> new audio: press and release on slider 1's track (a jump to a new value), timed from
  the pointerup event to the last new audio file the player receives (waiting until 1.5 s pass without one).
- Drag: 2 s of continuous dragging on slider 1 (25 moves); how many new melodies reach the player while the
  pointer is still down (updates per second), and how long after the release the last one arrives (backlog).
  The pointer moves at most ~11 times a second there, so a fast drag (60 moves 15 ms apart) shows the rate the
  renders themselves sustain.
The page records the times itself (performance.now(): pointer events, and a MutationObserver on the player: the
file its download link points at after a Gradio render, the file the page names on it while it plays a drag's
own audio; the release's completion showing the file a drag left playing is not a new melody), so the driver's
own latency is not in the numbers.
"""

from __future__ import annotations

import os

import numpy as np

from bench.browser import CHROMIUM, chromium, first_page
from bench.context import Context, Section, Stopwatch, free_port

AUTOPLAY = ["--autoplay-policy=no-user-gesture-required"]  # the player plays each new melody without a click
QUIET_MS = 1500  # a render burst is over when no new audio arrived for this long
MOVES, PAUSE_MS = 25, 80  # a drag: 25 pointer moves 80 ms apart (about 2 s; at most ~11 positions a second)
BEFORE_RELEASE_MS = 160.0  # step 14's starting figure: release -> new audio 0.16-0.34 s (2026-12-01/02), its best
FAST_MOVES, FAST_PAUSE_MS = 60, 15
# A composer using the hosted demo from home: 20 Mbit/s down, 5 up, 40 ms (Chromium's network emulation)
NETWORK = {"latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 5e6 / 8}  # a fast drag: the pointer moves faster than any render, so the renders set the pace

RECORDER_JS = """() => {
  window.__audio = []; window.__down = []; window.__up = [];
  let last = '';
  // A melody is its file: the one the player plays (Gradio's file URL), or while a drag plays the page's own audio
  // (a blob URL), the file the page named on the player; the waveform player (bench.browser_levers) plays a blob
  // of its own: the file its download link points at.
  const look = () => {
    const a = document.querySelector('#melody-audio audio'), link = document.querySelector('#melody-audio a[download]');
    const src = a ? a.getAttribute('src') || '' : '';
    const file = src && !src.startsWith('blob:') ? src.split('/').pop()
      : src && a.dataset.melody ? a.dataset.melody : link ? link.href.split('/').pop() : '';
    if (file && file !== last) { last = file; window.__audio.push(performance.now()); }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                     attributeFilter: ['src', 'href']});
  look();
  document.addEventListener('pointerdown', () => window.__down.push(performance.now()), true);
  document.addEventListener('pointerup', () => window.__up.push(performance.now()), true);
}"""


def settle(page) -> None:
    """Wait until no new audio has arrived for QUIET_MS."""
    page.wait_for_function(f"() => performance.now() - (window.__audio.slice(-1)[0] || 0) > {QUIET_MS}",
                           timeout=60_000, polling=100)


def measure(url: str, releases: int, drags: int, network: dict | None = None) -> dict:
    """Time the page at `url` in a fresh Chromium: `releases` slider jumps (pointerup -> last new audio, ms) and
    `drags` 2-second drags (new melodies heard per second while the pointer is down, and the backlog).
    network: Chromium's emulated connection once the page has loaded (DevTools' Network.emulateNetworkConditions:
    latency in ms, download and upload throughput in bytes/s), None for the loopback as it is."""
    with chromium(extra_args=AUTOPLAY) as bctx:
        page = first_page(bctx)
        page.goto(url)
        page.wait_for_selector("#piano-roll .js-plotly-plot", timeout=120_000)
        page.evaluate(RECORDER_JS)
        if network:
            cdp = bctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {"offline": False, **network})
        settle(page)
        track = page.locator("#pc-1 input[type=range]")
        track.scroll_into_view_if_needed()
        box = track.bounding_box()
        y = box["y"] + box["height"] / 2

        def x_at(frac: float) -> float:
            return box["x"] + 6 + frac * (box["width"] - 12)

        # Release -> new audio: jumps between alternating values.
        rng = np.random.default_rng(0)
        lat = []
        for i in range(releases):
            frac = float(rng.uniform(0.05, 0.45) if i % 2 else rng.uniform(0.55, 0.95))
            before = page.evaluate("window.__audio.length")
            page.mouse.move(x_at(frac), y)
            page.mouse.down()
            page.mouse.up()
            page.wait_for_function(f"() => window.__audio.length > {before}", timeout=60_000)
            settle(page)
            up, last = page.evaluate("[window.__up.slice(-1)[0], window.__audio.slice(-1)[0]]")
            lat.append(last - up)

        # Drags: 25 moves 80 ms apart (about 2 s), then release; and as fast as the driver moves the pointer.
        out = [drag(page, x_at, y, k, MOVES, PAUSE_MS) for k in range(drags)]
        fast = [drag(page, x_at, y, k, FAST_MOVES, FAST_PAUSE_MS) for k in range(drags)]
    a = np.asarray(lat)
    return {"release_ms": [round(v, 1) for v in lat], "release_p50": float(np.median(a)),
            "release_p95": float(np.percentile(a, 95)), "drags": out, "fast_drags": fast,
            "per_s": float(np.median([d["per_s"] for d in out])),
            "backlog_ms": float(np.median([d["backlog_ms"] for d in out])),
            "fast_per_s": float(np.median([d["per_s"] for d in fast])),
            "fast_backlog_ms": float(np.median([d["backlog_ms"] for d in fast]))}


def drag(page, x_at, y: float, k: int, moves: int, pause_ms: int) -> dict:
    """One drag across slider 1 (left to right when k is even): `moves` pointer moves `pause_ms` apart, then the
    release. -> its length (s), the new melodies heard while the pointer was down (count and per second), and the
    last one's time after the release (ms, negative when it came before) with how many came after."""
    start, end = (0.1, 0.9) if k % 2 == 0 else (0.9, 0.1)
    page.mouse.move(x_at(start), y)
    before = page.evaluate("window.__audio.length")
    page.mouse.down()
    for j in range(1, moves + 1):
        page.mouse.move(x_at(start + (end - start) * j / moves), y)
        page.wait_for_timeout(pause_ms)
    page.mouse.up()
    settle(page)
    down, up, times = page.evaluate(
        f"[window.__down.slice(-1)[0], window.__up.slice(-1)[0], window.__audio.slice({before})]")
    during = [tt for tt in times if down < tt <= up]
    return {"seconds": (up - down) / 1000, "updates_during": len(during), "per_s": len(during) / ((up - down) / 1000),
            "backlog_ms": (max(times) - up) if times else float("nan"),
            "after_release": len([tt for tt in times if tt > up])}


def run(ctx: Context) -> Section:
    sec = Section("browser")
    t = Stopwatch()
    if not CHROMIUM.exists():
        sec.data["skipped"] = "Chromium is not installed (make system-test installs it)"
        return sec
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from explorer.ui import build_ui, launch

    demo = build_ui(ctx.services())
    port = free_port()
    launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    try:
        m = measure(f"http://127.0.0.1:{port}/", ctx.reps(15, 5), ctx.reps(3, 1))
        remote = measure(f"http://127.0.0.1:{port}/", ctx.reps(9, 3), ctx.reps(3, 1), network=NETWORK)
    finally:
        demo.close()
    n, drags = len(m["release_ms"]), m["drags"]
    sec.data.update(release_ms=m["release_ms"], drags=drags)
    sec.add("slider release -> new audio in the player p50", m["release_p50"], "ms", le=150,
            note=f"n={n}; p95 {m['release_p95']:.0f} ms; {m['release_p50'] / BEFORE_RELEASE_MS:.2f}x step 14's "
                 f"{BEFORE_RELEASE_MS:.0f} ms")
    sec.add("new melodies heard while dragging", m["per_s"], "per s", ge=8,
            note=f"{len(drags)} drags of {drags[0]['seconds']:.1f} s; median of "
                 f"{[d['updates_during'] for d in drags]} updates; step 14 began with none: only on release")
    sec.add("  last update after the release (backlog)", m["backlog_ms"], "ms",
            note=f"renders arriving after the release: {[d['after_release'] for d in drags]}")
    fast = m["fast_drags"]
    sec.data["fast_drags"] = fast
    sec.add("new melodies heard in a fast drag (the renders set the pace)", m["fast_per_s"], "per s",
            note=f"{len(fast)} drags of {FAST_MOVES} moves {FAST_PAUSE_MS} ms apart, {fast[0]['seconds']:.1f} s; "
                 f"median of {[d['updates_during'] for d in fast]} updates")
    sec.add("  last update after the release (backlog)", m["fast_backlog_ms"], "ms",
            note=f"renders arriving after the release: {[d['after_release'] for d in fast]}")
    link = (f"{NETWORK['downloadThroughput'] * 8 / 1e6:.0f} Mbit/s down, {NETWORK['uploadThroughput'] * 8 / 1e6:.0f} "
            f"up, {NETWORK['latency']} ms")
    sec.data["remote"] = {k: remote[k] for k in ("release_ms", "drags", "fast_drags")}
    sec.add(f"over an emulated {link}: slider release -> new audio p50", remote["release_p50"], "ms", le=150,
            note=f"n={len(remote['release_ms'])}; p95 {remote['release_p95']:.0f} ms")
    sec.add("  new melodies heard while dragging", remote["per_s"], "per s", ge=8,
            note=f"backlog {remote['backlog_ms']:.0f} ms")
    sec.add("  new melodies heard in a fast drag", remote["fast_per_s"], "per s",
            note=f"backlog {remote['fast_backlog_ms']:.0f} ms")
    sec.data["seconds"] = round(t.s, 1)
    return sec
