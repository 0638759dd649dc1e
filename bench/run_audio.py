"""Section `audio`: FluidSynth real-time factor of a 9 s melody, synth kept loaded vs reloaded per call."""

from __future__ import annotations

from bench.context import Context, Section, Stopwatch, timed

TEMPO = 113.0  # 4 bars at 113 quarter notes/min last 8.5 s; with the 0.5 s release tail, 9 s of audio
SAMPLE_RATE = 44100


def melody():
    """4 bars of eighths and quarters walking up and down a C major scale (any 4-bar melody would do)."""
    from vae.tokenizer import Note

    scale = [60, 62, 64, 65, 67, 69, 71, 72, 74, 72, 71, 69, 67, 65, 64, 62]
    notes, t, i = [], 0, 0
    while t < 64:
        d = 2 if (t // 8) % 2 == 0 else 4
        notes.append(Note(scale[i % len(scale)], t, min(t + d, 64)))
        t, i = t + d, i + 1
    return notes


def run(ctx: Context) -> Section:
    from explorer.media.audio import Synth, find_soundfont, get_synth, render

    sec = Section("audio")
    t = Stopwatch()
    sf = find_soundfont()
    notes = melody()
    audio_s = len(render(notes, tempo=TEMPO)) / SAMPLE_RATE
    n = ctx.reps(50, 10)
    kept, _ = timed(lambda: render(notes, tempo=TEMPO), n, warmup=3)
    chord, _ = timed(lambda: render(notes, tempo=TEMPO, accompaniment="chord"), n, warmup=3)

    # The same melody as raw events, rendered by the process-wide synth vs a Synth built for the call.
    step_samples = 60.0 / TEMPO / 4 * SAMPLE_RATE
    events = [e for nt in notes for e in ((round(nt.start * step_samples), 1, 0, nt.pitch, 90),
                                          (round(nt.end * step_samples), 0, 0, nt.pitch, 0))]
    total = int(audio_s * SAMPLE_RATE)
    programs = {0: 0}
    loaded = get_synth(sf, SAMPLE_RATE)
    kept_ev, _ = timed(lambda: loaded.render_events(events, total, programs), n, warmup=3)

    def reloaded():
        s = Synth(sf, SAMPLE_RATE)
        s.render_events(events, total, programs)
        return s

    reload_ev, synths = timed(reloaded, ctx.reps(20, 5), warmup=1)
    for s in synths:  # free FluidSynth's memory: a new soundfont per call would otherwise add up
        getattr(getattr(s, "_fs", None), "delete", lambda: None)()

    ratio = reload_ev["median_ms"] / kept_ev["median_ms"]
    sec.data = {"soundfont": str(sf), "audio_seconds": round(audio_s, 3), "tempo": TEMPO, "notes": len(notes),
                "render_kept_loaded": kept, "render_with_chord_backing": chord,
                "events_kept_loaded": kept_ev, "events_reloaded_per_call": reload_ev,
                "reload_over_kept_ratio": round(ratio, 2),
                "real_time_factor_kept": round(kept["median_ms"] / 1000 / audio_s, 5),
                "real_time_factor_reloaded": round(reload_ev["median_ms"] / 1000 / audio_s, 5)}
    per_s = kept["median_ms"] / audio_s
    sec.add(f"render {audio_s:.1f} s melody, synth kept loaded p50", kept["median_ms"], "ms",
            note=f"{per_s:.2f} ms per audio second; real-time factor {per_s / 1000:.4f}; {sf.name}")
    sec.add("  same with tonic-chord backing p50", chord["median_ms"], "ms")
    sec.add("render, new Synth (soundfont reloaded) per call p50", reload_ev["median_ms"], "ms",
            note=f"x{ratio:.2f} of kept loaded ({kept_ev['median_ms']:.1f} ms, same events)")
    sec.data["seconds"] = round(t.s, 1)
    return sec
