"""`python -m bench.slider_uploads`: do the named sliders still do what they say on an uploaded melody?

Through the page's own functions (explorer.session.handlers.Handlers): a MIDI file is uploaded (`upload`), its window
loaded (`choose_upload`: z fitted, plus the per-bar detail z cannot say), then each of the nine named sliders
is moved (`set_sliders`, as on release) by -2, -1, +1, +2 from the upload's own (shown) value, clipped to the
sliders' range as the page clips them, and once by +0.25 (a nudge). Melodies: 12 unseen folk tunes (one
window each from the corpus test split, written as MIDI files) and 12 unseen pop songs (POP909 700-909, the
sung MELODY track; skipped with a message where ../shared/data/pop909-dev is absent).

Per slider and set: within-melody Spearman of its attribute with the move (mean, median, min over melodies);
per-melody specificity: |own attribute change| / |largest other attribute change| from -2 to +2, each in its
corpus SD, per melody (so opposite side effects of different melodies do not cancel), mean (capped at
SPEC_CAP) and median over melodies; and note F1 with the upload after the +0.25 nudge (how much of the upload a
small move keeps). Each detail policy (vae.fidelity.DetailFollow) side by side on the same melodies and fits.
Prints the tables and writes bench/slider_uploads.md and bench/slider_uploads.json.

With --steer, the chosen policy under each steering setting of vae.sweep.steer instead (same melodies, fits and
seed), e.g. `--steer shipped,m2,t2,m2+t2 --out bench/steer_uploads`: a setting is "shipped" (vae.sweep as it is)
or "+"-joined changes: wX asked weight (STEER_ASKED_WEIGHT), cN candidates (STEER_CANDIDATES), mX weight of the
largest held miss (STEER_HELD_MAX_WEIGHT), tX weight of a changed tonic (STEER_TONIC_WEIGHT), tm: Mood moves
keep the tonic too (STEER_TONIC_FREE empty), pX power of each miss (STEER_MISS_POWER), sX weight of a move not made
(STEER_STILL_WEIGHT), rN second-round candidates (STEER_REFINE), aX side effect above which a move gets them
(STEER_REFINE_ABOVE). Every table then also says, per slider, the share of moves that
kept the upload's tonic (key finding on the window before and after).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from explorer.report import (
    NUDGE,
    POP909,
    SPEC_CAP,
    UPLOAD_OFFSETS,
    UPLOADS_N,
    folk_upload_files,
    load_upload,
    pop_upload_files,
    score_uploads,
    sweep_upload,
)
from vae.fidelity import DETAIL_FOLLOW, KEEP_DETAIL, DetailFollow

HERE = Path(__file__).resolve().parent
GOALS = {"folk": 0.9, "pop": 0.8}  # Spearman every named slider reaches (step 17)
POLICIES: dict[str, DetailFollow] = {
    "keep (before)": KEEP_DETAIL,
    "drop past 0.1": DetailFollow(hold=0.1, fade=0.0),
    "fade over 0.5": DetailFollow(fade=0.5),
    "fade over 1": DetailFollow(fade=1.0),
    "fade over 2": DetailFollow(fade=2.0),
}


def chosen_name() -> str:
    return next(k for k, v in POLICIES.items() if v == DETAIL_FOLLOW)


STEER_KNOBS = {"w": "STEER_ASKED_WEIGHT", "c": "STEER_CANDIDATES", "m": "STEER_HELD_MAX_WEIGHT",
               "t": "STEER_TONIC_WEIGHT", "p": "STEER_MISS_POWER", "s": "STEER_STILL_WEIGHT",
               "r": "STEER_REFINE", "a": "STEER_REFINE_ABOVE"}  # a --steer setting's letters -> vae.sweep's constants


@contextlib.contextmanager
def steering(setting: str) -> Iterator[dict]:
    """vae.sweep's steering constants set as `setting` says ("shipped", or e.g. "m2+t2+c32") while inside;
    yields the values in force."""
    import vae.sweep as sw

    names = (*STEER_KNOBS.values(), "STEER_TONIC_FREE")
    saved = {k: getattr(sw, k) for k in names}
    try:
        for part in [] if setting == "shipped" else setting.split("+"):
            if part == "tm":
                sw.STEER_TONIC_FREE = ()
            elif part[:1] in STEER_KNOBS and part[1:]:
                knob = STEER_KNOBS[part[0]]
                setattr(sw, knob, type(saved[knob])(float(part[1:])))
            else:
                raise ValueError(f"unknown steering setting {part!r} in {setting!r}: wX, cN, mX, tX or tm")
        yield {k: getattr(sw, k) for k in names}
    finally:
        for k, v in saved.items():
            setattr(sw, k, v)


def tonic_kept(runs: list[dict], r0s: list, sliders: list[int], attrs_of: list[str]) -> dict[str, float]:
    """Per slider: the share of its moves (every offset but 0, over melodies) whose key's tonic is the upload's."""
    from vae.attributes import pitch_class_histogram
    from vae.music import estimate_keys

    moved = [i for i, off in enumerate(UPLOAD_OFFSETS) if off != 0]
    out = {}
    for i, own in zip(sliders, attrs_of, strict=True):
        kept = []
        for run, r0 in zip(runs, r0s, strict=True):
            was = estimate_keys(pitch_class_histogram(np.asarray(r0.tokens)[None]))["tonic"][0]
            now = estimate_keys(pitch_class_histogram(run["tokens"][i][moved]))["tonic"]
            kept += list(now == was)
        out[own] = float(np.mean(kept))
    return out


def goal_counts(sliders: dict, kind: str) -> dict:
    """How many sliders meet each step-17 goal: Spearman (folk 0.9, pop 0.8), specificity >= 2x, >= 1.5x."""
    return {"spearman": sum(r["spearman_mean"] >= GOALS[kind] for r in sliders.values()),
            "spec2": sum(r["specificity_mean"] >= 2.0 for r in sliders.values()),
            "spec15": sum(r["specificity_mean"] >= 1.5 for r in sliders.values()), "n": len(sliders)}


def run(n: int = UPLOADS_N, policies: list[str] | None = None, checkpoint: Path | None = None,
        steer: list[str] | None = None, out_path: Path | None = None) -> dict:
    """Load every melody once (upload, choose_upload), then sweep it under each policy (or, with `steer`, under
    the chosen policy with each steering setting) -> JSON-able results."""
    from explorer.latent.space import LatentSpace
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers
    from vae.controls import corpus_std
    from vae.paths import SHIPPED

    t0 = time.perf_counter()
    s = LatentSpace.build(checkpoint or SHIPPED, progress=False)
    folder = Path(tempfile.mkdtemp(prefix="slider-uploads-"))
    h = Handlers(s, out_dir=folder / "out")
    play = Playback()
    std = s.sliders.attr_std or corpus_std(s.attrs)
    named = [d for d in s.direction_labels() if d["name"] and d["fitted"] == d["name"]]
    sliders, attrs_of = [d["index"] for d in named], [d["name"] for d in named]
    sets = {"folk": folk_upload_files(s, folder, n), "pop": pop_upload_files(n)}
    out: dict = {"checkpoint": str(checkpoint or SHIPPED), "n": n, "offsets": list(UPLOAD_OFFSETS), "nudge": NUDGE, "spec_cap": SPEC_CAP, "chosen": chosen_name(),
                 "policies": {k: {"hold": v.hold, "fade": v.fade} for k, v in POLICIES.items()},
                 "sets": {}, "melodies": {}, "notes": []}
    # columns: (name, detail policy, steering setting)
    if steer:
        columns = [(st, DETAIL_FOLLOW, st) for st in steer]
        out["steer"] = {}
    else:
        columns = [(name, POLICIES[name], "shipped") for name in policies or list(POLICIES)]
    if not sets["pop"]:
        msg = f"pop skipped: no POP909 songs in {POP909}"
        print(msg)
        out["notes"].append(msg)
    for kind, files in sets.items():
        if not files:
            continue
        loaded = [load_upload(h, p, play) for p in files]
        out["melodies"][kind] = [lab for _, _, lab in loaded]
        print(f"{kind}: {len(loaded)} melodies loaded ({time.perf_counter() - t0:.0f} s)", flush=True)
        out["sets"][kind] = {}
        for name, policy, setting in columns:
            h.detail_follow = policy
            with steering(setting) as knobs:
                runs = [sweep_upload(h, st, r0, play, sliders) for st, r0, _ in loaded]
            if steer:
                out["steer"][name] = {k: list(v) if isinstance(v, tuple) else v for k, v in knobs.items()}
            r0s = [r0 for _, r0, _ in loaded]
            table = score_uploads(runs, r0s, sliders, attrs_of, std)
            for a, v in tonic_kept(runs, r0s, sliders, attrs_of).items():
                table[a]["tonic_kept"] = v
            ms = np.concatenate([r["ms"] for r in runs])
            out["sets"][kind][name] = {"sliders": table, "set_sliders_ms_p50": float(np.median(ms)),
                                       "goals": goal_counts(table, kind)}
            print(f"  {name}: {time.perf_counter() - t0:.0f} s {out['sets'][kind][name]['goals']}", flush=True)
            if out_path is not None:  # a long run keeps what it has measured
                out_path.with_suffix(".partial.json").write_text(json.dumps(out, indent=1))
    h.detail_follow = DETAIL_FOLLOW
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _f(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


def format_markdown(r: dict) -> str:
    from vae.controls import WORDS

    lines = ["# Sliders on uploaded melodies (`python -m bench.slider_uploads`)", "",
             __doc__.split("\n\n", 1)[1].strip(), "",
             f"Goal: every named slider Spearman ≥ {GOALS['folk']} on folk uploads and ≥ {GOALS['pop']} on pop uploads; "
             "per-melody specificity ≥ 2× for at least 6 of 9 and ≥ 1.5× for all. Chosen policy: "
             f"**{r['chosen']}** (vae.fidelity.DETAIL_FOLLOW). Distances are in slider units (Euclidean length of "
             "the change of slider values; a named slider's unit is its attribute's corpus SD).", ""]
    lines += ["Policies: " + "; ".join(f"{k}: hold {v['hold']:g}, fade {v['fade']:g}" for k, v in r["policies"].items()),
              ""]
    if r.get("steer"):
        lines += ["Steering settings (vae.sweep), each with the chosen policy: " + "; ".join(
            f"{k}: " + ", ".join(f"{c.removeprefix('STEER_').lower()} {v}" for c, v in knobs.items())
            for k, knobs in r["steer"].items()), ""]
    for note in r["notes"]:
        lines += [f"*{note}*", ""]
    for kind, per in r["sets"].items():
        pols = list(per)
        lines += [f"## {kind} uploads ({len(r['melodies'][kind])} melodies)", "",
                  "Spearman: mean / median / min over melodies.", "",
                  "| slider | " + " | ".join(pols) + " |", "|---|" + "---:|" * len(pols)]
        attrs = list(per[pols[0]]["sliders"])
        for a in attrs:
            cells = [f"{_f(per[p]['sliders'][a]['spearman_mean'])} / {_f(per[p]['sliders'][a]['spearman_median'])} / "
                     f"{_f(per[p]['sliders'][a]['spearman_min'])}" for p in pols]
            lines.append(f"| {WORDS[a][0]} | " + " | ".join(cells) + " |")
        lines += ["", "Per-melody specificity (own change over the largest other, from -2 to +2): mean (capped at "
                  f"{r['spec_cap']:g}×) / median.", "", "| slider | " + " | ".join(pols) + " |",
                  "|---|" + "---:|" * len(pols)]
        for a in attrs:
            cells = [f"{per[p]['sliders'][a]['specificity_mean']:.1f}× / {per[p]['sliders'][a]['specificity_median']:.1f}×"
                     for p in pols]
            lines.append(f"| {WORDS[a][0]} | " + " | ".join(cells) + " |")
        if all("tonic_kept" in v for p in pols for v in per[p]["sliders"].values()):
            lines += ["", "Share of moves that keep the upload's tonic (key finding before and after; Mood may "
                      "change it).", "", "| slider | " + " | ".join(pols) + " |", "|---|" + "---:|" * len(pols)]
            for a in attrs:
                lines.append(f"| {WORDS[a][0]} | " + " | ".join(f"{per[p]['sliders'][a]['tonic_kept']:.2f}"
                                                             for p in pols) + " |")
        lines += ["", f"Note F1 with the upload after a +{r['nudge']:g} nudge (mean over sliders and melodies); "
                  "set_sliders p50 ms; sliders meeting each goal (Spearman, specificity ≥ 2×, ≥ 1.5×, of 9).", "",
                  "| | " + " | ".join(pols) + " |", "|---|" + "---:|" * len(pols),
                  "| nudge F1 | " + " | ".join(f"{np.mean([v['nudge_f1'] for v in per[p]['sliders'].values()]):.2f}"
                                                for p in pols) + " |",
                  "| set_sliders p50 ms | " + " | ".join(f"{per[p]['set_sliders_ms_p50']:.0f}" for p in pols) + " |",
                  "| goals: Spearman / ≥ 2× / ≥ 1.5× | " + " | ".join(
                      "{spearman} / {spec2} / {spec15}".format(**goal_counts(per[p]["sliders"], kind)) for p in pols)
                  + " |",
                  "", "Melodies: " + "; ".join(r["melodies"][kind]), ""]
    lines.append(f"({r['seconds']:.0f} s in all.)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.slider_uploads", description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=UPLOADS_N, help="melodies per set (folk, pop)")
    p.add_argument("--policies", default=None, help="comma-separated policy names (default: all)")
    p.add_argument("--out", type=Path, default=HERE / "slider_uploads")
    p.add_argument("--checkpoint", type=Path, help="the model to measure (default: the shipped one)")
    p.add_argument("--steer", default=None,
                   help="comma-separated steering settings to compare under the chosen policy, e.g. shipped,m2,t2+c32")
    a = p.parse_args(argv)
    r = run(a.n, a.policies.split(",") if a.policies else None, a.checkpoint,
            a.steer.split(",") if a.steer else None, a.out if a.steer else None)
    md = format_markdown(r)
    print(md)
    a.out.with_suffix(".md").write_text(md)
    a.out.with_suffix(".json").write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
