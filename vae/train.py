"""Training loop: resumable, time-boxed, seeded; validates every few minutes, keeps the best checkpoint."""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vae.attributes import compute_attributes, corpus_attributes
from vae.augment import anticipate
from vae.checkpoint import load_checkpoint, load_optimizer_state, read_meta, save_checkpoint
from vae.config import Preset, TrainConfig
from vae.controls import spearman
from vae.corpus import TRAIN, VALID, Corpus, load_or_build
from vae.distributed import Ranks, any_rank, finish, setup, shard, weights_digest, wrap
from vae.model import MelodyVAE, count_parameters, transpose_batch
from vae.paths import portable
from vae.regulariser import attribute_loss
from vae.scores import reconstruction_scores

CURVE_FIELDS = ["step", "minutes", "windows_seen", "epoch", "lr", "beta", "sampling_rate", "train_loss", "train_recon",
                "train_kl", "train_attr", "train_accuracy", "valid_teacher_forced_accuracy", "valid_greedy_accuracy",
                "valid_greedy_event_accuracy", "valid_nll_per_token", "valid_kl_nats", "valid_active_units",
                "valid_attr_spearman"]
SCORE_KEY = "greedy_event_accuracy"  # what "best" means: note events reconstructed from z alone


def pick_device(name: str | None = None) -> str:
    if name:
        return name
    return "cuda" if torch.cuda.is_available() else "cpu"


def schedule(cfg, step: int) -> tuple[float, float, float]:
    """(lr, beta, scheduled-sampling rate) at a step."""
    lr = max(cfg.lr_min, cfg.lr * cfg.lr_decay**step)
    beta = cfg.beta_max * min(1.0, step / max(cfg.beta_warmup_steps, 1))
    rate = cfg.sampling_rate_max * min(1.0, step / max(cfg.sampling_warmup_steps, 1))
    return lr, beta, rate


def attribute_targets(corpus: Corpus, names: tuple[str, ...], split: int) -> np.ndarray:
    """[N, K] float32 attributes (NaN where undefined) of one split's windows, in `names` order."""
    if not names:
        return np.zeros((int((corpus.split == split).sum()), 0), np.float32)
    attrs = corpus_attributes(corpus)
    unknown = [n for n in names if n not in attrs]
    if unknown:
        raise ValueError(f"unknown attributes to regularise: {unknown}; known: {', '.join(attrs)}")
    rows = corpus.split == split
    return np.stack([attrs[n][rows] for n in names], axis=1).astype(np.float32)


