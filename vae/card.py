"""`python -m vae card`: write MODEL_CARD.md from a checkpoint, its learning curve and a fresh evaluation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from vae.attributes import ATTRIBUTES
from vae.checkpoint import read_meta
from vae.controls import WORDS
from vae.format import MelodyFormat
from vae.paths import REPO


def _curve_table(csv_path: Path, max_rows: int = 14) -> str:
    if not csv_path.exists():
        return "_no learning curve recorded_"
    rows = list(csv.DictReader(csv_path.open()))
    if len(rows) > max_rows:  # keep first, last and evenly spaced rows between
        idx = sorted({round(i * (len(rows) - 1) / (max_rows - 1)) for i in range(max_rows)})
        rows = [rows[i] for i in idx]
    out = ["| minutes | step | epoch | train loss | valid teacher-forced | valid greedy | valid greedy note-event | valid KL (nats) |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {float(r['minutes']):.1f} | {r['step']} | {float(r['epoch']):.2f} | {float(r['train_loss']):.3f} | "
                   f"{float(r['valid_teacher_forced_accuracy']):.3f} | {float(r['valid_greedy_accuracy']):.3f} | "
                   f"{float(r['valid_greedy_event_accuracy']):.3f} | {float(r['valid_kl_nats']):.1f} |")
    return "\n".join(out)


def _history(history: list[dict], total_minutes: float) -> list[str]:
    """One bullet per recorded run or warm start (vae.train writes them into the checkpoint)."""
    if not history:
        return ["  - _no run history recorded in this checkpoint_"]
    out = []
    earlier = total_minutes - sum(h.get("minutes", 0) for h in history if h.get("event") == "run")
    if earlier > 0.5:
        out.append(f"  - {earlier:.0f} minutes of earlier training, before runs were recorded in checkpoints")
    for h in history:
        if h.get("event") == "warm start":
            out.append(f"  - warm start from `{h['from']}` at step {h['step']}")
        else:
            out.append(f"  - {h.get('started', '?')}: steps {h.get('from_step', '?')} → {h.get('to_step', '?')}, "
                       f"{h.get('minutes', 0):.0f} minutes on {h.get('device', '?')}, {h.get('threads', '?')} threads")
    return out


def _sliders(checkpoint: Path) -> list[str]:
    """The sliders section from the checkpoint's controls.json (written by `python -m vae controls`)."""
    from vae.controls import CONTROLS_FILE, load_controls, slider_words
    from vae.sweep import NAME_RULE, SPEC_CAP, summarise

    got = load_controls(checkpoint / CONTROLS_FILE)
    if got is None:
        return ["", "## Sliders", f"_no {CONTROLS_FILE}: run `python -m vae controls`_"]
    controls, sweep, rest = got
    st = rest.get("settings", {})
    summ = summarise(sweep)
    lines = ["", "## Sliders",
             f"From `python -m vae controls` ({st.get('n', '?')} held-out validation melodies): each slider swept over "
             f"{st.get('values', [-2, 2])[0]:g}..{st.get('values', [-2, 2])[-1]:g}; *effect* is the mean change of the "
             "target attribute from the lowest to the highest value in its corpus standard deviations, *specific* that "
             "change over the largest change of any other attribute; *per melody* the same ratio melody by melody "
             f"(capped at {SPEC_CAP:g}×), so side effects that go opposite ways on different melodies do not cancel. "
             "A slider is named when Spearman ≥ "
             f"{NAME_RULE['spearman']} and specific ≥ {NAME_RULE['specificity']}×: "
             f"{summ['earned']} of {summ['attribute_sliders']} attribute sliders, "
             f"{summ['distinct_named']} distinct attributes in all.", "",
             "| slider | fitted for | label | Spearman | effect (SD) | specific | per melody (mean / median) "
             "| largest other |",
             "|---:|---|---|---:|---:|---:|---:|---|"]
    for r in sweep:
        others = sorted(((abs(v), a) for a, v in r["effect"].items() if a != r["target"]), reverse=True)
        label = slider_words(r["name"]) if r["name"] else f"Direction {r['slider'] + 1} (no single effect)"
        each = r.get("specificity_per_melody")
        per = f"{each['mean']:.1f}× / {each['median']:.1f}×" if each else "–"
        lines.append(f"| {r['slider'] + 1} | {r['attribute'] or 'free'} | {label} | {r['spearman']:.2f} | "
                     f"{r['effect'][r['target']]:+.2f} | {r['specificity']:.1f}× | {per} | "
                     f"{others[0][1]} {others[0][0]:.2f} |")
    return lines


