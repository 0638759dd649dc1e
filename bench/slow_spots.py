"""`python -m bench.slow_spots`: the slow spots a new user met (step 22), measured in the server's own process.

- Note editor: what one click cost the server on the old path (a gesture event: the draft edited, the grid
  redrawn and sent back, one request a click) and what drawing costs now (no request a click: the page draws,
  tests/test_editor_client.py counts the requests), and the one send of 15 drawn notes.
- First playable melody: what the page's load event does before the first melody can play (explorer.ui.page
  on_load: the welcome window decoded, its WAV and MIDI written; the map figure, once sent in the same answer,
  now follows in its own event), first call in a fresh process and warm; then in Chromium against the app served
  by this process: page open -> the load event's answer -> the player has its file -> the map's answer
  (bench/slow_spots-first-play-before.json: the same measurement with the map in the melody's answer,
  taken once beside the new code).
- Damaged file: a 70 kB truncated MIDI file through the upload path (read, then the fit of window 0), first
  call and warm, the fit's share apart.

CPU seconds (this process) are given beside wall seconds: the machine is shared, so wall time is inflated by the
load average written beside it. Writes bench/slow_spots.md and bench/slow_spots.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bench.browser import available, chromium, first_page

HERE = Path(__file__).resolve().parent
POP909 = HERE.parent.parent / "shared" / "data" / "pop909-dev"
EDITOR_NOTES = 15
DAMAGED_BYTES = 70_000


class Clock:
    """CPU and wall seconds of a block: `with Clock() as c: ...; c.cpu, c.wall`."""

    def __enter__(self):
        self.c0, self.w0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu, self.wall = time.process_time() - self.c0, time.perf_counter() - self.w0


def performance_midi(notes: int = 3000, lost_off: int | None = None) -> bytes:
    """A dense piano performance (a melody over three-note chords, sustain pedal on each; 103 kB for 3,000
    chords), as tests/test_midi_import.py writes one: type 0, 480 ticks a beat. lost_off: the chord whose
    note-offs a damaged delta time puts 2,000,000 ticks (about 1,000 bars) later."""
    import numpy as np

    def varlen(v: int) -> bytes:
        out = [v & 0x7F]
        while v > 0x7F:
            v >>= 7
            out.append(0x80 | (v & 0x7F))
        return bytes(reversed(out))

    rng = np.random.default_rng(0)
    durs = rng.choice([60, 120, 180], notes).tolist()
    tops, lows = rng.integers(67, 84, notes).tolist(), rng.integers(40, 62, (notes, 3)).tolist()
    body = bytearray(b"\x00\xc0\x00")
    for k, (dur, top, low) in enumerate(zip(durs, tops, lows, strict=True)):
        body += bytes([0, 0x90, top, 70, 7, low[0], 60, 7, low[1], 60, 7, low[2], 60, 0, 0xB0, 64, 127])
        body += varlen(2_000_000 if k == lost_off else dur - 21) + bytes([0x80, top, 0, 0, low[0], 0, 0, low[1], 0, 0, low[2], 0, 0, 0xB0, 64, 0])
    body += b"\x00\xff\x2f\x00"
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (480).to_bytes(2, "big")
    return header + b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def damaged_files(folder: Path) -> dict[str, Path]:
    """Truncated files: the performance cut at 70 kB, and a POP909 arrangement cut in half (when the data is there)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    p = folder / "performance-cut-70kB.mid"
    p.write_bytes(performance_midi()[:DAMAGED_BYTES])
    out["piano performance, cut at 70 kB"] = p
    p = folder / "performance-lost-off-70kB.mid"
    p.write_bytes(performance_midi(lost_off=200)[:DAMAGED_BYTES])
    out["the same, one delta time damaged (a note-off 1,000 bars late)"] = p
    song = POP909 / "458" / "458.mid"
    if song.exists():
        data = song.read_bytes()
        p = folder / "pop909-458-cut.mid"
        p.write_bytes(data[: len(data) // 2])
        out[f"POP909 458, cut at {len(data) // 2 / 1000:.0f} kB"] = p
    return out


def first_playable(h) -> dict:
    """The page's load event (explorer.ui.page on_load) in parts: the welcome window rendered (decode, WAV, MIDI),
    the map figure built and serialised (the load event's follow-up sends it)."""
    from explorer.media import figures
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    with Clock() as render:
        st, r = h.load_window(new_state(), h.welcome_window(), Playback())
    with Clock() as fig:
        spec = figures.to_json(h.map_figure("collection", r.map_xy))
    with Clock() as melody_fig:
        roll = figures.to_json(figures.piano_roll(r.notes, h.s.format.window_steps))
    return {"render_cpu_s": render.cpu, "render_wall_s": render.wall, "map_cpu_s": fig.cpu, "map_wall_s": fig.wall,
            "map_json_bytes": len(spec), "roll_json_bytes": len(roll), "roll_cpu_s": melody_fig.cpu}


BROWSER_RUNS = 3
BROWSER_WAIT_MS = 120_000  # generous on a loaded 2-core machine; a limit, not a measurement
# When the main player has its file: the <audio> element's src, or the download link of Gradio's player.
AUDIO_AT_JS = """() => {
  const a = document.querySelector('#melody-audio audio'), l = document.querySelector('#melody-audio a[download]');
  return (a && a.src) || (l && l.href) ? performance.now() : null;
}"""
# Gradio's client reads the queue's event stream with fetch: a copy of that stream, read beside it, notes each
# answer's arrival (performance.now(), ms from navigation start), its size, and whether it carries a WAV or the
# corpus map (whose star trace is named "current melody": explorer.media.figures.corpus_map).
STREAM_LOG_JS = """(() => {
  const fetch0 = window.fetch;
  window.__queueMessages = [];
  window.fetch = async function (...args) {
    const res = await fetch0.apply(this, args);
    const url = String((args[0] && args[0].url) || args[0]);
    if (!url.includes('/queue/data') || !res.body) return res;
    const [mine, theirs] = res.body.tee();
    (async () => {
      const reader = theirs.getReader(), dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        buf += dec.decode(value, {stream: true});
        let i;
        while ((i = buf.indexOf('\\n\\n')) >= 0) {
          const msg = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (msg.includes('"process_completed"'))
            window.__queueMessages.push({t: performance.now(), bytes: msg.length, wav: msg.includes('.wav'),
                                         map: msg.includes('current melody')});
        }
      }
    })();
    return new Response(mine, {status: res.status, statusText: res.statusText, headers: res.headers});
  };
})();"""
MAP_MESSAGE_JS = "() => window.__queueMessages && window.__queueMessages.some((m) => m.map)"


def first_playable_browser(url: str, runs: int = BROWSER_RUNS) -> list[dict]:
    """Open the page `runs` times in a fresh Chromium profile (nothing cached) and time, from navigation start:
    the load event's answer with the melody (the queue's message carrying the WAV), the player having its file,
    and the message carrying the corpus map (the same message before step 22, a later one now)."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        for _ in range(runs):
            with chromium(p) as ctx:  # a fresh profile each run
                ctx.add_init_script(STREAM_LOG_JS)
                page = first_page(ctx)
                load = [round(x, 2) for x in os.getloadavg()]
                page.goto(url, wait_until="commit")
                audio_ms = page.wait_for_function(AUDIO_AT_JS, timeout=BROWSER_WAIT_MS, polling=50).json_value()
                page.wait_for_function(MAP_MESSAGE_JS, timeout=BROWSER_WAIT_MS)
                msgs = page.evaluate("() => window.__queueMessages")
            melody = next(m for m in msgs if m["wav"])
            big = next(m for m in msgs if m["map"])
            out.append({"load_average": load, "audio_s": audio_ms / 1000, "melody_message_s": melody["t"] / 1000,
                        "melody_message_bytes": melody["bytes"], "map_message_s": big["t"] / 1000,
                        "map_message_bytes": big["bytes"], "map_with_melody": melody["map"]})
    return out


def serve_shipped(services):
    """The shipped app (explorer.ui.page.build_ui) served by this process on a free loopback port: (url, demo)."""
    import socket

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from explorer import ui

    demo = ui.build_ui(services)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui.launch(demo, port=port, prevent_thread_lock=True, quiet=True)
    return f"http://127.0.0.1:{port}/", demo


def damaged_upload(h, path: Path) -> dict:
    """A file through the upload path: read (vae.midi_import) and window 0 fitted and rendered (choose_upload)."""
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    with Clock() as read:
        st = h.upload(new_state(), str(path))
    with Clock() as fit:
        fitted = h.s.fit_melody(st.upload.candidates[0].windows[0])
    with Clock() as choose:
        h.choose_upload(st, 0, 0, Playback())
    return {"read_cpu_s": read.cpu, "read_wall_s": read.wall, "fit_cpu_s": fit.cpu, "choose_cpu_s": choose.cpu,
            "choose_wall_s": choose.wall, "detail": fitted["detail"] is not None,
            "windows": sum(len(c.windows) for c in st.upload.candidates),
            "menu": len(st.upload.candidates[0].window_labels)}


def editor(h) -> dict:
    """The old gesture path per click (still the API's and the tests' path) against the one send of all notes."""
    from explorer.media import figures
    from explorer.media.files import Playback
    from explorer.session import editor as rules
    from explorer.session.state import new_state

    st = new_state()
    cells = [(4 * k, 60 + (5 * k) % 12) for k in range(EDITOR_NOTES)]
    sent = 0
    with Clock() as clicks:
        for step, pitch in cells:
            st = h.edit_notes(st, f"click|{step},{pitch}|0")
            sent += len(figures.to_json(h.editor_figure(st)))  # the grid redrawn and sent back each click
    text = rules.notes_text(st.draft)
    with Clock() as send:
        st2 = h.read_drawn_notes(new_state(), text)
        h.choose_upload(st2, 0, 0, Playback())
    return {"notes": EDITOR_NOTES, "old_click_cpu_ms": 1000 * clicks.cpu / EDITOR_NOTES,
            "old_click_wall_ms": 1000 * clicks.wall / EDITOR_NOTES, "old_bytes_per_click": sent // EDITOR_NOTES,
            "old_requests": EDITOR_NOTES + 1, "new_requests": 1, "send_cpu_s": send.cpu, "send_wall_s": send.wall,
            "send_bytes": len(text)}


def measure(h, work: Path) -> dict:
    """Everything, first calls first (this process must be fresh for them to be first calls)."""
    out = {"load_average": [round(x, 2) for x in os.getloadavg()]}
    out["first_playable"] = {"first": first_playable(h)}
    files = damaged_files(work)
    out["damaged"] = {name: {"first": damaged_upload(h, p)} for name, p in list(files.items())[:1]}
    out["first_playable"]["warm"] = first_playable(h)
    for name, p in files.items():
        out["damaged"].setdefault(name, {})["warm"] = damaged_upload(h, p)
    out["editor"] = editor(h)
    out["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def browser_rows(runs: list[dict]) -> list[str]:
    return [f"| {k + 1} | {r['load_average'][0]:.1f} | {r['melody_message_s']:.1f} s, {r['melody_message_bytes'] / 1000:,.1f} kB"
            f" | {r['audio_s']:.1f} s | {r['map_message_s']:.1f} s, {r['map_message_bytes'] / 1e6:.2f} MB"
            f"{' (the same answer)' if r['map_with_melody'] else ''} |" for k, r in enumerate(runs)]


def markdown(m: dict) -> str:
    fp, ed = m["first_playable"], m["editor"]
    lines = [f"Load average at start {m['load_average']}, at end {m['load_average_end']} (2 cores): wall seconds are "
             "inflated by other work; CPU seconds are this process's.\n",
             "## Note editor (15 notes)\n",
             "| path | requests | server work per click | sent back per click | the send of all notes |",
             "|---|---|---|---|---|",
             f"| before: a gesture event per click | {ed['old_requests']} | {ed['old_click_cpu_ms']:.0f} ms CPU "
             f"({ed['old_click_wall_ms']:.0f} ms wall) + a queue round trip | {ed['old_bytes_per_click'] / 1000:.0f} kB | "
             f"{ed['send_cpu_s']:.2f} s CPU |",
             f"| now: drawn in the page | {ed['new_requests']} | none | none | {ed['send_cpu_s']:.2f} s CPU "
             f"({ed['send_wall_s']:.2f} s wall), {ed['send_bytes']} bytes |\n",
             "## First playable melody: the page's load event\n",
             "| call | render (decode, WAV, MIDI) | map figure | map JSON | piano roll JSON |", "|---|---|---|---|---|"]
    for k in ("first", "warm"):
        r = fp[k]
        lines.append(f"| {k} | {r['render_cpu_s']:.2f} s CPU ({r['render_wall_s']:.2f} s wall) | {r['map_cpu_s']:.2f} s "
                     f"CPU ({r['map_wall_s']:.2f} s wall) | {r['map_json_bytes'] / 1e6:.2f} MB | "
                     f"{r['roll_json_bytes'] / 1000:.0f} kB |")
    if m.get("browser"):
        lines += ["\n### In Chromium: seconds from opening the page (a fresh profile each run; run 1 is the server's "
                  "first page)\n", "| run | load average | the melody's answer | the player has its file | "
                  "the map's answer |", "|---|---|---|---|---|"]
        before = HERE / "slow_spots-first-play-before.json"
        if before.exists():  # measured once, with the old load event beside the new (its "how" says how)
            ab = json.loads(before.read_text())
            for key, what in (("fresh_process_before", "before, own process"), ("fresh_process_now", "now, own process"),
                              ("before", "before, alternating with now in one process"),
                              ("now", "now, alternating with before in one process")):
                lines += [f"| **{what}** | | | | |", *browser_rows(ab[key])]
        lines += ["| **now, this run** | | | | |", *browser_rows(m["browser"])]
    lines += ["\n## Damaged files through the upload path\n",
              "| file | call | read | fit of window 0 | window 0 loaded (fit, render, files) | detail needed | windows "
              "| in the page's window menu |", "|---|---|---|---|---|---|---|---|"]
    for name, calls in m["damaged"].items():
        for k, r in calls.items():
            lines.append(f"| {name} | {k} | {r['read_cpu_s']:.2f} s CPU ({r['read_wall_s']:.2f} s wall) | "
                         f"{r['fit_cpu_s']:.2f} s CPU | {r['choose_cpu_s']:.2f} s CPU ({r['choose_wall_s']:.2f} s wall) | "
                         f"{r['detail']} | {r['windows']} | {r['menu']} |")
    return "\n".join(lines) + "\n"


def run(ctx=None):
    """Section `slow_spots` for `python -m bench` (bench.worker)."""
    import tempfile

    from bench.context import Section
    from explorer.session.handlers import Handlers

    sec = Section("slow_spots")
    services = ctx.services() if ctx is not None else _services()
    work = Path(ctx.work_dir) / "slow_spots" if ctx is not None else Path(tempfile.mkdtemp(prefix="slow-spots-"))
    h = Handlers(services, out_dir=work / "renders")
    m = measure(h, work / "files")
    if available():
        url, demo = serve_shipped(services)
        try:
            m["browser"] = first_playable_browser(url)
        finally:
            demo.close()
    ed, fp = m["editor"], m["first_playable"]
    sec.add("note editor: requests for 15 drawn notes", ed["new_requests"], note=f"was {ed['old_requests']}")
    sec.add("note editor: server CPU per click", 0.0, "ms", note=f"was {ed['old_click_cpu_ms']:.0f} ms + a round trip")
    sec.add("note editor: the one send of 15 notes, CPU", ed["send_cpu_s"], "s")
    sec.add("first melody: load event render, first call, CPU", fp["first"]["render_cpu_s"], "s",
            note=f"warm {fp['warm']['render_cpu_s']:.2f} s")
    sec.add("first melody: map figure, in its own answer after the melody", fp["first"]["map_json_bytes"] / 1e6, "MB")
    for r in m.get("browser", [])[1:]:  # the server's second and later pages (the first also warms it up)
        sec.add("first melody in Chromium: page open -> player has its file", r["audio_s"], "s",
                note=f"load average {r['load_average'][0]:.1f}; the melody's answer {r['melody_message_bytes'] / 1000:.1f} kB")
    for name, calls in m["damaged"].items():
        r = calls.get("first") or calls["warm"]
        sec.add(f"damaged file ({name}): read, CPU", r["read_cpu_s"], "s", note=f"{r['menu']} windows in the menu")
        sec.add(f"damaged file ({name}): window 0 loaded, CPU", r["choose_cpu_s"], "s",
                note=f"{'first call' if 'first' in calls else 'warm'}; warm {calls['warm']['choose_cpu_s']:.2f} s")
    sec.data = m
    return sec


def _services():
    from explorer.latent.space import LatentSpace
    from vae.checkpoint import data_config, read_meta
    from vae.corpus import load_or_build
    from vae.paths import SHIPPED

    return LatentSpace.build(SHIPPED, corpus=load_or_build(data_config(read_meta(SHIPPED)), progress=False),
                             progress=False)


READING = """
## What the numbers say
- Note editor: each click was a queue event whose answer (the whole grid, ~118 kB of figure) replaced the plot; on
  a busy machine the round trip, not the ~10 ms of server work, made a note take ~1.5 s. The page now draws the
  notes itself and sends them once (tests/test_editor_client.py counts no request for 15 notes and one send).
- Damaged files: reading is never the slow part (0.03-0.05 s CPU for 70 kB, any damage). A lost note-off made a
  "melody" of one note held 1,000 bars, all of its windows in the page's menu (1,168, bench/slow_spots-before.md);
  a note now ends after 8 bars (vae.midi_import.MAX_NOTE_STEPS). What remains slow is the fit of window 0 when z
  alone cannot say it: vae.fidelity.fit_detail runs all its 160 gradient steps on a dense window (~2 s CPU here,
  ~4-9 s wall at this load), and the first fit in a process also imports torch._dynamo (torch.optim.Adam's
  constructor, ~2 s CPU once).
- First playable melody: the load event's server work is small (first call ~0.2 s CPU: decode, WAV, MIDI; the
  first render also loads pretty_midi and finds the soundfont). The map's figure (~1.2 MB of JSON for every corpus
  point) travelled in the load event's answer, so the melody could play only once the map had been built, sent and
  parsed (by hand in Chromium at load average 13: the player had its file at 9.3-13.9 s). The load event now answers
  with the melody alone (~9.5 kB) and a follow-up event (`.then`) sends the map with its star on the melody
  (explorer.ui.page; tests/test_first_play.py checks the answers in the queue's stream). What that buys depends on
  the load and the link: in one process each at load 7-9 the player had its file at 7.2-8.8 s before and 3.3-6.2 s
  after, but with the two served alternately from one process at load 4-6 the difference is within the noise
  (2.8-4.7 s before, 3.6-4.3 s now): over loopback, 1.25 MB costs little unless the CPU is starved; over a real
  link it is ~1 s at 10 Mbit/s. The map's answer now comes 0.3-0.7 s after the melody's (later on the server's
  first page, whose follow-up builds the map's figure the first time). What remains on the critical path is
  Gradio's own start-up in the page before it sends the load event (the melody's answer arrives 2.5-4 s after
  navigation at load 4-6, of which the server's work is ~0.05 s warm), not our code.
"""


def main() -> int:
    sec = run()
    md = ("# Slow spots (step 22)\n\n`python -m bench.slow_spots` on the shipped model, "
          f"{time.strftime('%Y-%m-%d %H:%M')}. Before the step-22 fixes: bench/slow_spots-before.md.\n\n"
          + markdown(sec.data) + READING)
    (HERE / "slow_spots.json").write_text(json.dumps(sec.data, indent=1, default=float))
    (HERE / "slow_spots.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