def augmented(x: torch.Tensor, attrs: torch.Tensor, tcfg: TrainConfig, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch [B, T] and its attribute targets [B, K] after the anticipation augmentation (vae.augment).

    Seeded by the step, so a resumed run augments as an uninterrupted one would; the targets of changed
    windows are recomputed (syncopation and rhythm change with them).
    """
    if tcfg.anticipate <= 0:
        return x, attrs
    rng = np.random.default_rng([tcfg.seed, step, 7919])
    xa, changed = anticipate(x.numpy(), tcfg.anticipate, rng, offbeats=tcfg.anticipate_offbeats)
    if not changed.any():
        return x, attrs
    if attrs.shape[1]:
        new = compute_attributes(xa[changed])
        attrs = attrs.clone()
        attrs[torch.from_numpy(changed)] = torch.from_numpy(np.stack([new[n] for n in tcfg.attr_names], axis=1))
    return torch.from_numpy(xa), attrs


def train_step(model: MelodyVAE, opt: torch.optim.Optimizer, x: torch.Tensor, attrs: torch.Tensor | None,
               tcfg: TrainConfig, step: int, autocast=nullcontext) -> dict[str, float]:
    """One optimisation step on tokens x [B, T] (attrs [B, K] for the regularised dims, or None).

    Loss = reconstruction + beta * KL above the free bits (model.forward) + attr_weight * the sum of the
    per-attribute ordering losses on mu's first K dims (vae.regulariser). Returns the step's numbers.
    """
    lr, beta, rate = schedule(tcfg, step)
    for g in opt.param_groups:
        g["lr"] = lr
    with autocast():
        res = model(x, beta=beta, free_bits=tcfg.free_bits, sampling_rate=rate)
    loss = res["loss"]
    attr = torch.zeros(())
    if attrs is not None and attrs.shape[1] and tcfg.attr_weight > 0:
        attr = attribute_loss(res["mu"][:, : attrs.shape[1]], attrs, tcfg.attr_scale).sum()
        loss = loss + tcfg.attr_weight * attr
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
    opt.step()
    return {"loss": float(loss.detach()), "recon": float(res["recon"].detach()), "kl": float(res["kl"].detach()),
            "attr": float(attr.detach()), "accuracy": float(res["accuracy"])}


def attribute_spearman(mu: np.ndarray, attrs: np.ndarray) -> np.ndarray:
    """Spearman correlation of mu's dim k [N, >=K] with attribute k [N, K] over windows where it is defined -> [K]."""
    out = np.full(attrs.shape[1], np.nan)
    for k in range(attrs.shape[1]):
        ok = np.isfinite(attrs[:, k])
        if ok.sum() > 2 and np.ptp(attrs[ok, k]) > 0:
            out[k] = spearman(mu[ok, k], attrs[ok, k])
    return out


def validate(model: MelodyVAE, tokens: np.ndarray, attrs: np.ndarray, device: str) -> dict:
    """Reconstruction scores on validation windows, plus each regularised dim's Spearman with its attribute."""
    was_training = model.training
    model.eval()
    scores = reconstruction_scores(model, tokens, device=device)
    if attrs.shape[1]:
        with torch.no_grad():
            mu = torch.cat([model.encode(torch.as_tensor(tokens[i : i + 1024], dtype=torch.long, device=device))[0]
                            for i in range(0, len(tokens), 1024)]).cpu().numpy()
        rho = attribute_spearman(mu, attrs)
        scores["attr_spearman"] = float(np.nanmean(rho))
        scores["attr_spearman_each"] = [round(float(r), 4) for r in rho]
    model.train(was_training)
    return scores


class CurveLog:
    """The learning curve: one CSV row per validation (appends across resumed runs)."""

    def __init__(self, path: Path, fresh: bool):
        self.path = Path(path)
        if fresh or not self.path.exists():
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerow(CURVE_FIELDS)

    def append(self, row: dict) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in CURVE_FIELDS])


def keep_checkpoints(out_dir: Path, model: MelodyVAE, opt: torch.optim.Optimizer, preset: Preset, step: int,
                     scores: dict, extra: dict, improved: bool) -> None:
    """The checkpoint policy: out_dir/last always (with the optimizer, to resume), out_dir/best when the
    validation score improved (weights only)."""
    save_checkpoint(out_dir / "last", model, preset.data, preset.train, step, scores, extra, optimizer=opt)
    if improved:
        save_checkpoint(out_dir / "best", model, preset.data, preset.train, step, scores, extra)


def _start(preset: Preset, mcfg, out_dir: Path, resume: bool, init_from: Path | None, device: str, progress: bool):
    """(model, optimizer, step, seconds, best, history, fresh curve?) for a new, resumed or warm-started run."""
    last_dir = out_dir / "last"
    source = last_dir if resume and (last_dir / "checkpoint.json").exists() else init_from
    if source is None:
        model = MelodyVAE(mcfg).to(device)
        return model, torch.optim.Adam(model.parameters(), lr=preset.train.lr), 0, 0.0, -math.inf, [], True
    model, meta = load_checkpoint(Path(source), device=device)
    opt = torch.optim.Adam(model.parameters(), lr=preset.train.lr)
    load_optimizer_state(Path(source), opt, meta)
    step, extra = meta["step"], meta.get("extra", {})
    seconds = extra.get("train_seconds", 0.0)
    history = list(extra.get("history", []))
    warm = source is init_from
    # A warm start keeps weights, optimizer, step and schedule, but "best" restarts: the objective changed.
    best = -math.inf if warm else extra.get("best_score", -math.inf)
    if warm:
        history.append({"event": "warm start", "from": portable(source), "step": step})
    if progress:
        how = f"warm start from {portable(source)}" if warm else "resuming"
        print(f"{how} at step {step} ({seconds / 60:.1f} min trained)")
    return model, opt, step, seconds, best, history, warm or not resume