UPLOADS = REPO / "bench" / "slider_uploads.json"  # python -m bench.slider_uploads (the model the card describes)
UPLOADS_BEFORE = REPO / "bench" / "slider_uploads-before.json"  # the same bench on the model this one replaced


def _uploads_table(now: dict, before: dict | None, kind: str) -> tuple[list[str], dict]:
    """Rows of one set (folk or pop) and the goal counts: Spearman mean / median, specificity mean / median."""
    def cells(r: dict) -> tuple[str, str]:
        return (f"{r['spearman_mean']:.2f} / {r['spearman_median']:.2f}",
                f"{r['specificity_mean']:.1f}× / {r['specificity_median']:.1f}×")

    sl = now["sets"][kind][now["chosen"]]["sliders"]
    old = before["sets"][kind][before["chosen"]]["sliders"] if before and kind in before.get("sets", {}) else {}
    rows = []
    for attr, r in sl.items():
        sp, spec = cells(r)
        if attr in old:
            osp, ospec = cells(old[attr])
            sp, spec = f"{osp} → {sp}", f"{ospec} → {spec}"
        rows.append(f"| {WORDS[attr][0] if attr in WORDS else attr} | {kind} | {sp} | {spec} |")
    counts = {"spearman_goal": sum(r["spearman_mean"] >= (0.9 if kind == "folk" else 0.8) for r in sl.values()),
              "spec2": sum(r["specificity_mean"] >= 2 for r in sl.values()),
              "spec15": sum(r["specificity_mean"] >= 1.5 for r in sl.values()), "n": len(sl)}
    return rows, counts


def _uploads(checkpoint: Path) -> list[str]:
    """Sliders on uploaded melodies, per melody (bench/slider_uploads.json when it measured this checkpoint)."""
    if not UPLOADS.exists():
        return []
    now = json.loads(UPLOADS.read_text())
    if Path(now.get("checkpoint", "")).resolve() != Path(checkpoint).resolve():
        return ["", "### On uploaded melodies, per melody", "_bench/slider_uploads.json measured another model: run "
                "`python -m bench.slider_uploads --checkpoint` on this one_"]
    before = json.loads(UPLOADS_BEFORE.read_text()) if UPLOADS_BEFORE.exists() else None
    lines = ["", "### On uploaded melodies, per melody",
             f"From `python -m bench.slider_uploads` through the page's own path: a MIDI file uploaded, its window "
             f"fitted (z plus the per-bar detail z cannot say), then each named slider released at -2, -1, +1, +2 "
             f"from the upload's own value (clipped to ±3 as the page clips them); {now['n']} unseen folk tunes (test "
             f"split) and the sung line of {now['n']} unseen pop songs (POP909 700-909). *Spearman*: within-melody, "
             "mean / median over melodies. *Specific*: per melody, |own attribute change| over |largest other "
             "attribute change| (corpus SDs, -2 → +2), then mean (capped at 10×) / median over melodies."
             + (" Before → now: the model this one replaced (bench/slider_uploads-before.json) → this one."
                if before else ""), "",
             "| slider | uploads | Spearman (mean / median) | specific (mean / median) |", "|---|---|---:|---:|"]
    goals = []
    for kind in ("folk", "pop"):
        if kind not in now["sets"]:
            continue
        rows, c = _uploads_table(now, before, kind)
        lines += rows
        goals.append(f"{kind}: Spearman mean ≥ {0.9 if kind == 'folk' else 0.8} for {c['spearman_goal']} of {c['n']}, "
                     f"specific ≥ 2× for {c['spec2']} and ≥ 1.5× for {c['spec15']}")
    lines += ["", "Goals (step 17): every named slider Spearman ≥ 0.9 on folk and ≥ 0.8 on pop uploads; specific ≥ 2× "
                  "for 6 of 9 and ≥ 1.5× for all. Measured (means over melodies): " + "; ".join(goals) + "."]
    return lines


def _trials(trials: list[Path] | Path | None) -> list[str]:
    """The trial tables (markdown files written by bench.model_trials), newest first, each under its own title."""
    paths = [trials] if isinstance(trials, str | Path) else list(trials or [])
    out: list[str] = []
    for p in paths:
        if Path(p).exists():
            lines = Path(p).read_text().splitlines()
            out += ["", f"## {lines[0].lstrip('# ')}", "", *lines[2:]]
    return out


