"""`python -m vae evaluate | sample | interpolate`: score a checkpoint and write MIDI from it."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from vae.format import DEFAULT_FORMAT
from vae.inference import TrainedModel
from vae.paths import portable
from vae.scores import reconstruction_scores

SPLITS = {"train": 0, "valid": 1, "test": 2}


@torch.no_grad()
def shuffled_z_event_accuracy(model: TrainedModel, tokens: np.ndarray, seed: int = 0, batch: int = 512) -> float:
    """Greedy note-event accuracy when each window is decoded from ANOTHER window's z.

    This is what a decoder that ignores z would score; the gap to the real greedy accuracy is how much
    the latent code carries.
    """
    from vae.constants import HOLD

    perm = np.random.default_rng(seed).permutation(len(tokens))
    correct = total = 0
    for i in range(0, len(tokens), batch):
        x = tokens[i : i + batch]
        mu, _ = model.encode(tokens[perm[i : i + batch]])
        out = model.decode(mu)
        events = x != HOLD
        correct += int(((out == x) & events).sum())
        total += int(events.sum())
    return correct / max(total, 1)


def midi_windows(folder: Path) -> tuple[np.ndarray, int, list[dict]]:
    """Windows of the top-ranked melody of every MIDI file under a folder, plus files read and failures."""
    from vae.corpus import midi_jobs
    from vae.errors import MusicReadError
    from vae.midi_import import extract_melodies

    rows, failed, read = [], [], 0
    for job in midi_jobs(folder):
        try:
            mel = extract_melodies(Path(job.path))
        except MusicReadError as exc:
            failed.append({"file": job.path, "reason": exc.reason, "message": str(exc)})
            continue
        read += 1
        best = mel.candidates[0]
        if len(best.windows):
            rows.append(np.asarray(best.windows))
    tokens = np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, DEFAULT_FORMAT.window_steps), np.int64)
    return tokens, read, failed


FIDELITY_MAX_WINDOWS = 400  # fitting costs ~0.1-1 s a window on this CPU; a spread sample of more is plenty


def rendering_fidelity(model: TrainedModel, tokens: np.ndarray, max_windows: int = FIDELITY_MAX_WINDOWS) -> dict:
    """Exact-note F1 (pitch and onset) of what the app plays for each window: the greedy decoding of the
    encoder's mu, of z fitted to the window, and of that z with the per-bar detail that z cannot say (what an
    upload starts from: vae.fidelity.fit_melodies), plus the share of windows that needed a detail."""
    from vae.fidelity import fit_melodies

    pick = np.linspace(0, len(tokens) - 1, min(max_windows, len(tokens))).round().astype(int)
    x = tokens[np.unique(pick)]
    fits = [fit_melodies(model, x[i : i + 64]) for i in range(0, len(x), 64)]
    f_mu, f_z, f_all = (np.concatenate([getattr(f, k) for f in fits]) for k in ("f1_encoder", "f1_z", "f1"))
    detail = np.concatenate([np.abs(f.detail).reshape(len(f.detail), -1).max(1) > 0 for f in fits])
    return {"rendering_f1_encoder": float(f_mu.mean()), "rendering_f1_fitted_z": float(f_z.mean()),
            "rendering_f1_fitted": float(f_all.mean()), "rendering_f1_fitted_share_ge_0.8": float((f_all >= 0.8).mean()),
            "rendering_detail_share": float(detail.mean()), "rendering_f1_windows": len(x)}


def evaluate(checkpoint: Path, corpus_dir: Path | None = None, split: str = "test", midi: Path | None = None,
             limit: int | None = None) -> dict:
    """Reconstruction scores of a checkpoint on a corpus split or on melodies from MIDI files."""
    t0 = time.time()
    model = TrainedModel.load(checkpoint)
    files_read, failures = 0, []
    if midi:
        tokens, files_read, failures = midi_windows(midi)
        source = f"midi:{midi}"
        if len(tokens) == 0:
            raise ValueError(f"no melody windows could be extracted from the MIDI files in {midi}")
    else:
        from vae.checkpoint import data_config
        from vae.corpus import Corpus, load_or_build

        corpus = Corpus.load(corpus_dir) if corpus_dir else load_or_build(data_config(model.meta), progress=False)
        tokens = corpus.subset(SPLITS[split]).astype(np.int64)
        files_read = corpus.report.get("files", 0)
        failures = corpus.report.get("failures", [])
        source = f"corpus:{corpus.path.name}:{split}"
    if limit:
        tokens = tokens[:limit]
    scores = reconstruction_scores(model.model, tokens)
    scores["greedy_event_accuracy_shuffled_z"] = shuffled_z_event_accuracy(model, tokens)
    if midi:
        scores.update(rendering_fidelity(model, tokens))
    scores.update({"files_read": files_read, "files_failed": len(failures), "source": source,
                   "checkpoint": portable(checkpoint), "step": model.meta.get("step"),
                   "seconds": round(time.time() - t0, 1)})
    return scores


def evaluate_cli(a: argparse.Namespace) -> int:
    scores = evaluate(a.checkpoint, a.corpus, a.split, a.midi, a.limit)
    if a.json:
        print(json.dumps(scores, indent=2))
    else:
        for k, v in scores.items():
            print(f"{k:<38} {v:.4f}" if isinstance(v, float) else f"{k:<38} {v}")
    return 0


def sample_cli(a: argparse.Namespace) -> int:
    from vae.midi_export import notes_to_midi

    model = TrainedModel.load(a.checkpoint)
    _, tokens = model.sample(a.n, a.temperature, a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(tokens):
        path = a.out / f"sample_{a.seed}_{i:02d}.mid"
        notes_to_midi(model.tokenizer.decode(t), path, tempo=a.tempo)
        print(path)
    return 0


def interpolate_cli(a: argparse.Namespace) -> int:
    from vae.midi_export import notes_to_midi
    from vae.midi_import import extract_melodies
    from vae.tokenizer import Note

    model = TrainedModel.load(a.checkpoint)
    wins = []
    for p in (a.a, a.b):
        cands = extract_melodies(p).candidates
        if not len(cands[0].windows):
            raise ValueError(f"{p} holds no 4-bar melody window")
        wins.append(np.asarray(cands[0].windows[0], dtype=np.int64))
    _, tokens = model.interpolate(wins[0], wins[1], a.steps)
    notes = []
    for i, t in enumerate(tokens):  # one 4-bar section after another
        notes.extend(Note(n.pitch, n.start + i * model.seq_len, n.end + i * model.seq_len) for n in model.tokenizer.decode(t))
    notes_to_midi(notes, a.out, tempo=a.tempo)
    print(f"{a.out}: {a.steps} steps x 4 bars")
    return 0