@dataclass
class _Run:
    """What one training run carries from step to step, and its checkpoint policy."""

    model: MelodyVAE
    opt: torch.optim.Optimizer
    preset: Preset
    out_dir: Path
    device: str
    corpus: Corpus
    valid: tuple[np.ndarray, np.ndarray]  # validation windows and their attribute targets
    curve: CurveLog
    history: list[dict]
    step: int
    seconds: float
    best: float
    global_batch: int
    per_epoch: int
    n_train: int
    progress: bool
    run_avg: dict[str, float] = field(default_factory=dict)
    start_seconds: float = 0.0

    def checkpoint(self) -> dict:
        """Validate, log the curve, keep the checkpoints; returns the scores (self.best follows them)."""
        tcfg, step = self.preset.train, self.step
        scores = validate(self.model, *self.valid, self.device)
        lr, beta, rate = schedule(tcfg, step)
        self.history[-1].update({"to_step": step, "minutes": round((self.seconds - self.start_seconds) / 60, 2)})
        self.curve.append({"step": step, "minutes": round(self.seconds / 60, 2), "windows_seen": step * self.global_batch,
                           "epoch": round(step / self.per_epoch, 3), "lr": lr, "beta": beta, "sampling_rate": rate,
                           **{f"train_{k}": self.run_avg.get(k, float("nan")) for k in ("loss", "recon", "kl", "attr", "accuracy")},
                           **{f"valid_{k}": scores.get(k) for k in ("teacher_forced_accuracy", "greedy_accuracy",
                                                                    "greedy_event_accuracy", "nll_per_token", "kl_nats",
                                                                    "active_units", "attr_spearman")}})
        improved = scores[SCORE_KEY] > self.best
        self.best = max(self.best, scores[SCORE_KEY])
        extra = {"train_seconds": self.seconds, "best_score": self.best, "score_key": SCORE_KEY, "device": self.device,
                 "parameters": count_parameters(self.model), "corpus": portable(self.corpus.path),
                 "windows_train": self.n_train, "history": self.history}
        keep_checkpoints(self.out_dir, self.model, self.opt, self.preset, step, scores, extra, improved)
        if self.progress:
            rho = f"  attr rho {scores['attr_spearman']:.3f}" if "attr_spearman" in scores else ""
            tqdm.write(f"step {step}  {self.seconds / 60:.1f} min  valid tf {scores['teacher_forced_accuracy']:.4f}  "
                       f"greedy {scores['greedy_accuracy']:.4f}  event {scores['greedy_event_accuracy']:.4f}  "
                       f"kl {scores['kl_nats']:.1f}{rho}{'  *best*' if improved else ''}")
        return scores