def _data_section(meta: dict, fmt: MelodyFormat, corpus_report: dict | None) -> list[str]:
    """What the model learned from, under which terms, and how the split keeps the test tunes apart."""
    split = (corpus_report or {}).get("split", {})
    lines = [
        "## Data and terms",
        "Trained on the folk-tune corpus that ships inside the `music21` package, built by `python -m vae corpus build`: "
        "the Essen folk song collection, O'Neill's Music of Ireland (1850), Ryan's Mammoth Collection, Aird's Selection of "
        "Scotch, English, Irish and Foreign Airs, and the soprano line of the Bach chorales. music21 notes that the Essen "
        "collection is distributed with music21 by permission, for non-commercial use: **the shipped model is for "
        "non-commercial use**. No corpus data is stored in this repository; it is rebuilt from the installed package.",
        *_finetune_data(meta),
        "",
        f"All meters are kept: a window is {fmt.window_steps} sixteenth steps ({fmt.bars} 4/4 bars) starting on a bar "
        "line of the tune's own "
        "meter, so 6/8 and 3/4 tunes contribute windows that span 5⅓ of their bars. The split is by tune, with tunes "
        "that share a 4-bar window (up to transposition) grouped on the same side.",
    ]
    if split:
        n, g = split["test_windows_in_train_naive"], split["test_windows_in_train_grouped"]
        lines += ["", f"Split windows: {split['windows']}. Test windows that also occur in train (up to transposition): "
                      f"{n['transposed']} of {n['test_windows']} with a naive per-tune split, "
                      f"{g['transposed']} of {g['test_windows']} with the grouped split used here."]
    return lines


def _finetune_data(meta: dict) -> list[str]:
    """The collection a fine-tuned model then learned (vae.finetune), with POP909's terms when it is POP909."""
    ft = meta.get("extra", {}).get("finetune")
    if not ft:
        return []
    c = ft.get("config", {})
    lines = ["", f"Then fine-tuned (`python -m vae finetune`) for {ft.get('minutes', 0):.0f} minutes ({ft.get('steps')} "
                 f"steps from step {ft.get('base_step')}) on the collection `{ft.get('collection_name') or ft.get('collection')}` "
                 f"({ft.get('collection_windows')} training windows), {c.get('mix', 0):.0%} of every batch drawn from "
                 f"the folk corpus so that the model keeps it; weights adapted: {c.get('adapt', 'all')}."]
    if "pop909" in f"{ft.get('collection', '')} {ft.get('collection_name', '')}".lower():
        lines += ["", "**POP909** (Wang, Chen et al., \"POP909: A Pop-song Dataset for Music Arrangement Generation\", "
                      "ISMIR 2020; MIT licence): the sung line (MELODY track) of songs 401-699, written out by "
                      "`vae/pop909.py`; songs 700-909 are held out of training and of every figure's tuning. The songs "
                      "themselves are copyrighted compositions: research and non-commercial use.", *_pop_windows()]
    return lines


def _pop_windows() -> list[str]:
    """What the repository ships of POP909 (vae.pop909.WINDOWS), with its size, or that it ships none."""
    from vae import pop909

    if not pop909.WINDOWS.exists():
        return ["The repository ships no POP909 file or window: the weights are all that was learned from them."]
    c = pop909.load_windows()
    held = int((c.split != 0).sum())
    songs = len({m["song"] for m in c.tunes})
    return [f"The repository ships no POP909 file, only the derived windows: `{pop909.WINDOWS.relative_to(REPO)}` "
            f"({pop909.WINDOWS.stat().st_size // 1024} kB: {len(c)} 4-bar token windows of the sung lines of "
            f"{songs} songs, 401-699, each with its song number; attribution and terms in "
            f"`{pop909.ATTRIBUTION.relative_to(REPO)}`), which the explorer shows as its built-in \"Pop\" collection "
            f"(map, neighbours, style moves). They keep the fine-tune's own split: {held} windows (its valid and test tunes) "
            "were not learned from. Regenerate them with `python -m vae.pop909 .cache/collections/pop909-melody-learn "
            "--windows vae/pretrained/pop909-windows.npz` (`make pop-model`)."]


