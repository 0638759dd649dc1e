"""Section `fidelity`: an upload comes back as itself, and the sung line is the one picked.

Exact-note F1 (pitch and onset) of the rendering an upload starts from, encoder mu versus z fitted to the
window versus fitted z with the per-bar detail z cannot say (vae.fidelity.fit_melodies: what the explorer
plays), on held-out folk windows and on out-of-domain melodies (bench.ood: ragtime, song, classical themes
from music21 works we do not train on; pop-like files read through the upload path). Also the time to fit
one window alone, as an upload does.
Melody-track choice on bench.pop songs with names removed or lying and tracks shuffled.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.context import Context, Section

FOLK_TARGET, OOD_TARGET, TRACK_TARGET = 0.9, 0.8, 0.95


def melody_track_accuracy(files: int, names: str, seed0: int = 1000) -> float:
    from bench.pop import make_pop_song
    from vae.midi_import import extract_melodies

    folder = Path(tempfile.mkdtemp(prefix="tracks-"))
    right = 0
    for seed in range(seed0, seed0 + files):
        song = make_pop_song(folder / f"{names}-{seed}.mid", seed=seed, names=names)
        right += extract_melodies(song.path).best.track == song.vocal_track
    return right / files


def run(ctx: Context) -> Section:
    from bench.ood import ood_windows
    from vae.corpus import TEST
    from vae.fidelity import fit_melodies

    sec = Section("fidelity")
    n = 24 if ctx.quick else 80
    model = ctx.model()
    corpus = ctx.full_corpus()
    test = corpus.subset(TEST).astype(np.int64)
    sets = {"folk (held-out test windows)": test[np.random.default_rng(0).permutation(len(test))[:n]]}
    sets.update({f"out of domain: {k}": v for k, v in ood_windows(n).items()})
    sec.data["fidelity"] = {}
    alone: dict[str, list[float]] = {}
    for name, x in sets.items():
        fit = fit_melodies(model, x)
        target = FOLK_TARGET if name.startswith("folk") else OOD_TARGET
        needs = float((np.abs(fit.detail).reshape(len(x), -1).max(1) > 0).mean())
        sec.data["fidelity"][name] = {"encoder": float(fit.f1_encoder.mean()), "fitted_z": float(fit.f1_z.mean()),
                                      "fitted": float(fit.f1.mean()), "detail_share": needs, "n": len(x)}
        sec.add(f"upload F1 {name}", float(fit.f1.mean()), ge=target,
                note=f"{len(x)} windows; encoder mu alone {fit.f1_encoder.mean():.3f}, fitted z alone "
                     f"{fit.f1_z.mean():.3f}; {needs:.0%} needed a per-bar detail")
        times = []
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one window at a time on one thread, as the app fits an upload
        for w in x[: (4 if ctx.quick else 12)]:
            t0 = time.perf_counter()
            fit_melodies(model, w)
            times.append((time.perf_counter() - t0) * 1e3)
        torch.set_num_threads(threads)
        alone[name] = times
    for name, times in alone.items():
        sec.add(f"fitting one window alone, {name} (p50)", float(np.median(times)), "ms", note=f"{len(times)} windows")
    sliders_on_uploads(ctx, sec, model, sets["out of domain: pop"][: 6 if ctx.quick else 16])
    files = 30 if ctx.quick else 100
    for names in ("none", "lying", "named"):
        acc = melody_track_accuracy(files, names)
        sec.data[f"melody_track_{names}"] = acc
        sec.add(f"sung line picked, track names {names}", acc, ge=TRACK_TARGET, note=f"{files} bench.pop songs, shuffled")
    return sec


def sliders_on_uploads(ctx: Context, sec: Section, model, x: np.ndarray) -> None:
    """Do the sliders still do what they say on an upload held as (z, detail)? Each pop window's steered sweep
    (vae.sweep, as the app moves a slider) with its detail and with z alone: the mean within-melody Spearman of
    each attribute slider with its attribute, and how many sliders move theirs with Spearman >= 0.8."""
    from pathlib import Path

    from vae.controls import load_controls
    from vae.fidelity import fit_melodies
    from vae.sweep import NAME_RULE, sweep

    got = load_controls(Path(ctx.checkpoint) / "controls.json")
    if got is None:
        sec.data["sliders_on_uploads"] = "no controls.json beside the checkpoint"
        return
    controls, _, extra = got
    std = extra["settings"]["attr_std"]
    fit = fit_melodies(model, x)
    rho: dict[str, dict[str, list[float]]] = {"with detail": {}, "z alone": {}}
    for i in range(len(x)):
        for how, detail in (("with detail", fit.detail[i]), ("z alone", None)):
            rows = sweep(lambda z, d=detail: model.decode(z, detail=d), controls, fit.z[i : i + 1], std, steered=True)
            for r in rows:
                if r["attribute"]:
                    rho[how].setdefault(r["attribute"], []).append(r["spearman"])
    out = {how: {a: float(np.mean(v)) for a, v in per.items()} for how, per in rho.items()}
    sec.data["sliders_on_uploads"] = {"windows": len(x), "mean_spearman": out}
    for how, per in out.items():
        ok = sum(v >= NAME_RULE["spearman"] for v in per.values())
        sec.add(f"pop uploads: attribute sliders moving their attribute (Spearman >= {NAME_RULE['spearman']}), {how}",
                ok, f"of {len(per)}", note=f"{len(x)} windows; mean Spearman {np.mean(list(per.values())):.2f}")