def _validation_set(corpus: Corpus, tcfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of tcfg.valid_windows validation windows and their attribute targets."""
    valid_np = corpus.subset(VALID)
    pick = np.random.default_rng(tcfg.seed).permutation(len(valid_np))[: tcfg.valid_windows]
    return valid_np[pick], attribute_targets(corpus, tcfg.attr_names, VALID)[pick]


def _training_data(preset: Preset, corpus: Corpus | None, progress: bool) -> tuple[Corpus, torch.Tensor, torch.Tensor]:
    """The corpus (built from preset.data if not given), its training windows [N, T] int64 and their
    attribute targets [N, K]; raises ValueError when a split is empty."""
    corpus = corpus or load_or_build(preset.data, progress=progress)
    train_np = corpus.subset(TRAIN).astype(np.int64)
    if len(train_np) == 0 or len(corpus.subset(VALID)) == 0:
        raise ValueError("the corpus has no training or no validation windows; add more tunes")
    train_attrs = torch.from_numpy(attribute_targets(corpus, preset.train.attr_names, TRAIN))
    return corpus, torch.from_numpy(train_np), train_attrs


def _open_run(preset: Preset, out_dir: Path, corpus: Corpus, train_x: torch.Tensor, ranks: Ranks, device: str,
              resume: bool, init_from: Path | None, progress: bool) -> _Run:
    """The seeded model, optimizer and bookkeeping of a new, resumed or warm-started run (out_dir made)."""
    tcfg = preset.train
    mcfg = replace(preset.model, seq_len=train_x.shape[1])
    torch.manual_seed(tcfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    model, opt, step, seconds, best, history, fresh = _start(preset, mcfg, out_dir, resume, init_from, device, progress)
    model.train()
    global_batch = tcfg.batch_size * ranks.world  # every rank takes batch_size windows of each global batch
    return _Run(model, opt, preset, out_dir, device, corpus, _validation_set(corpus, tcfg),
                CurveLog(out_dir / "curve.csv", fresh), history, step, seconds, best, global_batch,
                max(len(train_x) // global_batch, 1), len(train_x), progress, start_seconds=seconds)


def _run_entry(run: _Run, ranks: Ranks, minutes: float | None, max_steps: int | None) -> dict:
    """The history entry of this run: when, from which step, on what, with which budget."""
    device = run.device
    return {"event": "run", "started": time.strftime("%Y-%m-%d %H:%M"), "from_step": run.step,
            "device": device if device != "cpu" else f"cpu ({os.cpu_count()} cores)",
            "threads": torch.get_num_threads(), "minutes_budget": minutes, "max_steps": max_steps,
            "processes": ranks.world}


@dataclass
class _Loop:
    """What the step loop needs besides the run: the data, the ranks, the stopping rule and the progress bar."""

    net: torch.nn.Module  # what the training step calls (DDP averages gradients across ranks)
    train_x: torch.Tensor  # [N, T] training windows
    train_attrs: torch.Tensor  # [N, K] their attribute targets
    ranks: Ranks
    gen: torch.Generator  # the transposition draws, seeded by the step the run starts at
    autocast: Callable[[], AbstractContextManager]  # bf16 autocast or nullcontext
    max_steps: int | None
    budget: float  # training seconds this run may spend
    bar: tqdm
    last_valid: float = 0.0  # wall time of the last validation


def _loop(run: _Run, net: torch.nn.Module, train_x: torch.Tensor, train_attrs: torch.Tensor, ranks: Ranks,
          minutes: float | None, max_steps: int | None) -> _Loop:
    """The step loop's state for `run`: transposition generator, autocast, time budget and progress bar."""
    tcfg = run.preset.train
    use_bf16 = tcfg.bf16 and run.device in ("cpu", "cuda")
    autocast = partial(torch.autocast, device_type=run.device, dtype=torch.bfloat16) if use_bf16 else nullcontext
    gen = torch.Generator().manual_seed(tcfg.seed + run.step)
    budget = minutes * 60 if minutes is not None else math.inf
    bar = tqdm(total=(max_steps - run.step) if max_steps else None, desc=f"training {run.preset.name}", unit="step",
               disable=not run.progress, dynamic_ncols=True)
    return _Loop(net, train_x, train_attrs, ranks, gen, autocast, max_steps, budget, bar, last_valid=time.time())


def _log_step(run: _Run, loop: _Loop, res: dict[str, float]) -> None:
    """Fold one step's numbers into the running averages; show them on the bar every log_every_steps."""
    for k, v in res.items():
        run.run_avg[k] = v if k not in run.run_avg else 0.98 * run.run_avg[k] + 0.02 * v
    loop.bar.update()
    if run.step % run.preset.train.log_every_steps == 0:
        avg = run.run_avg
        loop.bar.set_postfix(loss=f"{avg['loss']:.3f}", acc=f"{avg['accuracy']:.3f}", attr=f"{avg['attr']:.2f}",
                             kl=f"{avg['kl']:.1f}", min=f"{run.seconds / 60:.1f}")


def _one_step(run: _Run, loop: _Loop, perm: torch.Tensor, b: int) -> dict[str, float]:
    """Train on global batch b of the epoch's permutation perm [N]; returns the step's numbers."""
    tcfg, gb = run.preset.train, run.global_batch
    idx = shard(perm[b * gb : (b + 1) * gb], loop.ranks)
    xb, a = augmented(loop.train_x[idx], loop.train_attrs[idx], tcfg, run.step)
    x = transpose_batch(xb, tcfg.transpose, loop.gen).to(run.device, non_blocking=True)
    # Transposition moves mean pitch and mood's tonic, not the other attributes; regularise only
    # untransposed training (the default) on exact targets.
    a = a.to(run.device) if tcfg.transpose == 0 else None
    return train_step(loop.net, run.opt, x, a, tcfg, run.step, loop.autocast)


def _epoch(run: _Run, loop: _Loop) -> bool:
    """Train from run.step to the end of its epoch, validating every valid_every_minutes on the main rank;
    True when the run's step or time budget ran out (every rank stops at the same step)."""
    tcfg = run.preset.train
    epoch = run.step // run.per_epoch
    perm = torch.from_numpy(np.random.default_rng(tcfg.seed * 1000003 + epoch).permutation(run.n_train))
    for b in range(run.step % run.per_epoch, run.per_epoch):
        t0 = time.time()
        res = _one_step(run, loop, perm, b)
        run.step += 1
        run.seconds += time.time() - t0
        _log_step(run, loop, res)
        # the first rank whose budget runs out decides for all
        out_of_steps = bool(loop.max_steps and run.step >= loop.max_steps)
        if any_rank(out_of_steps or run.seconds - run.start_seconds >= loop.budget, loop.ranks):
            return True
        if loop.ranks.main and time.time() - loop.last_valid >= tcfg.valid_every_minutes * 60:
            run.checkpoint()
            loop.last_valid = time.time()
    return False


def _finish_run(run: _Run, ranks: Ranks) -> dict:
    """After the last step: each rank's weights digest under torchrun, then on the main rank the final
    validation and checkpoints and the curve's plot; returns the best checkpoint's scores ({} off the main rank)."""
    out_dir = run.out_dir
    if ranks.active:
        (out_dir / f"weights-rank{ranks.rank}.sha256").write_text(weights_digest(run.model) + "\n")
    if not ranks.main:
        finish(ranks)
        return {}
    scores = run.checkpoint()
    finish(ranks)
    try:
        plot_curve(out_dir / "curve.csv", out_dir / "curve.png")
    except Exception as exc:  # a plot must never lose a finished training run
        print(f"could not plot the learning curve: {exc}")
    return read_meta(out_dir / "best")["scores"] if (out_dir / "best" / "checkpoint.json").exists() else scores


def train(preset: Preset, out_dir: Path, corpus: Corpus | None = None, minutes: float | None = None,
          max_steps: int | None = None, resume: bool = False, device: str | None = None, progress: bool = True,
          threads: int | None = None, init_from: Path | None = None) -> dict:
    """Train `preset` into out_dir/{last,best}; returns the best validation scores.

    Stops after `minutes` of training (not counting validation) or `max_steps`, whichever comes first.
    With `resume`, continues from out_dir/last (weights, optimizer, step, curve). With `init_from` (and no
    out_dir/last to resume), starts from another checkpoint's weights and optimizer (a warm start).
    Under torchrun (vae.distributed) each of the N ranks trains on its share of every global batch of N x
    batch_size windows; rank 0 validates and writes, and every rank writes weights-rank<R>.sha256 at the end.
    """
    out_dir = Path(out_dir)
    ranks, device = setup(pick_device(device))
    progress = progress and ranks.main
    if threads:
        torch.set_num_threads(threads)
    corpus, train_x, train_attrs = _training_data(preset, corpus, progress)
    run = _open_run(preset, out_dir, corpus, train_x, ranks, device, resume, init_from, progress)
    run.history.append(_run_entry(run, ranks, minutes, max_steps))
    loop = _loop(run, wrap(run.model, ranks, device), train_x, train_attrs, ranks, minutes, max_steps)
    while not _epoch(run, loop):
        pass
    loop.bar.close()
    return _finish_run(run, ranks)


def plot_curve(csv_path: Path, png_path: Path) -> Path:
    """Plot validation accuracies and train loss against training minutes (matplotlib, headless)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    with Path(csv_path).open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError("empty learning curve")
    mins = [float(r["minutes"]) for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in [("valid_teacher_forced_accuracy", "teacher-forced acc"), ("valid_greedy_accuracy", "greedy acc"),
                       ("valid_greedy_event_accuracy", "greedy note-event acc")]:
        a1.plot(mins, [float(r[key]) for r in rows], marker=".", label=label)
    a1.set_xlabel("training minutes")
    a1.set_ylabel("validation accuracy")
    a1.set_ylim(0, 1)
    a1.grid(alpha=0.3)
    a1.legend()
    a2.plot(mins, [float(r["train_loss"]) for r in rows], label="train loss")
    a2.plot(mins, [float(r["valid_nll_per_token"]) for r in rows], label="valid NLL/token")
    a2b = a2.twinx()
    a2b.plot(mins, [float(r["valid_kl_nats"]) for r in rows], color="gray", ls="--", label="valid KL (nats)")
    a2.set_xlabel("training minutes")
    a2.legend(loc="upper right")
    a2b.legend(loc="center right")
    a2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path
