"""What each lever on the slider path gives in a real browser, side by side in one run.

    python -m bench.browser_levers [--releases 12] [--drags 3] [--checkpoint DIR]

Each row is the app as shipped with some levers turned back to Gradio's defaults (on the built app, before
launch), measured as `make bench`'s browser section does it (bench.run_browser.measure: slider release -> new
audio, and new melodies heard per second during a 2-second drag), one fresh server and Chromium per row, rows
in sequence on the same machine. The levers, in the order they are added:

- updates while held: the page tells the server a slider is held, so a drag's update sends only the piano roll
  and the audio and the release completes the panel; turned off, every update sends all 9 outputs (the hidden
  gesture box is renamed, so the page's script cannot find it);
- no progress overlay on the slider updates (Gradio's default draws one on every output);
- the progress tracked on the hidden gesture box only (Gradio runs a timer on every output that tracks it,
  once per frame, even when the progress is hidden);
- the browser's own audio player instead of Gradio's waveform player;
- the slider updates not through the queue (one HTTP call instead of a queue join and an event stream);
- the page's own requests while a slider is held (explorer.serve.drag: a plain route, the next position sent while the
  last is drawn, the roll and audio drawn by the page's script), the release through Gradio; turned off, the
  app is built with explorer.ui.levers.gradio_drags and Gradio's events render the drag (the rows before);
- a drag's sound sent to the page as 64 kbps MP3 instead of the 22.05 kHz WAV (a fifth of the bytes);
- the page asking for the WAV or the MP3 by the rate it measures on the last answer (explorer.ui.drag_script).
The last four rows are measured again over an emulated 20 Mbit/s link with 40 ms latency (a composer using the
hosted demo from home): what the bytes of each update cost. A melody counts when it reaches the player: with
Gradio's events that is the file's address (the player then fetches the file itself, so over a slow link its sound
starts later than counted), with the page's own requests the whole sound, so the comparison favours Gradio's path.
Writes bench/browser-levers.md and .json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

from bench.context import free_port
from bench.run_browser import CHROMIUM, NETWORK, measure
from vae.paths import REPO, SHIPPED

LEVERS = ("held", "no_overlay", "one_tracker", "native_player", "no_queue", "page_drags", "mp3", "auto")
ROWS = [("Gradio's defaults (every output on every update)", ()),
        ("+ only the roll and the audio while a slider is held", LEVERS[:1]),
        ("+ no progress overlay", LEVERS[:2]),
        ("+ progress tracked on one hidden box, not on all 8 outputs", LEVERS[:3]),
        ("+ the browser's own audio player", LEVERS[:4]),
        ("+ slider updates outside the queue", LEVERS[:5]),
        ("+ the page's own requests while dragging, the release through Gradio (sound as WAV)", LEVERS[:6]),
        ("+ a drag's sound sent as 64 kbps MP3", LEVERS[:7]),
        ("+ WAV or MP3, as the page measures its link (as shipped)", LEVERS)]
NETWORK_ROWS = ROWS[-4:]  # a remote composer: the rows from the queue lever on, over bench.run_browser.NETWORK


def with_levers(demo, on: tuple[str, ...]):
    """Turn the levers not in `on` back to Gradio's defaults on a built (not launched) app."""
    dep = next(fn for fn in demo.fns.values() if fn.api_name == "sliders")
    if "auto" not in on:
        demo.drags.audio = "mp3" if "mp3" in on else "wav"
    if "page_drags" in on:
        return demo  # the levers before it apply to the release (the only Gradio event of a drag)
    if "held" not in on:
        next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "slider-gesture").elem_id = "off"
    if "no_overlay" not in on:
        dep.show_progress = "full"
    if "one_tracker" not in on:
        dep.show_progress_on = None
    if "native_player" not in on:
        audio = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "melody-audio")
        audio.waveform_options = dataclasses.replace(audio.waveform_options, show_recording_waveform=True)
    if "no_queue" not in on:
        dep.queue = True
    return demo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, default=SHIPPED)
    p.add_argument("--releases", type=int, default=12)
    p.add_argument("--drags", type=int, default=3)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "browser-levers.md")
    a = p.parse_args(argv)
    if not CHROMIUM.exists():
        print("Chromium is not installed (make system-test installs it)")
        return 2
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from explorer.latent.space import LatentSpace
    from explorer.ui import build_ui, launch
    from explorer.ui.levers import gradio_drags

    services = LatentSpace.build(a.checkpoint, progress=False)
    runs = [(label, on, None) for label, on in ROWS] + [(label, on, NETWORK) for label, on in NETWORK_ROWS]
    rows = []
    for label, on, network in runs:
        demo = with_levers((build_ui if "page_drags" in on else gradio_drags.build_ui)(services), on)
        port = free_port()
        launch(demo, port=port, prevent_thread_lock=True, quiet=True)
        try:
            t0 = time.time()
            m = measure(f"http://127.0.0.1:{port}/", a.releases, a.drags, network=network)
        finally:
            demo.close()
        rows.append({"row": label, "levers": list(on), "network": network, **m, "seconds": round(time.time() - t0, 1)})
        print(f"{label}{' (20 Mbit/s)' if network else ''}: release p50 {m['release_p50']:.0f} ms, "
              f"{m['per_s']:.2f} updates/s while dragging, {m['fast_per_s']:.2f} in a fast drag", flush=True)
    step = services.model.meta.get("step")
    head = ["| levers | release -> audio p50 | p95 | melodies/s while dragging | drag took | backlog after release "
            "| melodies/s in a fast drag | fast drag took | its backlog |", "|---|---|---|---|---|---|---|---|---|"]

    def line(r: dict) -> str:
        took = sum(d["seconds"] for d in r["drags"]) / len(r["drags"])
        fast_took = sum(d["seconds"] for d in r["fast_drags"]) / len(r["fast_drags"])
        return (f"| {r['row']} | {r['release_p50']:.0f} ms | {r['release_p95']:.0f} ms | {r['per_s']:.2f} | "
                f"{took:.1f} s | {r['backlog_ms']:.0f} ms | {r['fast_per_s']:.2f} | {fast_took:.1f} s | "
                f"{r['fast_backlog_ms']:.0f} ms |")

    lines = [f"# The slider path's levers in a real browser (step {step}, {time.strftime('%Y-%m-%d')})", "",
             f"`python -m bench.browser_levers`: Debian's Chromium through Playwright, one fresh server per row, "
             f"{a.releases} slider jumps, {a.drags} drags of 25 moves 80 ms apart and {a.drags} fast drags of 60 "
             "moves 15 ms apart (bench/run_browser.py). Targets: release -> new audio p50 <= 150 ms, >= 8 new "
             "melodies a second while dragging.", "", "## On this machine (loopback)", "", *head,
             *[line(r) for r in rows if r["network"] is None], "",
             f"## Over an emulated link: {NETWORK['downloadThroughput'] * 8 / 1e6:.0f} Mbit/s down, "
             f"{NETWORK['uploadThroughput'] * 8 / 1e6:.0f} up, {NETWORK['latency']} ms latency (Chromium's "
             "DevTools network emulation, once the page has loaded)", "", *head,
             *[line(r) for r in rows if r["network"] is not None]]
    lines += ["", "A drag takes longer than its 2 s when the page's main thread is busy: each pointer move waits for it. "
              "The backlog is the last new audio after the release, negative when it arrived before the release. "
              "A new melody is a new file in the player: the release showing the file a drag left playing is not one."]
    a.out.write_text("\n".join(lines) + "\n")
    a.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(a.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
