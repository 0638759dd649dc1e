"""What the latent space offers, measured: direction table, attribute vectors, style moves, map, copy check."""

from __future__ import annotations

import time

import numpy as np

from explorer.services import ExplorerServices
from explorer.styles import balanced_accuracy, measure_style_moves
from explorer.vectors import measure_attribute_vectors
from vae.attributes import compute_attributes
from vae.controls import corpus_std
from vae.corpus import TEST, TRAIN, VALID
from vae.sweep import NAME_RULE, SWEEP_VALUES, format_sweep, summarise
from vae.voice import VoiceLimits, within


def _p50_ms(fn, args: list) -> float:
    times = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1000, 3)


def build_report(s: ExplorerServices, n: int = 200, seed: int = 0) -> dict:
    """Measure the services on held-out (validation) windows: n melodies per measurement. Returns a JSON-able dict."""
    rng = np.random.default_rng(seed)
    split = s.index.split
    held = np.nonzero(split == VALID)[0] if (split == VALID).any() else np.nonzero(split == TRAIN)[0]
    mu_held = s.index.mu[held]
    out: dict = {"model": {"step": s.model.meta.get("step"), "latent_dim": s.latent_dim,
                           "scores": s.model.meta.get("scores", {}), "windows": len(s.index),
                           "train_windows": int((split == TRAIN).sum()), "index_from_cache": s.index.from_cache,
                           "index_seconds": round(s.index.seconds, 3), "build_seconds": round(s.build_seconds, 3)}}

    out["sliders"] = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
                      for d in s.direction_labels()]
    out["slider_sweep"] = {"table": s.slider_sweep(), "summary": summarise(s.slider_sweep()),
                           "rule": dict(NAME_RULE), "values": list(SWEEP_VALUES)}

    voice = VoiceLimits()  # the Transform screen's default: Keep it singable
    out["attribute_vectors"] = measure_attribute_vectors(
        s.model, s.vectors, mu_held, n=n, seed=seed, push=lambda z, name, a: s.push_attribute(z, name, a, limits=voice))
    out["singable"] = measure_singable(s, mu_held, n=min(n, 100), seed=seed)

    pred = s.styles.predict(mu_held)
    out["styles"] = {"names": s.style_names, "train_windows": s.styles.counts.tolist(),
                     "classifier_balanced_accuracy_held_out": balanced_accuracy(pred, s.window_style[held],
                                                                                len(s.style_names)),
                     "moves": measure_style_moves(s.model, s.styles, mu_held, s.window_style[held], n=n, seed=seed)}

    cents = s.map.place(s.styles.centroids)
    out["map"] = {"method": s.map.method, "held_out_separation": s.map.scores, "points": "one per tune",
                  "tunes": int(np.isfinite(s.tune_mu[:, 0]).sum()),
                  "style_centroids_xy": {name: [round(float(x), 3) for x in xy]
                                         for name, xy in zip(s.style_names, cents, strict=True)}}

    test = np.nonzero(split == TEST)[0]
    rows = rng.choice(test, size=min(n, len(test)), replace=False) if len(test) else np.zeros(0, np.int64)
    checks = [s.originality(s.corpus.tokens[i]) for i in rows]
    _, prior_tokens = s.sample(n, temperature=0.0, seed=seed)
    prior_checks = [s.originality(t) for t in prior_tokens]
    recon = s.decode(mu_held[: min(n, len(mu_held))])
    recon_checks = [s.originality(t) for t in recon]

    def summary(cs: list[dict]) -> dict:
        if not cs:
            return {}
        steps = np.array([c["steps"] for c in cs])
        return {"n": len(cs), "likely_copy_share": float(np.mean([c["likely_copy"] for c in cs])),
                "median_run_steps": float(np.median(steps)), "max_run_steps": int(steps.max())}

    out["originality"] = {"held_out_test_windows": summary(checks), "prior_samples_greedy": summary(prior_checks),
                          "held_out_reconstructions": summary(recon_checks),
                          "note": "real held-out tunes share stock 2-bar figures with training tunes too: "
                                  "compare generated melodies with the held-out baseline"}
    queries = list(s.index.mu[rng.choice(len(s.index), size=min(50, len(s.index)), replace=False)])
    out["timing_ms_p50"] = {"neighbours_k10": _p50_ms(lambda z: s.neighbours(z, 10), queries),
                            "originality": _p50_ms(s.originality, list(prior_tokens[:50])),
                            "sliders_roundtrip": _p50_ms(lambda z: s.z_from_sliders(z, s.sliders_of(z)), queries),
                            "place": _p50_ms(s.place, queries)}
    return out


SINGABLE_AMOUNT = 2.0  # the Transform screen's largest push, each way


