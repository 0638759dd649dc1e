"""Argument parsing for `python -m vae`; each sub-command maps flags onto the config dataclasses."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from vae.config import PRESETS, get_preset
from vae.errors import CheckpointError, MusicReadError
from vae.paths import RESUME, SHIPPED


def _cmd_corpus_build(a: argparse.Namespace) -> int:
    from vae.corpus import format_report, load_or_build

    # The window length is the model's melody format (4 bars of 16 steps); only the hop is a build choice.
    cfg = replace(get_preset(a.preset).data, hop_bars=a.hop_bars)
    if a.collections:
        cfg = replace(cfg, collections=tuple(a.collections.split(",")))
    corpus = load_or_build(cfg, cache_dir=a.cache_dir, force=a.force, midi_dir=a.midi, workers=a.workers)
    print(format_report(corpus.report))
    print(f"corpus: {corpus.path}  (report: {corpus.path / 'report.json'})")
    if a.json:
        Path(a.json).write_text(json.dumps(corpus.report, indent=2))
    return 0


def _cmd_train(a: argparse.Namespace) -> int:
    from vae.corpus import Corpus, load_or_build
    from vae.train import train

    preset = get_preset(a.preset)
    tcfg = preset.train
    overrides = {k: getattr(a, k) for k in ("batch_size", "lr", "beta_max", "free_bits", "transpose", "seed",
                                             "valid_every_minutes", "sampling_rate_max", "attr_weight", "attr_scale",
                                             "anticipate")
                 if getattr(a, k) is not None}
    if a.attr_names is not None:
        overrides["attr_names"] = tuple(n for n in a.attr_names.split(",") if n)
    if a.bf16 is not None:
        overrides["bf16"] = a.bf16
    if a.anticipate_offbeats is not None:
        overrides["anticipate_offbeats"] = a.anticipate_offbeats
    preset = replace(preset, train=replace(tcfg, **overrides))
    if a.latent_dim is not None:  # a fresh run only: a resumed or warm-started run keeps its checkpoint's size
        if a.latent_dim < len(preset.train.attr_names):
            raise ValueError(f"--latent-dim {a.latent_dim} is smaller than the {len(preset.train.attr_names)} "
                             "regularised attributes (each needs its own dimension)")
        preset = replace(preset, model=replace(preset.model, latent_dim=a.latent_dim))
    if a.corpus:
        corpus = Corpus.load(Path(a.corpus))
    else:
        corpus = load_or_build(preset.data, midi_dir=a.midi)
    scores = train(preset, Path(a.out or f"runs/{preset.name}"), corpus=corpus, minutes=a.minutes,
                   max_steps=a.max_steps, resume=a.resume, device=a.device, threads=a.threads,
                   init_from=a.init_from)
    print(json.dumps(scores, indent=2))
    return 0


def _cmd_evaluate(a: argparse.Namespace) -> int:
    from vae.evaluate import evaluate_cli

    return evaluate_cli(a)


def _cmd_sample(a: argparse.Namespace) -> int:
    from vae.evaluate import sample_cli

    return sample_cli(a)


def _cmd_interpolate(a: argparse.Namespace) -> int:
    from vae.evaluate import interpolate_cli

    return interpolate_cli(a)


def _cmd_controls(a: argparse.Namespace) -> int:
    import torch

    from vae.checkpoint import data_config
    from vae.config import REGULARISED
    from vae.controls import CONTROLS_FILE, save_controls
    from vae.corpus import Corpus, load_or_build
    from vae.inference import TrainedModel
    from vae.sweep import format_sweep, measure_controls

    if a.threads:
        torch.set_num_threads(a.threads)
    model = TrainedModel.load(a.checkpoint)
    corpus = Corpus.load(a.corpus) if a.corpus else load_or_build(data_config(model.meta))
    names = tuple(model.meta.get("train", {}).get("attr_names", ())) or REGULARISED
    m = measure_controls(model, corpus, names, n=a.n, mode=a.mode)
    out = a.out or Path(a.checkpoint) / CONTROLS_FILE
    save_controls(out, m["controls"], m["sweep"], {"summary": m["summary"], "settings": m["settings"]})
    print(format_sweep(m["sweep"]))
    print(json.dumps(m["summary"]))
    print(f"wrote {out}")
    return 0


def _cmd_ship(a: argparse.Namespace) -> int:
    import shutil

    from vae.checkpoint import read_meta

    run = Path(a.run)
    chosen = run / a.which
    read_meta(chosen)  # a clear error when the run has no such checkpoint
    out, resume = Path(a.out), Path(a.resume)
    for d in (out, resume):
        d.mkdir(parents=True, exist_ok=True)
    for f in ("model.safetensors", "checkpoint.json"):
        shutil.copy2(chosen / f, out / f)
    for f in ("model.safetensors", "optimizer.safetensors", "checkpoint.json"):
        shutil.copy2(run / "last" / f, resume / f)
    for f in ("curve.csv", "curve.png", "finetune-curve.csv"):
        if (run / f).exists():
            shutil.copy2(run / f, out / f)
            shutil.copy2(run / f, resume / f)
    for stale in ("controls.json", "scores.json"):  # they described the previous model
        (out / stale).unlink(missing_ok=True)
    print(f"shipped {chosen} (step {read_meta(out)['step']}) to {out}; resume point {resume} "
          f"(step {read_meta(resume)['step']}). Next: python -m vae controls; python -m vae card")
    return 0


def _cmd_finetune(a: argparse.Namespace) -> int:
    from vae.checkpoint import data_config, read_meta
    from vae.corpus import format_report, load_or_build
    from vae.finetune import FinetuneConfig, finetune, merged_corpus, refit_sliders
    from vae.paths import portable

    base = Path(a.checkpoint)
    meta = read_meta(base)
    if not Path(a.midi).is_dir():
        raise FileNotFoundError(f"no such folder: {a.midi}")
    collection = load_or_build(data_config(meta), midi_dir=a.midi, workers=a.workers)
    print(format_report(collection.report))
    base_corpus = load_or_build(data_config(meta))
    cfg = FinetuneConfig(minutes=a.minutes, mix=a.mix, adapt=a.adapt, lr=a.lr, seed=a.seed)
    out = Path(a.out)

    def show(s) -> None:
        acc = s.scores.get("collection_event_accuracy")
        base_acc = s.scores.get("base_event_accuracy")
        tail = f"  collection {acc:.3f}  base {base_acc:.3f}" if acc is not None and base_acc is not None else ""
        print(f"\rstep {s.step}  {s.minutes:.1f}/{s.budget:g} min  loss {s.train_loss:.3f}{tail}   ", end="", flush=True)

    scores = finetune(base, collection, base_corpus, out, cfg, resume=a.resume, progress=show, threads=a.threads,
                      name=portable(a.midi))
    print()
    if a.sliders:
        print("fitting the sliders on the base corpus and the collection ...")
        summary = refit_sliders(out / "last", merged_corpus(base_corpus, collection, out / "corpus"), threads=a.threads)
        print(json.dumps(summary))
    print(json.dumps(scores, indent=2))
    print(f"fine-tuned checkpoint: {out / 'last'}  (python app.py --checkpoint {out / 'last'})")
    return 0


def _cmd_card(a: argparse.Namespace) -> int:
    from vae.card import card_cli

    return card_cli(a)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vae", description="Melody VAE: corpus, training, evaluation.")
    sub = p.add_subparsers(dest="command", required=True)

    corpus = sub.add_parser("corpus", help="build the tokenized corpus")
    csub = corpus.add_subparsers(dest="action", required=True)
    b = csub.add_parser("build", help="read the music21 corpus (or --midi DIR) into cached token windows")
    b.add_argument("--preset", default="default", choices=list(PRESETS))
    b.add_argument("--midi", type=Path, help="build from a folder of MIDI files instead of the bundled corpus")
    b.add_argument("--collections", help="comma-separated subset of essen,oneills,ryans,airds,bach")
    b.add_argument("--hop-bars", type=int, default=1)
    b.add_argument("--cache-dir", type=Path)
    b.add_argument("--workers", type=int)
    b.add_argument("--force", action="store_true", help="rebuild even if the cache is current")
    b.add_argument("--json", help="also write the report to this path")
    b.set_defaults(func=_cmd_corpus_build)

    t = sub.add_parser("train", help="train a model (resumable, time-boxed)")
    t.add_argument("--preset", default="default", choices=list(PRESETS))
    t.add_argument("--corpus", help="a built corpus folder (default: build/reuse the bundled corpus)")
    t.add_argument("--midi", type=Path, help="train on a folder of MIDI files")
    t.add_argument("--out", help="output folder (default runs/<preset>)")
    t.add_argument("--minutes", type=float, help="training time budget in minutes")
    t.add_argument("--max-steps", type=int)
    t.add_argument("--resume", action="store_true", help="continue from OUT/last")
    t.add_argument("--init-from", type=Path, help="warm start: begin from this checkpoint's weights, optimizer and step")
    t.add_argument("--attr-names", help="comma-separated attributes to regularise on mu dims 0.. ('' = off)")
    t.add_argument("--attr-weight", type=float, help="weight of each attribute's ordering loss")
    t.add_argument("--attr-scale", type=float, help="tanh scale of the ordering loss")
    t.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    t.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--beta-max", type=float)
    t.add_argument("--free-bits", type=float)
    t.add_argument("--latent-dim", type=int, help="size of z for a fresh run (16, 32, 64 ...)")
    t.add_argument("--transpose", type=int, help="random transposition range in semitones (0 = off)")
    t.add_argument("--anticipate", type=float, help="share of windows given pop-style anticipations (0 = off)")
    t.add_argument("--anticipate-offbeats", action=argparse.BooleanOptionalAction, default=None,
                   help="also anticipate eighth off-beats by a sixteenth (with --anticipate)")
    t.add_argument("--sampling-rate-max", type=float, help="scheduled sampling: max share of own guesses fed back")
    t.add_argument("--valid-every-minutes", type=float)
    t.add_argument("--seed", type=int)
    t.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None)
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("evaluate", help="score a checkpoint on the test split or a MIDI folder")
    e.add_argument("--checkpoint", type=Path, default=SHIPPED)
    e.add_argument("--corpus", type=Path, help="a built corpus folder (default: the bundled corpus)")
    e.add_argument("--split", default="test", choices=["train", "valid", "test"])
    e.add_argument("--midi", type=Path, help="evaluate reconstruction on melodies extracted from these MIDI files")
    e.add_argument("--limit", type=int, help="evaluate at most this many windows")
    e.add_argument("--json", action="store_true", help="print JSON only")
    e.set_defaults(func=_cmd_evaluate)

    s = sub.add_parser("sample", help="draw melodies from the prior and write MIDI files")
    s.add_argument("--checkpoint", type=Path, default=SHIPPED)
    s.add_argument("-n", type=int, default=4)
    s.add_argument("--temperature", type=float, default=0.5)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--tempo", type=float, default=120.0)
    s.add_argument("--out", type=Path, default=Path("samples"))
    s.set_defaults(func=_cmd_sample)

    i = sub.add_parser("interpolate", help="blend two MIDI melodies through latent space")
    i.add_argument("a", type=Path)
    i.add_argument("b", type=Path)
    i.add_argument("--checkpoint", type=Path, default=SHIPPED)
    i.add_argument("--steps", type=int, default=7)
    i.add_argument("--tempo", type=float, default=120.0)
    i.add_argument("--out", type=Path, default=Path("interpolation.mid"))
    i.set_defaults(func=_cmd_interpolate)
    k = sub.add_parser("controls", help="fit the 16 sliders of a checkpoint, sweep them and write controls.json")
    k.add_argument("--checkpoint", type=Path, default=SHIPPED)
    k.add_argument("--corpus", type=Path, help="a built corpus folder (default: the one the checkpoint was trained on)")
    k.add_argument("-n", type=int, default=200, help="held-out melodies per sweep")
    k.add_argument("--mode", default="decorrelated", choices=["decorrelated", "axis"])
    k.add_argument("--threads", type=int)
    k.add_argument("--out", type=Path, help="default: CHECKPOINT/controls.json")
    k.set_defaults(func=_cmd_controls)
    sh = sub.add_parser("ship", help="make a training run the shipped model and its committed resume point")
    sh.add_argument("--run", type=Path, default=Path("runs/default"), help="the run folder (with best/ and last/)")
    sh.add_argument("--which", default="best", choices=["best", "last"], help="which checkpoint to ship")
    sh.add_argument("--out", type=Path, default=SHIPPED)
    sh.add_argument("--resume", type=Path, default=RESUME)
    sh.set_defaults(func=_cmd_ship)
    f = sub.add_parser("finetune", help="teach a trained model a folder of MIDI files in minutes (keeps what it knew)")
    f.add_argument("--midi", type=Path, required=True, help="the collection: a folder of MIDI files")
    f.add_argument("--checkpoint", type=Path, default=SHIPPED, help="the model to start from")
    f.add_argument("--out", default="runs/finetune", help="output folder (the checkpoint is OUT/last)")
    f.add_argument("--minutes", type=float, default=5.0, help="training time budget in minutes")
    f.add_argument("--mix", type=float, default=0.5, help="share of each batch from the model's own corpus")
    f.add_argument("--adapt", default="decoder", choices=["all", "decoder", "encoder"],
                   help="which weights learn (decoder: nearly the gain of all, less forgotten, every encoding kept; "
                        "bench/finetune.md)")
    f.add_argument("--lr", type=float, default=3e-4)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    f.add_argument("--workers", type=int, help="processes reading the MIDI files")
    f.add_argument("--resume", action="store_true", help="continue OUT/last")
    f.add_argument("--sliders", action=argparse.BooleanOptionalAction, default=True,
                   help="refit the sliders on the corpus and the collection afterwards (a few minutes)")
    f.set_defaults(func=_cmd_finetune)
    c = sub.add_parser("card", help="evaluate a checkpoint and write its model card")
    c.add_argument("--checkpoint", type=Path, default=SHIPPED)
    c.add_argument("--out", type=Path, default=Path("MODEL_CARD.md"))
    c.add_argument("--reuse-scores", action="store_true", help="use the checkpoint's scores.json from the last run")
    c.add_argument("--trials", type=Path, nargs="*", default=[Path("bench/trials-r5.md"), Path("bench/steer_trials.md"), Path("bench/trials-freebits.md"), Path("bench/trials-latent.md"), Path("bench/trials.md"),
                                                              Path("bench/trials-v1.md")],
                   help="regulariser trial tables to include (newest first)")
    c.set_defaults(func=_cmd_card)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, ValueError, MusicReadError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
