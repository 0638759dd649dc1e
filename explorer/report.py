"""What the latent space offers, measured: direction table, attribute vectors, style moves, map, copy check, and the
named sliders on uploaded melodies."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from explorer.latent.space import LatentSpace
from explorer.latent.styles import balanced_accuracy, measure_style_moves
from explorer.latent.vectors import measure_attribute_vectors
from vae.attributes import compute_attributes
from vae.controls import corpus_std
from vae.corpus import TEST, TRAIN, VALID
from vae.paths import REPO
from vae.sweep import NAME_RULE, SPEC_CAP, SWEEP_VALUES, format_sweep, summarise
from vae.voice import VoiceLimits, within

POP909 = REPO.parent / "shared" / "data" / "pop909-dev"  # POP909 songs (number/number.mid), where present
UPLOAD_OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # slider moves from an upload's own value (0: the upload as loaded)
NUDGE = 0.25  # a small move: how much of the upload's notes it keeps
MIN_NOTES = 8  # note-ons a chosen window has at least
UPLOADS_N = 12  # melodies per set (folk, pop)
HARMONY_SONGS = 5  # POP909 songs (from 700: no harmoniser was tuned or learned on them) the report scores chords on


def _p50_ms(fn, args: list) -> float:
    times = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1000, 3)


def build_report(s: LatentSpace, n: int = 200, seed: int = 0, uploads: int = UPLOADS_N,
                 harmony_songs: int = HARMONY_SONGS) -> dict:
    """Measure the services on held-out (validation) windows: n melodies per measurement; the named sliders on
    `uploads` unseen folk tunes and pop songs each, uploaded (0: not measured); and the harmoniser's chords against
    human ones (measure_harmony, with `harmony_songs` POP909 songs). Returns a JSON-able dict."""
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

    if uploads:
        out["upload_sliders"] = measure_upload_sliders(s, uploads)

    out["harmony"] = measure_harmony(harmony_songs)

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


def measure_harmony(songs: int = HARMONY_SONGS, pop_dir: Path = POP909) -> dict:
    """Per-beat agreement of the page's chords (vae.harmony.harmonise, both transition models) and the two baselines
    with human chords on a small held-out set, in a few seconds: the music21 corpus's ABC tunes with quoted chords
    (Nottingham) and its lead sheets, and `songs` POP909 songs from 700 (skipped with a sentence where absent).
    bench.harmony measures the same on more songs and on Bach chorales."""
    from vae.chord_truth import abc_windows, leadsheet_windows, pop909_windows, score
    from vae.harmony import DEFAULT_METHOD

    t0 = time.perf_counter()
    sets: dict[str, dict] = {"folk (abc)": score(abc_windows()[0]), "lead sheets": score(leadsheet_windows())}
    if songs and pop_dir.is_dir() and any(p.name.isdigit() for p in pop_dir.iterdir()):
        sets["pop909"] = score(pop909_windows(songs, folder=pop_dir))
    else:
        sets["pop909"] = {"skipped": f"no POP909 songs in {pop_dir}: chords measured on folk and lead sheets only"}
    for r in sets.values():
        r.pop("_ms", None)
    return {"default": DEFAULT_METHOD, "sets": sets, "seconds": round(time.perf_counter() - t0, 1)}


def format_harmony(h: dict) -> list[str]:
    """The harmony section of the report: one line per set and method."""
    lines = [f"chords vs human chords, per beat (held-out; the page uses {h['default']}; root / root+triad / "
             f"root+7th; measured in {h['seconds']} s)"]
    for name, r in h["sets"].items():
        if "skipped" in r:
            lines.append(f"  {name}: skipped: {r['skipped']}")
            continue
        lines.append(f"  {name} ({r['windows']} windows, {r['beats']} beats)")
        for m, a in r["accuracy"].items():
            ms = r.get("ms", {}).get(m)
            lines.append(f"    {m:<11} {a['root']:.3f} / {a['triad']:.3f} / {a['full']:.3f}"
                         + (f"   p50 {ms['p50_ms']} ms a window" if ms else ""))
    return lines


SINGABLE_AMOUNT = 2.0  # the Transform screen's largest push, each way


def measure_singable(s: LatentSpace, mu: np.ndarray, n: int = 100, seed: int = 0,
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


def folk_upload_files(s, folder: Path, n: int) -> list[Path]:
    """One window each of n test-split tunes of the folk corpus spread over the split, written as one-track MIDI
    files (the base corpus's: a collection joined to `s`, the shipped Pop included, is not folk)."""
    from vae.constants import FIRST_NOTE_ON
    from vae.corpus import TEST
    from vae.midi_export import notes_to_midi

    c = (getattr(s, "base", None) or s).corpus
    busy = (c.tokens >= FIRST_NOTE_ON).sum(1) >= MIN_NOTES
    tunes = np.unique(c.tune[(c.split == TEST) & busy])
    out = []
    for t in tunes[np.linspace(0, len(tunes) - 1, n).round().astype(int)]:
        rows = np.nonzero((c.tune == t) & busy)[0]
        row = int(rows[len(rows) // 2])
        path = folder / f"folk-{row}.mid"
        notes_to_midi(s.notes(c.tokens[row].astype(np.int64)), path)
        out.append(path)
    return out


def pop_upload_files(n: int, folder: Path = POP909) -> list[Path]:
    """n POP909 songs from 700-909 (never looked at while tuning the melody-track ranking), spread evenly; empty
    when the folder is absent."""
    if not folder.is_dir():
        return []
    have = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit() and 700 <= int(p.name) <= 909
                  and (p / f"{p.name}.mid").exists())
    if not have:
        return []
    pick = [have[i] for i in np.linspace(0, len(have) - 1, min(n, len(have))).round().astype(int)]
    return [folder / f"{k:03d}" / f"{k:03d}.mid" for k in pick]


def load_upload(h, path: Path, play) -> tuple:
    """Upload a file and load the sung line's (MELODY's, else the first candidate's) middle busy window through
    the page's handlers -> (session, render, label)."""
    from explorer.session.state import new_state
    from vae.constants import FIRST_NOTE_ON

    st = h.upload(new_state(), str(path))
    cands = st.upload.candidates
    cand = next((i for i, c in enumerate(cands) if c.name.upper().startswith("MELODY")), 0)
    wins = cands[cand].windows
    busy = np.nonzero((wins >= FIRST_NOTE_ON).sum(1) >= MIN_NOTES)[0]
    window = int(busy[len(busy) // 2]) if len(busy) else 0
    st, r, info = h.choose_upload(st, cand, window, play)
    return st, r, f"{path.stem} w{window} (F1 {info['fidelity']['fitted']:.2f}, detail {info['fidelity']['detail']})"


def sweep_upload(h, st, r0, play, sliders: list[int]) -> dict:
    """Every named slider moved by each offset (and NUDGE) from the upload as loaded -> {"tokens": {slider:
    [V, T] over UPLOAD_OFFSETS}, "nudge": {slider: tokens [T]}, "ms": [per set_sliders call]}."""
    from explorer.session.slider_move import SLIDER_RANGE

    shown = list(r0.sliders)
    out, nudge, ms = {}, {}, []

    def moved(i: int, off: float) -> np.ndarray:
        values = list(shown)
        values[i] = float(np.clip(round(shown[i] + off, 2), -SLIDER_RANGE, SLIDER_RANGE))
        t0 = time.perf_counter()
        _, r = h.set_sliders(st, values, play)
        ms.append((time.perf_counter() - t0) * 1e3)
        return r.tokens

    for i in sliders:
        out[i] = np.stack([r0.tokens if off == 0 else moved(i, off) for off in UPLOAD_OFFSETS])
        nudge[i] = moved(i, NUDGE)
    return {"tokens": out, "nudge": nudge, "ms": ms}


def score_uploads(runs: list[dict], r0s: list, sliders: list[int], attrs_of: list[str], std: dict) -> dict:
    """Per slider over melodies: Spearman (mean, median, min), per-melody specificity (mean capped, median) and
    the nudge's note F1 with the upload (mean)."""
    from vae.attributes import ATTRIBUTES, compute_attributes
    from vae.controls import spearman
    from vae.fidelity import note_f1

    names = [a for a in ATTRIBUTES if a in std]
    vals = np.asarray(UPLOAD_OFFSETS)
    table = {}
    for i, own in zip(sliders, attrs_of, strict=True):
        rho, spec, f1 = [], [], []
        for run, r0 in zip(runs, r0s, strict=True):
            a = compute_attributes(run["tokens"][i])
            y = a[own]
            rho.append(spearman(vals, y) if np.isfinite(y).all() else 0.0)
            change = {n: (a[n][-1] - a[n][0]) / max(std[n], 1e-9) for n in names if n in a}
            others = max((abs(v) for n, v in change.items() if n != own and np.isfinite(v)), default=0.0)
            mine = abs(change[own]) if np.isfinite(change[own]) else 0.0
            spec.append(min(mine / max(others, 1e-9), SPEC_CAP))
            f1.append(float(note_f1(r0.tokens, run["nudge"][i])[0]))
        table[own] = {"spearman_mean": float(np.mean(rho)), "spearman_median": float(np.median(rho)),
                      "spearman_min": float(np.min(rho)), "specificity_mean": float(np.mean(spec)),
                      "specificity_median": float(np.median(spec)), "nudge_f1": float(np.mean(f1)),
                      "spearman": [round(float(v), 3) for v in rho], "specificity": [round(float(v), 2) for v in spec]}
    return table


def measure_upload_sliders(s: LatentSpace, n: int = UPLOADS_N, pop_dir: Path = POP909,
                           folder: Path | None = None) -> dict:
    """The named sliders on uploads, through the page's own handlers (upload, choose_upload, set_sliders): per
    named slider and set (n unseen folk tunes of the test split written as MIDI files; n POP909 songs' sung
    lines), Spearman of its attribute with the move over UPLOAD_OFFSETS and per-melody specificity (own change
    over the largest other, each in corpus SDs, per melody: side effects of different melodies never cancel).
    Returns {"folk": score_uploads table, "pop": table or a sentence saying why it was skipped}."""
    from explorer.media.files import Playback
    from explorer.session.handlers import Handlers

    folder = Path(folder or tempfile.mkdtemp(prefix="upload-sliders-"))
    h = Handlers(s, out_dir=folder / "out")
    play = Playback()
    std = s.sliders.attr_std or corpus_std(s.attrs)
    named = [d for d in s.direction_labels() if d["name"] and d["fitted"] == d["name"]]
    sliders, names = [d["index"] for d in named], [d["name"] for d in named]
    out: dict = {"n": n, "offsets": list(UPLOAD_OFFSETS), "spec_cap": SPEC_CAP,
                 "follow": {"hold": h.detail_follow.hold, "fade": h.detail_follow.fade}}
    for kind, files in (("folk", folk_upload_files(s, folder, n)), ("pop", pop_upload_files(n, pop_dir))):
        if not files:
            out[kind] = f"skipped: no POP909 songs in {pop_dir}"
            continue
        loaded = [load_upload(h, p, play) for p in files]
        runs = [sweep_upload(h, st, r0, play, sliders) for st, r0, _ in loaded]
        out[kind] = score_uploads(runs, [r0 for _, r0, _ in loaded], sliders, names, std)
        out[f"{kind}_melodies"] = [label for _, _, label in loaded]
    return out


def format_upload_sliders(u: dict) -> list[str]:
    """Lines of the upload table: per named slider, folk and pop Spearman (mean / min) and per-melody specificity."""
    from vae.controls import WORDS

    lines = [f"named sliders on uploads (through upload, choose_upload and set_sliders; moves of "
             f"{', '.join(f'{v:+g}' for v in u['offsets'] if v)} from the upload's own value; {u['n']} melodies a set; "
             f"detail faded over {u['follow']['fade']:g} slider units): Spearman mean/median/min, per-melody specificity "
             f"mean (capped {u['spec_cap']:g}x)/median"]
    sets = [k for k in ("folk", "pop") if isinstance(u.get(k), dict)]
    lines.append(f"  {'slider':<12}" + "".join(f" {k + ' spearman':>20} {k + ' specific':>15}" for k in sets))
    for a in u[sets[0]] if sets else []:
        cells = "".join(f" {u[k][a]['spearman_mean']:>7.2f}/{u[k][a]['spearman_median']:.2f}/{u[k][a]['spearman_min']:<7.2f}"
                        f" {u[k][a]['specificity_mean']:>6.1f}x/{u[k][a]['specificity_median']:<7.1f}" for k in sets)
        lines.append(f"  {WORDS[a][0]:<12}{cells}")
    lines += [f"  {k}: {u[k]}" for k in ("folk", "pop") if isinstance(u.get(k), str)]
    return lines


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
    if r.get("upload_sliders"):
        lines += [""] + format_upload_sliders(r["upload_sliders"])
    if r.get("harmony"):
        lines += [""] + format_harmony(r["harmony"])
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

