"""Section `latency`: the app's handlers timed inside the server process (no HTTP): slider move, upload, map click."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.context import Context, Section, Stopwatch, cycle, serving_threads, stage_medians, timed
from bench.song import MELODY_TRACK, make_song


def run(ctx: Context) -> Section:
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.state import new_state

    sec = Section("latency")
    t = Stopwatch()
    services = ctx.services()
    threads = serving_threads()  # as build_ui does: one torch thread per request
    h = Handlers(services, out_dir=Path(ctx.work_dir) / "latency-files")
    play = Playback()
    state, _ = h.load_window(new_state(), h.welcome_window(), play)
    sec.data["setup"] = {"services_build_s": round(services.build_seconds, 2), "torch_threads": threads,
                         "corpus_windows": len(services.corpus), "handlers": "Handlers(services)"}

    # Slider move: 16 new slider values around the current melody (each call a new z).
    rng = np.random.default_rng(0)
    base = np.asarray(h.s.sliders_of(state.z), dtype=np.float32)
    values = cycle([list(base + rng.normal(0, 0.7, len(base)).astype(np.float32)) for _ in range(97)])
    st = {"s": state}

    def slider():
        st["s"], r = h.set_sliders(st["s"], next(values), play)
        return r.timings_ms

    n = ctx.reps(100, 20)
    stats, timings = timed(slider, n, warmup=5)
    sec.data["slider_move"] = {**stats, "stages": stage_medians(timings)}
    sec.add("slider move p50 (steer+decode+roll+audio+MIDI+originality)", stats["median_ms"], "ms", le=40, note=f"n={n}")
    sec.add("slider move p95", stats["p95_ms"], "ms", le=80)
    for stage, v in stage_medians(timings).items():
        if stage != "total":
            sec.add(f"  stage {stage} p50", v["median_ms"], "ms")

    # Upload of a typical multi-track song: read + extract (upload), then encode + render + neighbours + map.
    song = make_song(Path(ctx.work_dir) / "typical song.mid")

    def upload():
        s1 = h.upload(new_state(), str(song))
        s2, r, info = h.choose_upload(s1, 0, 0, play)
        return s2.upload.candidates[0].label, len(info["neighbours"])

    n = ctx.reps(30, 8)
    stats, outs = timed(upload, n, warmup=2)
    read_stats, _ = timed(lambda: h.upload(new_state(), str(song)), n, warmup=1)
    label = outs[0][0]
    sec.data["upload"] = {**stats, "read_and_extract": read_stats, "file": song.name, "bars": 32,
                          "tracks": "chords, bass, melody, drums", "chosen_candidate": label,
                          "picked_melody_track": MELODY_TRACK in label, "neighbours": outs[0][1]}
    sec.add("upload multi-track song p50 (melody, z fitted to it, render, exact-notes files, neighbours, map)",
            stats["median_ms"], "ms", le=1000, note=f"n={n}; picked {label!r}")
    sec.add("upload p95", stats["p95_ms"], "ms")
    sec.add("  of which reading + melody extraction p50", read_stats["median_ms"], "ms")

    # What the UI's upload event adds on top: the extracted melody's piano roll and the map with the upload on it.
    from explorer.media import figures

    def upload_ui():
        s2, r, info = h.choose_upload(h.upload(new_state(), str(song)), 0, 0, play)
        figures.piano_roll(info["extracted"], 64, title="Extracted from your file", height=220)
        h.map_figure("collection", None, {"your melody": info["map_xy"]})

    stats_ui, _ = timed(upload_ui, n, warmup=2)
    sec.data["upload_with_ui_figures"] = stats_ui
    sec.add("upload incl. the UI's extra figures p50", stats_ui["median_ms"], "ms", note="extracted roll + map figure")

    # Map click: load the window a tune's point stands for (its mu) and render it.
    tunes = np.unique(services.corpus.tune)
    picks = cycle(rng.choice(tunes, size=min(97, len(tunes)), replace=False).tolist())

    def click():
        return h.load_tune(new_state(), int(next(picks)), play)[1].timings_ms

    n = ctx.reps(50, 15)
    stats, timings = timed(click, n, warmup=3)
    sec.data["map_click"] = {**stats, "stages": stage_medians(timings)}
    sec.add("map click (load tune) p50", stats["median_ms"], "ms", note=f"n={n}")
    sec.add("map click p95", stats["p95_ms"], "ms")
    sec.data["seconds"] = round(t.s, 1)
    return sec
