"""Checkpoints without pickle: safetensors weights + a JSON description (configs, vocabulary, step, scores)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import torch

from vae.config import DataConfig, ModelConfig, TrainConfig
from vae.constants import FIRST_NOTE_ON, HOLD, MAX_PITCH, MIN_PITCH, NOTE_OFF, STEPS_PER_BAR, VOCAB_SIZE
from vae.errors import CheckpointError
from vae.format import MelodyFormat
from vae.model import MelodyVAE

FORMAT = "melody-explorer-checkpoint"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
META = "checkpoint.json"
OPTIM = "optimizer.safetensors"

VOCABULARY = {"hold": HOLD, "note_off": NOTE_OFF, "first_note_on": FIRST_NOTE_ON, "min_pitch": MIN_PITCH,
              "max_pitch": MAX_PITCH, "vocab_size": VOCAB_SIZE, "steps_per_bar": STEPS_PER_BAR}


def _from_dict(cls, d: dict):
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise CheckpointError(f"the checkpoint's {cls.__name__} has fields this code does not know: {sorted(unknown)}")
    d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return cls(**d)


def save_checkpoint(path: Path, model: MelodyVAE, data_cfg: DataConfig, train_cfg: TrainConfig, step: int,
                    scores: dict | None = None, extra: dict | None = None,
                    optimizer: torch.optim.Optimizer | None = None) -> Path:
    """Write `path/` with weights, JSON and (optionally) the optimizer state for resuming. Atomic per file."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = path / (WEIGHTS + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(path / WEIGHTS)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": asdict(model.cfg), "data": asdict(data_cfg),
            "train": asdict(train_cfg), "vocabulary": VOCABULARY,
            "melody_format": MelodyFormat(steps_per_bar=model.cfg.bar_steps, bars=model.cfg.num_bars).to_dict(), "step": step, "scores": scores or {},
            "extra": extra or {}}
    if optimizer is not None:
        tensors, groups = {}, []
        sd = optimizer.state_dict()
        for pid, st in sd["state"].items():
            for name, val in st.items():
                t = val if torch.is_tensor(val) else torch.tensor(val)
                tensors[f"{pid}.{name}"] = t.detach().cpu().contiguous()
        groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
        tmp = path / (OPTIM + ".tmp")
        save_file(tensors, str(tmp))
        tmp.replace(path / OPTIM)
        meta["optimizer_groups"] = groups
    tmp = path / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(path / META)
    return path


def read_meta(path: Path) -> dict:
    """The checkpoint's JSON description; CheckpointError if missing or malformed."""
    path = Path(path)
    meta_file = path / META if path.is_dir() else path
    if not meta_file.exists():
        raise CheckpointError(f"no checkpoint at {path}: expected {META} and {WEIGHTS} in that folder")
    try:
        meta = json.loads(meta_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{meta_file} is not valid JSON (corrupted or truncated): {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{meta_file} is not a Melody Explorer checkpoint")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{meta_file} has format version {meta.get('format_version')}, this code reads {FORMAT_VERSION}")
    if meta.get("vocabulary") != VOCABULARY:
        raise CheckpointError(f"{meta_file} was trained with another token vocabulary: {meta.get('vocabulary')}")
    return meta


def load_checkpoint(path: Path, device: str = "cpu") -> tuple[MelodyVAE, dict]:
    """Rebuild the model from a checkpoint folder alone. Returns (model in eval mode, meta dict)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_meta(path)
    try:
        cfg = _from_dict(ModelConfig, meta["model"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} has an unreadable model configuration: {exc}") from exc
    weights = path / WEIGHTS
    if not weights.exists():
        raise CheckpointError(f"{path} has no {WEIGHTS}")
    try:
        state = load_file(str(weights), device=device)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{weights} is corrupted or truncated: {exc}") from exc
    model = MelodyVAE(cfg).to(device)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{weights} does not match its configuration ({first})") from exc
    model.eval()
    return model, meta


def load_optimizer_state(path: Path, optimizer: torch.optim.Optimizer, meta: dict) -> bool:
    """Restore optimizer state saved with the checkpoint; False if there is none."""
    from safetensors.torch import load_file

    f = Path(path) / OPTIM
    if not f.exists() or "optimizer_groups" not in meta:
        return False
    flat = load_file(str(f))
    state: dict[int, dict] = {}
    for key, val in flat.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = val
    optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer_groups"]})
    return True


def data_config(meta: dict) -> DataConfig:
    return _from_dict(DataConfig, meta["data"])


def train_config(meta: dict) -> TrainConfig:
    return _from_dict(TrainConfig, meta["train"])
