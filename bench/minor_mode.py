"""More minor on minor tunes (`python -m bench.minor_mode`): what Mood toward minor does on the notes (vae.mode).

On `--tunes` real minor tunes of the bundled music21 corpus (ABC tunes whose K: field names a minor, Dorian or
Phrygian key and whose first four bars the key finder hears as minor), each tune's first 64 sixteenths from its
first bar line (a page window), moved 1 and 2 steps more minor on its notes (vae.mode.more_minor: what Transform's
Mood +1/+2 and the Mood slider's post-step do where the model's own move does not make the tune more minor in
its key): the Mood attribute (vae.attributes' minorness, on the window's tokens)
before and after, how many tunes changed, the key and the tonic kept (vae.music.estimate_key), and which
steps were taken. A row of major tunes shows the parallel-minor step. With `--page N`, also the page's own path
on the shipped model over N minor corpus windows, before (the latent push, the steered slider) and now (the
Mood push, the slider's post-step, the darker notes held by the model). Prints a table, writes
bench/minor_mode.md and bench/minor_mode.json.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np

from bench.report import md_table, publish
from vae.abc_reader import read_abc_file
from vae.attributes import compute_attributes
from vae.corpus import music21_corpus_root, music21_jobs
from vae.mode import more_minor
from vae.music import estimate_key, key_name
from vae.tokenizer import MelodyTokenizer, Note

HERE = Path(__file__).resolve().parent
WINDOW = 64  # sixteenths: the page's melodies
MINOR_K = re.compile(r"^\s*[A-G][#b]?\s*(m|min|minor|dor|dorian|phr|phrygian)\b", re.I)
MAJOR_K = re.compile(r"^\s*[A-G][#b]?\s*(maj|major)?\s*$", re.I)
COLLECTIONS = ("oneills", "airds", "ryans", "essen")


def window(tune) -> list[Note]:
    """The tune's first WINDOW sixteenths from its first bar line (past an upbeat)."""
    start = tune.bar_lines[1] if len(tune.bar_lines) > 1 and tune.bar_lines[0] != 0 else 0
    end = start + WINDOW
    return [Note(n.pitch, n.start - start, min(n.end, end) - start) for n in tune.notes if start <= n.start < end]


def sample(n: int, seed: int, minor: bool) -> list[tuple[str, list[Note]]]:
    """n (title, window) of minor (or major) tunes: a K: field of that kind and a window heard in that mode."""
    root, found = music21_corpus_root(), []
    pattern = MINOR_K if minor else MAJOR_K
    for coll in COLLECTIONS:
        jobs = music21_jobs((coll,))
        random.Random(seed).shuffle(jobs)
        for job in jobs[:40]:
            tunes, _ = read_abc_file(Path(job.path), coll, root)
            for t in tunes:
                w = window(t)
                if (pattern.match(t.key or "") and len(w) >= 8
                        and estimate_key(w)[1] == ("minor" if minor else "major")):
                    found.append((f"{t.title} ({coll}, K:{t.key})", w))
            if len(found) >= 4 * n:
                break
    return random.Random(seed).sample(found, min(n, len(found)))


def measure(tunes: list[tuple[str, list[Note]]], steps: int) -> dict:
    tok = MelodyTokenizer()
    before, after, changed, key_kept, tonic_kept, minor_after, taken_all, rows = [], [], [], [], [], [], Counter(), []
    for title, notes in tunes:
        dark, taken = more_minor(notes, steps)
        m0, m1 = (float(compute_attributes(tok.encode(x, WINDOW)[None])["minorness"][0]) for x in (notes, dark))
        k0, k1 = estimate_key(notes), estimate_key(dark)
        before.append(m0)
        after.append(m1)
        changed.append(dark != notes)
        key_kept.append(k1 == k0)
        tonic_kept.append(k1[0] == k0[0])
        minor_after.append(k1[1] == "minor")
        taken_all.update(taken or ["(nothing)"])
        rows.append({"tune": title, "key": key_name(k0[0], k0[1] == "minor"), "after": key_name(k1[0], k1[1] == "minor"),
                     "mood": [round(m0, 3), round(m1, 3)], "taken": taken,
                     "lowered": sum(a.pitch != b.pitch for a, b in zip(dark, notes, strict=True))})
    b, a, ch = np.array(before), np.array(after), np.array(changed)
    return {"n": len(tunes), "steps": steps, "mood_before": float(b.mean()), "mood_after": float(a.mean()),
            "mood_before_changed": float(b[ch].mean()) if ch.any() else float("nan"),
            "mood_after_changed": float(a[ch].mean()) if ch.any() else float("nan"),
            "mood_up": float(np.mean(a > b + 1e-6)), "mood_down": float(np.mean(a < b - 1e-6)),
            "mood_minor_before": float(np.mean(b > 0)), "mood_still_minor": float(np.mean(a > 0)), "changed": float(ch.mean()), "key_kept": float(np.mean(key_kept)),
            "tonic_kept": float(np.mean(tonic_kept)), "minor_after": float(np.mean(minor_after)),
            "steps_taken": dict(taken_all), "tunes": rows}


