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
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
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


def run(n: int = UPLOADS_N, policies: list[str] | None = None, checkpoint: Path | None = None) -> dict:
    """Load every melody once (upload, choose_upload), then sweep it under each policy -> JSON-able results."""
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
        for name in policies or list(POLICIES):
            h.detail_follow = POLICIES[name]
            runs = [sweep_upload(h, st, r0, play, sliders) for st, r0, _ in loaded]
            table = score_uploads(runs, [r0 for _, r0, _ in loaded], sliders, attrs_of, std)
            ms = np.concatenate([r["ms"] for r in runs])
            out["sets"][kind][name] = {"sliders": table, "set_sliders_ms_p50": float(np.median(ms))}
            print(f"  {name}: {time.perf_counter() - t0:.0f} s", flush=True)
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
        lines += ["", f"Note F1 with the upload after a +{r['nudge']:g} nudge (mean over sliders and melodies); "
                  "set_sliders p50 ms.", "", "| | " + " | ".join(pols) + " |", "|---|" + "---:|" * len(pols),
                  "| nudge F1 | " + " | ".join(f"{np.mean([v['nudge_f1'] for v in per[p]['sliders'].values()]):.2f}"
                                                for p in pols) + " |",
                  "| set_sliders p50 ms | " + " | ".join(f"{per[p]['set_sliders_ms_p50']:.0f}" for p in pols) + " |",
                  "", "Melodies: " + "; ".join(r["melodies"][kind]), ""]
    lines.append(f"({r['seconds']:.0f} s in all.)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.slider_uploads", description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=UPLOADS_N, help="melodies per set (folk, pop)")
    p.add_argument("--policies", default=None, help="comma-separated policy names (default: all)")
    p.add_argument("--out", type=Path, default=HERE / "slider_uploads")
    p.add_argument("--checkpoint", type=Path, help="the model to measure (default: the shipped one)")
    a = p.parse_args(argv)
    r = run(a.n, a.policies.split(",") if a.policies else None, a.checkpoint)
    md = format_markdown(r)
    print(md)
    a.out.with_suffix(".md").write_text(md)
    a.out.with_suffix(".json").write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