def measure_singable(s: ExplorerServices, mu: np.ndarray, n: int = 100, seed: int = 0,
                     limits: VoiceLimits | None = None) -> dict:
    """Share of pushed melodies (every attribute, +-SINGABLE_AMOUNT) a voice can sing (vae.voice), pushed with
    the limits and without, on n held-out melodies; and what the limits cost the push (change achieved in the
    asked attribute, with / without, in its corpus SD)."""
    limits = limits or VoiceLimits()
    rows = np.random.default_rng(seed).choice(len(mu), size=min(n, len(mu)), replace=False)
    z0 = np.asarray(mu[rows], np.float32)
    std = s.sliders.attr_std or corpus_std(s.attrs)
    start = within(s.decode(z0), limits)
    out = {"limits": {"max_range": limits.max_range, "max_leap": limits.max_leap}, "n": len(z0),
           "unpushed_within": float(start.mean()), "attributes": {}}
    free_all, kept_all = [], []
    for name in s.attribute_names:
        row = {}
        for label, lim in (("free", None), ("limited", limits)):
            tokens = np.concatenate([s.decode(s.push_attribute(z0, name, a, limits=lim))
                                     for a in (-SINGABLE_AMOUNT, SINGABLE_AMOUNT)])
            ok = within(tokens, limits)
            vals = compute_attributes(tokens)[name].reshape(2, len(z0))
            row[f"{label}_within"] = float(ok.mean())
            gap = vals[1] - vals[0]
            row[f"{label}_change_sd"] = (float(np.nanmean(gap) / max(std.get(name, 1.0), 1e-9))
                                         if np.isfinite(gap).any() else float("nan"))
            (free_all if lim is None else kept_all).append(ok)
        out["attributes"][name] = row
    out["free_within"] = float(np.concatenate(free_all).mean())
    out["limited_within"] = float(np.concatenate(kept_all).mean())
    return out


def format_report(r: dict) -> str:
    """Readable tables of a build_report dict."""
    m = r["model"]
    lines = [f"model step {m['step']}  latent {m['latent_dim']}  windows {m['windows']} (train {m['train_windows']})  "
             f"index {'cached' if m['index_from_cache'] else 'built'} in {m['index_seconds']} s  "
             f"services ready in {m['build_seconds']} s", "",
             "sliders: each swept over -2..+2 on held-out melodies (effect in corpus SDs of the target attribute; "
             f"named at Spearman >= {r['slider_sweep']['rule']['spearman']} and >= "
             f"{r['slider_sweep']['rule']['specificity']}x any other attribute)", format_sweep(r["slider_sweep"]["table"]),
             f"  {r['slider_sweep']['summary']['earned']} of {r['slider_sweep']['summary']['attribute_sliders']} "
             f"attribute sliders earned their name; labels:"]
    for d in r["sliders"]:
        lines.append(f"  {d['index'] + 1:>3} {d['variance_share']:>7.3f}  {d['label']}")
    lines += ["", "attribute pushes as the app makes them (steered like the sliders, kept singable; decoded, held-out "
                  "melodies): change achieved per unit push",
              f"  {'attribute':<22} {'quartile gap':>12} {'per unit':>9} {'ratio':>6} {'up share':>8}"]
    for name, v in r["attribute_vectors"].items():
        lines.append(f"  {name:<22} {v['gap']:>12.3f} {v['per_unit']:>9.3f} {v['ratio']:>6.2f} {v['up_share']:>8.2f}")
    sg = r.get("singable")
    if sg:
        lines += ["", f"singable pushes (range <= {sg['limits']['max_range']} and leaps <= {sg['limits']['max_leap']} "
                      f"semitones; pushes of +-{SINGABLE_AMOUNT:g} on {sg['n']} held-out melodies, "
                      f"{sg['unpushed_within']:.2f} singable before): share within, free -> limited; change achieved "
                      "(SD), free -> limited",
                  f"  {'all attributes':<22} {sg['free_within']:>5.2f} -> {sg['limited_within']:.2f}"]
        for name, v in sg["attributes"].items():
            lines.append(f"  {name:<22} {v['free_within']:>5.2f} -> {v['limited_within']:.2f}   "
                         f"{v['free_change_sd']:>6.2f} -> {v['limited_change_sd']:.2f}")
    st = r["styles"]
    lines += ["", f"styles: classifier balanced accuracy on held-out mu {st['classifier_balanced_accuracy_held_out']:.3f}",
              "  move to style (amount 1, decoded and re-encoded): share recognised as the target; centroid move "
              "vs discriminant-subspace move vs the app's steered move (rhythm: onset F1 kept by it; latent: "
              "before decoding)",
              f"  {'target':<10} {'before':>7} {'centroid':>9} {'subspace':>9} {'steered':>8} {'rhythm':>7} {'latent c/s':>11}"]
    for name, v in st["moves"].items():
        lines.append(f"  {name:<10} {v['before']:>7.2f} {v['after']:>9.2f} {v['after_subspace']:>9.2f} "
                     f"{v['after_steered']:>8.2f} {v['steered_rhythm_kept']:>7.2f} "
                     f"{v['moved_latent']:>5.2f}/{v['moved_latent_subspace']:.2f}")
    mp = r["map"]
    lines += ["", f"map: {mp['method']} projection, {mp['tunes']} tune points; held-out separation "
              + ", ".join(f"{k} {v:.3f}" for k, v in mp["held_out_separation"].items())]
    o = r["originality"]
    lines += ["", "copy check (longest transposition-invariant run shared with a training window)"]
    for k in ("held_out_test_windows", "held_out_reconstructions", "prior_samples_greedy"):
        if o[k]:
            lines.append(f"  {k:<26} likely copy {o[k]['likely_copy_share']:.2f}  median run {o[k]['median_run_steps']:.0f} "
                         f"steps  max {o[k]['max_run_steps']}")
    lines += ["", "timing (ms, p50): " + ", ".join(f"{k} {v}" for k, v in r["timing_ms_p50"].items())]
    return "\n".join(lines)