def through_the_page(n: int, seed: int) -> dict:
    """The page's own path on the shipped model, over n test-split corpus windows heard (greedy) as minor: before,
    Transform's latent push along Mood (+1, +2) and the steered Mood slider (+1) alone; now, Transform's Mood push
    (TransformActions.push) and the slider followed by its post-step (mood_slider_step). Per move: Mood before
    -> after, melodies changed, key and tonic kept, the darker notes played note for note, seconds a move."""
    import time

    from explorer.latent.space import LatentSpace
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from explorer.session.state import new_state
    from explorer.session.transform import MOOD
    from vae.checkpoint import data_config, read_meta
    from vae.corpus import load_or_build
    from vae.mode import mood
    from vae.paths import SHIPPED
    from vae.split import TEST

    corpus = load_or_build(data_config(read_meta(SHIPPED)))
    s = LatentSpace.build(SHIPPED, corpus=corpus, progress=False)
    h, play = Handlers(s), Playback()
    k_mood = next((i for i, lab in enumerate(h.labels) if lab.get("name") == MOOD), None)
    rows = np.random.default_rng(seed).permutation(np.nonzero(corpus.split == TEST)[0])
    out: dict[str, list] = {}

    def record(name, notes, after, seconds, exact=None):
        k0, k1 = estimate_key(notes), estimate_key(after)
        out.setdefault(name, []).append({"mood": (mood(notes), mood(after)), "changed": after != notes,
                                         "key": k1 == k0, "tonic": k1[0] == k0[0], "seconds": seconds,
                                         "exact": exact})

    done = 0
    for i in rows:
        if done >= n:
            break
        st, r = h.load_window(new_state(), int(i), play)
        if not r.notes or estimate_key(r.notes)[1] != "minor":
            continue
        done += 1
        for amount in (1.0, 2.0):
            t0 = time.perf_counter()
            pushed = s.push_attribute(st.z, MOOD, amount, st.detail)
            record(f"before: Transform push +{amount:.0f}", r.notes, s.notes(s.decode(pushed, detail=st.detail)),
                   time.perf_counter() - t0)
            t0 = time.perf_counter()
            _, r2, info = h.push(st, MOOD, amount, play)
            want = more_minor(r.notes, int(amount))[0] if info["darker"] and "slider" not in info["darker"][0] else None
            record(f"now: Transform push +{amount:.0f}", r.notes, r2.notes, time.perf_counter() - t0,
                   None if want is None else r2.notes == want)
        if k_mood is not None:
            cur = s.sliders_of(st.z)
            vals = cur.copy()
            vals[k_mood] += 1.0
            t0 = time.perf_counter()
            moved, det = s.slider_move(st.z, vals, cur, st.detail, h.detail_follow)
            t1 = time.perf_counter()
            record("before: Mood slider +1", r.notes, s.notes(s.decode(moved, detail=det)), t1 - t0)
            z2, d2 = h.mood_slider_step(st.z, st.detail, cur, vals, moved, det)
            record("now: Mood slider +1, then its post-step", r.notes, s.notes(s.decode(z2, detail=d2)),
                   time.perf_counter() - t0)
    summary = {}
    for name, rs in out.items():
        m = np.array([r["mood"] for r in rs])
        exact = [r["exact"] for r in rs if r["exact"] is not None]
        summary[name] = {"n": len(rs), "mood_before": float(m[:, 0].mean()), "mood_after": float(m[:, 1].mean()),
                         "changed": float(np.mean([r["changed"] for r in rs])),
                         "key_kept": float(np.mean([r["key"] for r in rs])),
                         "tonic_kept": float(np.mean([r["tonic"] for r in rs])),
                         "exact": f"{sum(exact)}/{len(exact)}" if exact else "-",
                         "seconds_median": float(np.median([r["seconds"] for r in rs]))}
    return summary


