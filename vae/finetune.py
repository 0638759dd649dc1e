"""Fine-tuning: a trained model learns a collection in minutes and keeps what it knew (base windows mixed in).

Each batch draws `mix` of its windows from the base corpus (the music the model was trained on) and the rest
from the collection; the loss is the training loss (reconstruction + beta KL + the attribute regulariser, so
the named slider dimensions keep their order on the new music). The run is time-boxed, stoppable between
steps, resumable, and writes `out/last` (weights + optimizer) at every validation: a run stopped or killed
midway leaves the last good checkpoint loadable like any other.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from vae.attributes import corpus_attributes
from vae.checkpoint import data_config, load_checkpoint, load_optimizer_state, save_checkpoint, train_config
from vae.corpus import TRAIN, VALID, Corpus
from vae.paths import portable
from vae.scores import reconstruction_scores
from vae.train import augmented, train_step

# Which weights learn. "decoder": the conductor, the bar decoder and the output layer (the encoder, so every
# slider position and map point, stays as it was); "encoder": the embedding, the encoder and the posterior.
ADAPT = {"all": (), "decoder": ("cond_init", "conductor", "dec_init", "decoder", "out"),
         "encoder": ("embed", "encoder", "to_mu", "to_logvar")}
CURVE_FILE = "finetune-curve.csv"  # beside the base run's curve.csv, which the model card keeps showing
CURVE_FIELDS = ["step", "minutes", "train_loss", "train_accuracy", "collection_event_accuracy",
                "base_event_accuracy", "collection_windows", "base_windows"]


@dataclass(frozen=True)
class FinetuneConfig:
    minutes: float = 5.0  # training time budget in minutes (validation not counted)
    mix: float = 0.5  # share of every batch drawn from the base corpus, so the model keeps what it knew
    adapt: str = "all"  # which weights learn: a key of ADAPT
    lr: float = 3e-4  # constant learning rate (the base run ended at 1e-4; fresh music needs a little more)
    batch_size: int = 64  # windows per step, base and collection together
    valid_every_minutes: float = 1.0  # validate, log the curve and save `last` this often (training minutes)
    valid_windows: int = 256  # windows of each side scored at a validation (greedy note events from z)
    seed: int = 0
    max_steps: int | None = None  # stop after this many steps whatever the time (tests, reproducible runs)


@dataclass
class FinetuneState:
    """What a progress callback sees: the step, the minutes trained, the budget and the last validation."""

    step: int
    minutes: float
    budget: float
    train_loss: float
    scores: dict


def _adapted(model: torch.nn.Module, adapt: str) -> list[torch.nn.Parameter]:
    if adapt not in ADAPT:
        raise ValueError(f"unknown part to adapt {adapt!r}; known: {', '.join(ADAPT)}")
    prefixes = ADAPT[adapt]
    params = []
    for name, p in model.named_parameters():
        p.requires_grad_(not prefixes or name.split(".")[0] in prefixes)
        if p.requires_grad:
            params.append(p)
    return params


def _pool(corpus: Corpus, names: tuple[str, ...], split: int) -> tuple[np.ndarray, np.ndarray]:
    """(tokens [N, T] int64, attribute targets [N, K] float32) of one split."""
    rows = corpus.split == split
    attrs = corpus_attributes(corpus)
    targets = np.stack([attrs[n][rows] for n in names], axis=1).astype(np.float32) if names else \
        np.zeros((int(rows.sum()), 0), np.float32)
    return corpus.tokens[rows].astype(np.int64), targets


def collection_pools(collection: Corpus, names: tuple[str, ...]) -> tuple[tuple, np.ndarray, bool]:
    """The collection's training pool (tokens, targets), its validation windows, and whether those are held out.

    A collection whose validation split is empty (a few songs) trains on every window and is validated on
    windows it learns from; the curve then says "seen" (`held_out` False).
    """
    train = _pool(collection, names, TRAIN)
    valid = collection.subset(VALID)
    if len(train[0]) == 0:
        train = (collection.tokens.astype(np.int64),
                 np.stack([corpus_attributes(collection)[n] for n in names], axis=1).astype(np.float32)
                 if names else np.zeros((len(collection.tokens), 0), np.float32))
    if len(train[0]) == 0:
        raise ValueError("the collection has no melody windows to learn from; add files with at least a few bars "
                         "of melody")
    if len(valid) == 0:
        return train, train[0], False
    return train, valid, True


def finetune(base: Path, collection: Corpus, base_corpus: Corpus, out_dir: Path, cfg: FinetuneConfig = FinetuneConfig(),
             resume: bool = False, progress: Callable[[FinetuneState], None] | None = None,
             should_stop: Callable[[], bool] | None = None, threads: int | None = None, name: str = "") -> dict:
    """Fine-tune the checkpoint at `base` on `collection` (mixed with `base_corpus`) into out_dir/last.

    Stops after cfg.minutes of training, or at the first step where `should_stop()` is true. With `resume`,
    continues out_dir/last (its step, minutes and optimizer). `name` says what the collection is (its folder, for
    the model card). Returns the last validation's scores:
    greedy note-event accuracy from z on held-out collection windows and on base validation windows.
    """
    if not 0.0 <= cfg.mix < 1.0:
        raise ValueError(f"mix is the base corpus's share of a batch, from 0 up to (not including) 1; got {cfg.mix}")
    if threads:
        torch.set_num_threads(threads)
    out_dir = Path(out_dir)
    last = out_dir / "last"
    resuming = resume and (last / "checkpoint.json").exists()
    source = last if resuming else Path(base)
    model, meta = load_checkpoint(source)
    base_train = train_config(meta)  # recorded unchanged, so `python -m vae train --resume` continues as trained
    tcfg = base_train
    # constant learning rate, full beta from the first step: the schedule's warm-ups belong to a fresh model
    tcfg = replace(tcfg, lr=cfg.lr, lr_min=cfg.lr, lr_decay=1.0, beta_warmup_steps=1, batch_size=cfg.batch_size,
                   sampling_rate_max=0.0, seed=cfg.seed)
    names = tuple(tcfg.attr_names)
    params = _adapted(model, cfg.adapt)
    opt = torch.optim.Adam(params, lr=cfg.lr)
    info = meta.get("extra", {}).get("finetune", {}) if resuming else {}
    step, seconds = int(info.get("steps", 0)), float(info.get("seconds", 0.0))
    if resuming:
        load_optimizer_state(last, opt, meta)

    (c_tok, c_attr), c_valid, held_out = collection_pools(collection, names)
    b_tok, b_attr = _pool(base_corpus, names, TRAIN)
    if cfg.mix > 0 and len(b_tok) == 0:
        raise ValueError("the base corpus has no training windows to mix in")
    pick = np.random.default_rng(cfg.seed)
    c_valid = c_valid[pick.permutation(len(c_valid))[: cfg.valid_windows]]
    b_valid = base_corpus.subset(VALID)
    b_valid = b_valid[pick.permutation(len(b_valid))[: cfg.valid_windows]]
    n_base = int(round(cfg.batch_size * cfg.mix))
    n_coll = cfg.batch_size - n_base

    out_dir.mkdir(parents=True, exist_ok=True)
    curve_path = out_dir / CURVE_FILE
    if not resuming or not curve_path.exists():
        with curve_path.open("w", newline="") as f:
            csv.writer(f).writerow(CURVE_FIELDS)
    record = {"base": info.get("base", portable(base)), "base_step": int(info.get("base_step", meta["step"])),
              "collection": portable(collection.path), "collection_name": name or info.get("collection_name", ""),
              "collection_windows": int(len(c_tok)), "held_out": held_out,
              "config": asdict(cfg)}
    history = list(meta.get("extra", {}).get("history", []))
    if not resuming:
        history.append({"event": "fine-tune", "from": portable(base), "step": meta["step"],
                        "collection": portable(collection.path), "adapt": cfg.adapt, "mix": cfg.mix})

    def checkpoint(train_loss: float) -> dict:
        was = model.training
        model.eval()
        scores = {"collection_event_accuracy": reconstruction_scores(model, c_valid)["greedy_event_accuracy"],
                  "collection_held_out": held_out}
        if len(b_valid):
            scores["base_event_accuracy"] = reconstruction_scores(model, b_valid)["greedy_event_accuracy"]
        model.train(was)
        with curve_path.open("a", newline="") as f:
            csv.writer(f).writerow([step, round(seconds / 60, 3), round(train_loss, 4), round(avg.get("accuracy", math.nan), 4),
                                    round(scores["collection_event_accuracy"], 4),
                                    round(scores.get("base_event_accuracy", math.nan), 4), len(c_valid), len(b_valid)])
        extra = {**meta.get("extra", {}), "history": history,
                 "finetune": {**record, "steps": step, "seconds": seconds, "minutes": round(seconds / 60, 2)}}
        save_checkpoint(last, model, data_config(meta), base_train, record["base_step"] + step, scores, extra, optimizer=opt)
        if progress:
            progress(FinetuneState(step, seconds / 60, cfg.minutes, train_loss, scores))
        return scores

    model.train()
    avg: dict[str, float] = {}
    budget = cfg.minutes * 60
    next_valid = seconds + cfg.valid_every_minutes * 60
    scores: dict = {}
    stopped = False
    while seconds < budget and (cfg.max_steps is None or step < cfg.max_steps):
        if should_stop and should_stop():
            stopped = True
            break
        t0 = time.time()
        rng = np.random.default_rng([cfg.seed, step, 104729])
        ci = rng.integers(0, len(c_tok), n_coll)
        x = c_tok[ci]
        a = c_attr[ci]
        if n_base:
            bi = rng.integers(0, len(b_tok), n_base)
            x = np.concatenate([x, b_tok[bi]])
            a = np.concatenate([a, b_attr[bi]])
        xb, ab = augmented(torch.from_numpy(x), torch.from_numpy(a), tcfg, step)
        # step + 1: the schedule's beta ramps from 0 at step 0; a fine-tune starts at full beta
        res = train_step(model, opt, xb, ab, tcfg, step + 1)
        step += 1
        seconds += time.time() - t0
        for k, v in res.items():
            avg[k] = v if k not in avg else 0.95 * avg[k] + 0.05 * v
        if seconds >= next_valid:
            scores = checkpoint(avg["loss"])
            next_valid = seconds + cfg.valid_every_minutes * 60
        if progress and step % 25 == 0:
            progress(FinetuneState(step, seconds / 60, cfg.minutes, avg["loss"], scores))
    scores = checkpoint(avg.get("loss", math.nan))
    scores["stopped"] = stopped
    scores["steps"] = step
    scores["minutes"] = round(seconds / 60, 2)
    return scores


def merged_corpus(base: Corpus, collection: Corpus, path: Path) -> Corpus:
    """One corpus of the base's windows and the collection's (tune indices shifted, splits kept), saved at
    `path`: what a fine-tuned model's sliders are fitted and swept on, so they hold on both kinds of music."""
    tunes = list(base.tunes) + list(collection.tunes)
    report = {"merged": [portable(base.path), portable(collection.path)], "windows_kept": len(base) + len(collection)}
    return Corpus(np.concatenate([base.tokens, collection.tokens]),
                  np.concatenate([base.tune, collection.tune + len(base.tunes)]).astype(np.int32),
                  np.concatenate([base.start, collection.start]), np.concatenate([base.split, collection.split]),
                  tunes, report, Path(path)).save(path)


def refit_sliders(checkpoint: Path, corpus: Corpus, n: int = 200, threads: int | None = None) -> dict:
    """Fit and sweep the sliders of a (fine-tuned) checkpoint on `corpus` and write its controls.json, as
    `python -m vae controls` does; returns the sweep's summary."""
    from vae.controls import CONTROLS_FILE, save_controls
    from vae.inference import TrainedModel
    from vae.sweep import measure_controls

    if threads:
        torch.set_num_threads(threads)
    model = TrainedModel.load(checkpoint)
    names = tuple(model.meta.get("train", {}).get("attr_names", ()))
    m = measure_controls(model, corpus, names, n=n, mode="decorrelated")
    save_controls(Path(checkpoint) / CONTROLS_FILE, m["controls"], m["sweep"],
                  {"summary": m["summary"], "settings": m["settings"]})
    return m["summary"]