def _settings_section(meta: dict, fmt: MelodyFormat, checkpoint: Path, trials) -> list[str]:
    """Architecture, loss, data settings, how long it trained, its sliders, and how the settings were chosen."""
    extra, m, t, d = meta["extra"], meta["model"], meta["train"], meta["data"]
    return [
        "",
        "## Model and training settings",
        f"- Architecture: embedding {m['embed_dim']}, bidirectional GRU encoder {m['enc_hidden']}×2 → z of "
        f"{m['latent_dim']} dims; {'hierarchical decoder: conductor GRU ' + str(m['conductor_hidden']) + ' gives one vector per bar, a shared bar GRU ' + str(m['dec_hidden']) +  ' decodes ' + str(fmt.steps_per_bar) + ' steps from it' if m['hierarchical'] else 'flat GRU decoder ' + str(m['dec_hidden'])}; "
        f"{extra.get('parameters', '?'):,} parameters.",
        f"- Loss: token cross-entropy + β·max(KL − {t['free_bits']:g} nats, 0)/{fmt.window_steps}, β ramped to {t['beta_max']} over "
        f"{t['beta_warmup_steps']} steps; Adam lr {t['lr']} decaying ×{t['lr_decay']} per step to {t['lr_min']}; batch "
        f"{t['batch_size']}; transposition augmentation ±{t['transpose']}; scheduled sampling max {t['sampling_rate_max']}; seed {t['seed']}.",
        f"- Data settings: {d['window_bars']}-bar windows, hop ≥ {d['hop_bars']} bar, min {d['min_notes']} notes.",
        "- Attribute regularisation (AR-VAE): "
        + (f"mu dims 0..{len(t.get('attr_names', ())) - 1} ordered like {', '.join(t.get('attr_names', ()))}; "
           f"weight {t.get('attr_weight')} per attribute, tanh scale {t.get('attr_scale')}."
           if t.get("attr_names") and t.get("attr_weight") else "off."),
        "- Attributes (`vae/attributes.py`, computed from the notes, one definition for training, sliders and "
        "report): " + "; ".join(ATTRIBUTES.values()) + ". Rhythmic complexity is the entropy of the inter-onset "
        "intervals since 2026-12-02 (it was the share of off-beat onsets, which rose with note density); "
        "training from then on orders its latent dimension by the new definition.",
        f"- Anticipation augmentation (pop-style early onsets, `vae/augment.py`): {t.get('anticipate', 0) or 'off'}"
        + (" of the windows, eighth off-beats too (16th-note syncopation)." if t.get("anticipate_offbeats") else "."),
        f"- Trained for {extra.get('train_seconds', 0) / 60:.0f} minutes in all ({meta['step']} steps, "
        f"{meta['step'] * t['batch_size'] / max(extra.get('windows_train', 1), 1):.1f} epochs over "
        f"{extra.get('windows_train', '?')} training windows), checkpoint selected by validation greedy note-event "
        "accuracy. Its recorded history:",
        *_history(extra.get("history", []), extra.get("train_seconds", 0) / 60),
        "- Continue training from the committed resume point (weights + Adam state + curve): "
        "`mkdir -p runs/default && cp -r checkpoints/default-last runs/default/last && "
        "cp checkpoints/default-last/curve.csv runs/default/ && python -m vae train --preset default --out runs/default "
        "--resume --minutes 120`.",
        *_sliders(checkpoint),
        *_uploads(checkpoint),
        "",
        "## How the settings were chosen",
        "Each setting is the best (or tied-best) row of its side-by-side trial table below, same minutes and seed: "
        "latent size 64 (round 3: every size earns 6 of 9 sliders; 64 reconstructs best), 64 free nats (round 4: "
        "32 earns fewer sliders, 128 no more), attribute-regulariser weight 0.05 with tanh scale 10 (rounds 1-2: "
        "more sliders earned than 0.1, without anticipation augmentation, which cost sliders), and a steered move "
        "that counts a miss on the asked attribute 4x (steer trials: 3 and above name all 9). Since 2026-12-06 "
        "(round 5, step 12: an upload comes back as itself) training also anticipates half of the windows' "
        "onsets, eighth off-beats included, and weighs the KL by β 0.1 instead of 0.2: in 20 minutes side by side "
        "that raised the note F1 of pop vocals rendered from z alone from 0.53 to 0.67 and held-out note-event "
        "accuracy from 0.809 to 0.830, with sliders as earned as before (8-9 of 9 at n=40; the start scored 8). "
        "Re-run them with `make trials`, `make trials-latent`, `make trials-freebits`, `make trials-fidelity` and "
        "`python -m bench.steer_trials`.",
        *_trials(trials),
    ]