def markdown(res: dict) -> str:
    s = res["settings"]
    lines = ["# Mood toward minor on minor tunes: darker, key kept", "",
             f"`python -m bench.minor_mode --tunes {s['tunes']} --seed {s['seed']}"
             + (f" --page {s['page']}" if s.get("page") else "") + "`: each tune's first 64 sixteenths "
             "(from its first bar line) moved 1 and 2 steps more minor on its notes by vae.mode.more_minor (what "
             "Transform's Mood +1/+2 and the Mood slider's post-step do where the model's own move does not make the "
             "tune more minor in its key). Mood = the Mood attribute (minorness: best minor minus best "
             "major key correlation, > 0 sounds minor), mean over the tunes.", "",
             *md_table(["tunes, move", "changed", "Mood before -> after (all)", "(changed ones)", "Mood up / down",
                        "Mood > 0 before -> after", "key kept", "tonic kept", "minor after"],
                       ([f"{name} ({r['n']})", f"{r['changed']:.0%}", f"{r['mood_before']:.3f} -> {r['mood_after']:.3f}",
                         f"{r['mood_before_changed']:.3f} -> {r['mood_after_changed']:.3f}",
                         f"{r['mood_up']:.0%} / {r['mood_down']:.0%}",
                         f"{r['mood_minor_before']:.0%} -> {r['mood_still_minor']:.0%}", f"{r['key_kept']:.0%}",
                         f"{r['tonic_kept']:.0%}", f"{r['minor_after']:.0%}"] for name, r in res["rows"].items()))]
    lines += ["", "Steps taken:", ""]
    lines += [f"- {name}: " + ", ".join(f"{k} {v}" for k, v in r["steps_taken"].items())
              for name, r in res["rows"].items()]
    first = next(iter(res["rows"].values()))
    lines += ["", "Per tune (+1; the first 12):", "",
              *md_table(["tune", "key", "after", "Mood", "steps", "notes lowered"],
                        ([t["tune"][:60], t["key"], t["after"], f"{t['mood'][0]:.3f} -> {t['mood'][1]:.3f}",
                          ", ".join(t["taken"]) or "-", f"{t['lowered']}"] for t in first["tunes"][:12]))]
    if res.get("page"):
        lines += ["", f"Through the page's path on the shipped model (`--page {s['page']}`): {s['page']} test-split windows "
                  "heard as minor; Mood of the melodies as played (mean), key and tonic by vae.music.estimate_key; "
                  "'darker notes played' counts the moves that lowered notes and whose melody the model then plays "
                  "note for note; seconds: median per move on this machine's CPU.", "",
                  *md_table(["move", "changed", "Mood before -> after", "key kept", "tonic kept", "darker notes played",
                             "s"],
                            ([name, f"{r['changed']:.0%}", f"{r['mood_before']:.3f} -> {r['mood_after']:.3f}",
                              f"{r['key_kept']:.0%}", f"{r['tonic_kept']:.0%}", f"{r['exact']}",
                              f"{r['seconds_median']:.1f}"] for name, r in res["page"].items()))]
    lines += ["", "The Mood attribute is a key-finding score, not a darkness scale: the minor 3rd and 6th raise it, "
              "while the natural 7th and the Phrygian 2nd bring a minor tune's notes nearer its relative major's "
              "scale and may lower it; more_minor keeps every result in its minor key with Mood > 0.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.minor_mode", description=__doc__.splitlines()[0])
    p.add_argument("--tunes", type=int, default=40, help="minor tunes (and half as many major ones)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--page", type=int, default=0, help="also run the page's path on the shipped model over this many "
                   "minor corpus windows (builds the explorer's services: about a minute, then ~5 s a window)")
    a = p.parse_args(argv)
    minor, major = sample(a.tunes, a.seed, True), sample(max(a.tunes // 2, 1), a.seed, False)
    rows = {}
    for steps in (1, 2):
        rows[f"minor tunes, +{steps}"] = measure(minor, steps)
    rows["major tunes, +1"] = measure(major, 1)
    res = {"settings": {"tunes": len(minor), "major_tunes": len(major), "seed": a.seed, "window": WINDOW,
                        "page": a.page}, "rows": rows}
    if a.page:
        res["page"] = through_the_page(a.page, a.seed)
    publish(markdown(res), res, HERE, "minor_mode")


if __name__ == "__main__":
    main()
