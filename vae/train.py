"""Training loop: resumable, time-boxed, seeded; validates every few minutes, keeps the best checkpoint."""

from __future__ import annotations

import csv
import math
import os
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vae.checkpoint import load_checkpoint, load_optimizer_state, read_meta, save_checkpoint
from vae.config import Preset
from vae.corpus import TRAIN, VALID, Corpus, load_or_build
from vae.model import MelodyVAE, count_parameters, transpose_batch
from vae.scores import reconstruction_scores

CURVE_FIELDS = ["step", "minutes", "windows_seen", "epoch", "lr", "beta", "sampling_rate", "train_loss", "train_recon",
                "train_kl", "train_accuracy", "valid_teacher_forced_accuracy", "valid_greedy_accuracy",
                "valid_greedy_event_accuracy", "valid_nll_per_token", "valid_kl_nats", "valid_active_units"]
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


def train(preset: Preset, out_dir: Path, corpus: Corpus | None = None, minutes: float | None = None,
          max_steps: int | None = None, resume: bool = False, device: str | None = None, progress: bool = True,
          threads: int | None = None) -> dict:
    """Train `preset` into out_dir/{last,best}; returns the best validation scores.

    Stops after `minutes` of training (not counting validation) or `max_steps`, whichever comes first.
    With `resume`, continues from out_dir/last (weights, optimizer, step, curve).
    """
    out_dir = Path(out_dir)
    device = pick_device(device)
    if threads:
        torch.set_num_threads(threads)
    tcfg = preset.train
    corpus = corpus or load_or_build(preset.data, progress=progress)
    train_np = corpus.subset(TRAIN).astype(np.int64)
    valid_np = corpus.subset(VALID)
    if len(train_np) == 0 or len(valid_np) == 0:
        raise ValueError("the corpus has no training or no validation windows; add more tunes")
    rng = np.random.default_rng(tcfg.seed)
    valid_np = valid_np[rng.permutation(len(valid_np))[: tcfg.valid_windows]]
    train_x = torch.from_numpy(train_np)
    mcfg = replace(preset.model, seq_len=train_np.shape[1])

    torch.manual_seed(tcfg.seed)
    step, seconds, best = 0, 0.0, -math.inf
    last_dir, best_dir = out_dir / "last", out_dir / "best"
    if resume and (last_dir / "checkpoint.json").exists():
        model, meta = load_checkpoint(last_dir, device=device)
        model.train()
        step = meta["step"]
        seconds = meta["extra"].get("train_seconds", 0.0)
        best = meta["extra"].get("best_score", -math.inf)
        opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
        load_optimizer_state(last_dir, opt, meta)
        if progress:
            print(f"resuming from step {step} ({seconds / 60:.1f} min trained, best {SCORE_KEY} {best:.4f})")
    else:
        model = MelodyVAE(mcfg).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    model.train()
    out_dir.mkdir(parents=True, exist_ok=True)
    curve_path = out_dir / "curve.csv"
    if not (resume and curve_path.exists()):
        with curve_path.open("w", newline="") as f:
            csv.writer(f).writerow(CURVE_FIELDS)

    use_bf16 = tcfg.bf16 and device in ("cpu", "cuda")
    autocast = (lambda: torch.autocast(device_type=device, dtype=torch.bfloat16)) if use_bf16 else nullcontext
    gen = torch.Generator().manual_seed(tcfg.seed + step)
    n_train = len(train_x)
    per_epoch = n_train // tcfg.batch_size
    budget = minutes * 60 if minutes is not None else math.inf
    start_seconds = seconds
    bar = tqdm(total=(max_steps - step) if max_steps else None, desc=f"training {preset.name}", unit="step",
               disable=not progress, dynamic_ncols=True)
    run_avg: dict[str, float] = {}
    last_valid = time.time()
    stopping = False
    scores = {}

    def validate() -> dict:
        nonlocal best, scores
        model.eval()
        scores = reconstruction_scores(model, valid_np, device=device)
        model.train()
        lr, beta, rate = schedule(tcfg, step)
        row = {"step": step, "minutes": round(seconds / 60, 2), "windows_seen": step * tcfg.batch_size,
               "epoch": round(step / max(per_epoch, 1), 3), "lr": lr, "beta": beta, "sampling_rate": rate,
               **{f"train_{k}": run_avg.get(k, float("nan")) for k in ("loss", "recon", "kl", "accuracy")},
               **{f"valid_{k}": scores.get(k) for k in ("teacher_forced_accuracy", "greedy_accuracy",
                                                        "greedy_event_accuracy", "nll_per_token", "kl_nats", "active_units")}}
        with curve_path.open("a", newline="") as f:
            csv.writer(f).writerow([row[k] for k in CURVE_FIELDS])
        improved = scores[SCORE_KEY] > best
        if improved:
            best = scores[SCORE_KEY]
        extra = {"train_seconds": seconds, "best_score": best, "score_key": SCORE_KEY, "device": device,
                 "parameters": count_parameters(model), "corpus": str(corpus.path), "windows_train": n_train}
        save_checkpoint(last_dir, model, preset.data, tcfg, step, scores, extra, optimizer=opt)
        if improved:
            save_checkpoint(best_dir, model, preset.data, tcfg, step, scores, extra)
        if progress:
            tqdm.write(f"step {step}  {seconds / 60:.1f} min  valid tf {scores['teacher_forced_accuracy']:.4f}  "
                       f"greedy {scores['greedy_accuracy']:.4f}  event {scores['greedy_event_accuracy']:.4f}  "
                       f"kl {scores['kl_nats']:.1f}{'  *best*' if improved else ''}")
        return scores

    while not stopping:
        epoch = step // max(per_epoch, 1)
        perm = torch.from_numpy(np.random.default_rng(tcfg.seed * 1000003 + epoch).permutation(n_train))
        for b in range(step % max(per_epoch, 1), per_epoch):
            t0 = time.time()
            idx = perm[b * tcfg.batch_size : (b + 1) * tcfg.batch_size]
            x = transpose_batch(train_x[idx], tcfg.transpose, gen).to(device, non_blocking=True)
            lr, beta, rate = schedule(tcfg, step)
            for g in opt.param_groups:
                g["lr"] = lr
            with autocast():
                res = model(x, beta=beta, free_bits=tcfg.free_bits, sampling_rate=rate)
            opt.zero_grad(set_to_none=True)
            res["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            opt.step()
            step += 1
            seconds += time.time() - t0
            for k in ("loss", "recon", "kl", "accuracy"):
                v = float(res[k].detach())
                run_avg[k] = v if k not in run_avg else 0.98 * run_avg[k] + 0.02 * v
            bar.update()
            if step % tcfg.log_every_steps == 0:
                bar.set_postfix(loss=f"{run_avg['loss']:.3f}", acc=f"{run_avg['accuracy']:.3f}",
                                kl=f"{run_avg['kl']:.1f}", beta=f"{beta:.3f}", min=f"{seconds / 60:.1f}")
            if (max_steps and step >= max_steps) or seconds - start_seconds >= budget:
                stopping = True
                break
            if time.time() - last_valid >= tcfg.valid_every_minutes * 60:
                validate()
                last_valid = time.time()
    bar.close()
    validate()
    try:
        plot_curve(curve_path, out_dir / "curve.png")
    except Exception as exc:  # a plot must never lose a finished training run
        print(f"could not plot the learning curve: {exc}")
    return read_meta(best_dir)["scores"] if (best_dir / "checkpoint.json").exists() else scores


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