def _scores_section(scores: dict) -> list[str]:
    """The evaluate command's scores as a table, with what each means."""
    lines = [
        "",
        "## Scores",
        f"From `python -m vae evaluate --json` (checkpoint step {scores.get('step')}, {scores.get('source')}, "
        f"{scores.get('windows')} windows):",
        "",
        "| metric | value |",
        "|---|---:|",
    ]
    for k in ("teacher_forced_accuracy", "greedy_accuracy", "greedy_event_accuracy", "teacher_forced_event_accuracy",
              "greedy_event_accuracy_shuffled_z", "always_hold_baseline", "nll_per_token", "kl_nats", "active_units"):
        if k in scores:
            v = scores[k]
            lines.append(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |")
    return lines + [
        "",
        "`greedy_*` decode from the posterior mean alone (no teacher forcing); `*_event_*` counts only note events "
        "(non-hold tokens); `greedy_event_accuracy_shuffled_z` decodes every window from another window's z — what a "
        "decoder ignoring z would get. Targets for a later model (the README's measured numbers): greedy ≥ 0.90, note-event ≥ 0.75, "
        "teacher-forced ≥ 0.95; MusicVAE reports 0.951 greedy on 2-bar melodies.",
        "",
    ]


def _finetune_curve(checkpoint: Path, max_rows: int = 12) -> list[str]:
    """The fine-tune's curve (vae.finetune: held-out collection and base accuracy by minute), when there is one."""
    path = checkpoint / "finetune-curve.csv"
    if not path.exists():
        return []
    with path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return []
    keep = rows if len(rows) <= max_rows else [rows[round(i * (len(rows) - 1) / (max_rows - 1))] for i in range(max_rows)]
    out = ["### Fine-tune", "Greedy note-event accuracy from z on held-out windows of the collection and of the base "
           "corpus (256 each), by training minute (`finetune-curve.csv`).", "",
           "| minutes | step | train loss | collection (held out) | base corpus |", "|---:|---:|---:|---:|---:|"]
    out += [f"| {float(r['minutes']):.1f} | {r['step']} | {float(r['train_loss']):.3f} | "
            f"{float(r['collection_event_accuracy']):.3f} | {float(r['base_event_accuracy']):.3f} |" for r in keep]
    return out + [""]


def _curve_and_limits(checkpoint: Path, rel) -> list[str]:
    """The learning curve (plot and table) and the model's limitations."""
    curve_png = checkpoint / "curve.png"
    return [
        "",
        "## Learning curve",
        f"![learning curve]({rel(curve_png)})" if curve_png.exists() else "",
        "",
        _curve_table(checkpoint / "curve.csv"),
        "",
        *_finetune_curve(checkpoint),
        "## Limitations",
        "- Folk and chorale melodies" + (", then pop's sung lines (POP909)" if (checkpoint / "finetune-curve.csv").exists()
                                         else " only") + ": 4-bar monophonic windows on a 16th grid (triplets are "
        "rounded to the grid). Off that domain z alone renders part of a melody (see the README's fidelity row); the "
        "explorer then fits a per-bar detail (`vae/fidelity.py`) so an upload still comes back as itself.",
        "- Trained for a limited CPU budget; the curve above had not flattened, so accuracy is below MusicVAE's.",
        "- Regenerate this card with `python -m vae card` after training.",
        "",
    ]


def write_card(checkpoint: Path, scores: dict, out: Path, corpus_report: dict | None = None,
               trials: Path | None = None) -> Path:
    """Render the model card from the checkpoint metadata, the curve next to it and `scores` (evaluate's JSON)."""
    meta = read_meta(checkpoint)
    fmt = MelodyFormat.from_meta(meta)
    rel = lambda p: Path(p).resolve().relative_to(out.parent.resolve()).as_posix()  # noqa: E731
    lines = [
        "# Model card: Melody Explorer default melody VAE",
        "",
        f"A MusicVAE-style variational autoencoder over {fmt.bars}-bar monophonic melodies ({fmt.window_steps} "
        "sixteenth-note steps, "
        f"{fmt.vocab_size} tokens: hold, note-off, note-on for MIDI {fmt.min_pitch}..{fmt.max_pitch}). "
        "It powers the explorer's sliders, map, blends and "
        "generation. Files: `model.safetensors` (weights) and `checkpoint.json` (configuration, vocabulary, step, "
        "scores); loading never unpickles.",
        "",
    ]
    lines += _data_section(meta, fmt, corpus_report)
    lines += _settings_section(meta, fmt, checkpoint, trials)
    lines += _scores_section(scores)
    lines += _curve_and_limits(checkpoint, rel)
    out.write_text("\n".join(lines))
    return out


def card_cli(a) -> int:
    from vae.checkpoint import data_config
    from vae.corpus import load_or_build
    from vae.evaluate import evaluate

    cached = a.checkpoint / "scores.json"
    if a.reuse_scores and cached.exists():
        scores = json.loads(cached.read_text())
    else:
        scores = evaluate(a.checkpoint, split="test")
    report = load_or_build(data_config(read_meta(a.checkpoint)), progress=False).report
    (a.checkpoint / "scores.json").write_text(json.dumps(scores, indent=2))
    print(json.dumps(scores, indent=2))
    print(write_card(a.checkpoint, scores, a.out, report, trials=a.trials))
    return 0
