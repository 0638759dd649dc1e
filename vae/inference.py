"""Inference object over a trained checkpoint: encode, decode, sample, interpolate (no training code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vae.checkpoint import load_checkpoint
from vae.format import MelodyFormat
from vae.model import MelodyVAE
from vae.tokenizer import MelodyTokenizer, Note


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation between vectors a and b [Z] at t in [0, 1] (scalar or [K] -> [K, Z]).

    Falls back to linear interpolation when a and b are (nearly) parallel or one is zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    t_arr = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-8 or nb < 1e-8:
        out = (1 - t_arr) * a + t_arr * b
    else:
        cos = np.clip(np.dot(a / na, b / nb), -1.0, 1.0)
        omega = np.arccos(cos)
        if np.sin(omega) < 1e-6:
            out = (1 - t_arr) * a + t_arr * b
        else:
            out = (np.sin((1 - t_arr) * omega) * a + np.sin(t_arr * omega) * b) / np.sin(omega)
    out = out.astype(np.float32)
    return out[0] if np.ndim(t) == 0 else out


class TrainedModel:
    """A loaded checkpoint with numpy-in/numpy-out methods, batch-friendly and deterministic per seed."""

    def __init__(self, model: MelodyVAE, meta: dict, device: str = "cpu"):
        self.model = model.eval()
        self.meta = meta
        self.device = device
        self.tokenizer = MelodyTokenizer()

    @classmethod
    def load(cls, path: Path | str, device: str = "cpu") -> TrainedModel:
        model, meta = load_checkpoint(Path(path), device=device)
        return cls(model, meta, device)

    @property
    def latent_dim(self) -> int:
        return self.model.cfg.latent_dim

    @property
    def seq_len(self) -> int:
        return self.model.cfg.seq_len

    @property
    def format(self) -> MelodyFormat:
        """The checkpoint's melody format (steps per bar, bars per window, vocabulary)."""
        return MelodyFormat.from_meta(self.meta)

    def to_tokens(self, x) -> np.ndarray:
        """Tokens [B, T] from tokens [T] / [B, T], a list of Notes, or a list of note lists."""
        if isinstance(x, np.ndarray) or torch.is_tensor(x):
            arr = np.asarray(x, dtype=np.int64)
            return arr[None] if arr.ndim == 1 else arr
        x = list(x)
        if x and isinstance(x[0], Note | tuple) and len(x[0]) == 3 and isinstance(x[0][0], int | np.integer):
            return self.tokenizer.encode([Note(*n) for n in x], self.seq_len)[None]
        if x and isinstance(x[0], int | np.integer):
            return np.asarray(x, dtype=np.int64)[None]
        return np.stack([self.tokenizer.encode([Note(*n) for n in notes], self.seq_len) for notes in x])

    @torch.no_grad()
    def encode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Melodies -> (mu [B, Z], sigma [B, Z]) float32."""
        tokens = self.to_tokens(x)
        if tokens.shape[1] != self.seq_len:
            raise ValueError(f"melodies must be {self.seq_len} steps long, got {tokens.shape[1]}")
        mu, logvar = self.model.encode(torch.as_tensor(tokens, device=self.device))
        return mu.cpu().numpy(), torch.exp(0.5 * logvar).cpu().numpy()

    @property
    def detail_shape(self) -> tuple[int, int]:
        """(units, context size) of a melody's detail: what it holds beyond z (vae.fidelity.fit_detail)."""
        return self.model.detail_shape

    @torch.no_grad()
    def decode(self, z: np.ndarray, temperature: float = 0.0, seed: int | None = None,
               detail: np.ndarray | None = None) -> np.ndarray:
        """z [Z] or [B, Z] -> tokens [B, T] int64. Temperature 0 is greedy; a seed makes sampling repeatable.
        detail: [U, C] for every row, or [B, U, C], or None (vae.fidelity.fit_detail)."""
        z_t = torch.as_tensor(np.atleast_2d(np.asarray(z, dtype=np.float32)), device=self.device)
        d_t = None if detail is None else torch.as_tensor(np.asarray(detail, dtype=np.float32), device=self.device)
        gen = None
        if temperature > 0:
            gen = torch.Generator(device=self.device)
            gen.manual_seed(0 if seed is None else int(seed))
        return self.model.generate(z_t, temperature=temperature, generator=gen, detail=d_t).cpu().numpy()

    @torch.no_grad()
    def decode_locked(self, z: np.ndarray, locked: np.ndarray, tokens: np.ndarray, temperature: float = 0.0,
                      seed: int | None = None, allowed: np.ndarray | None = None,
                      sound: np.ndarray | None = None) -> np.ndarray:
        """decode() with steps forced: locked [T] / [B, T] (bool) steps take tokens [T] / [B, T] exactly, the rest is
        decoded from z [Z] / [B, Z] -> tokens [B, T] (MelodyVAE.generate_locked: allowed, sound)."""
        dev = self.device
        z_t = torch.as_tensor(np.atleast_2d(np.asarray(z, dtype=np.float32)), device=dev)
        gen = None
        if temperature > 0:
            gen = torch.Generator(device=dev)
            gen.manual_seed(0 if seed is None else int(seed))
        opt = lambda a: None if a is None else torch.as_tensor(np.asarray(a), device=dev)  # noqa: E731
        return self.model.generate_locked(z_t, opt(locked), opt(np.asarray(tokens, np.int64)), opt(allowed),
                                          opt(sound), temperature=temperature, generator=gen).cpu().numpy()

    def regenerate(self, z: np.ndarray, tokens: np.ndarray, locked_bars, n: int = 4, rhythm_lock: bool = False,
                   seed: int = 0, temperature: float = 0.0, **kw):
        """n alternatives of melody tokens [T] at z [Z] that keep locked_bars (and with rhythm_lock every onset and
        duration) exactly: a vae.infill.Regeneration (z [n, Z], tokens [n, T], score [n], similarity [n])."""
        from vae.infill import regenerate

        return regenerate(self, z, tokens, locked_bars, n=n, rhythm_lock=rhythm_lock, seed=seed,
                          temperature=temperature, **kw)

    def reconstruct(self, x) -> np.ndarray:
        """Greedy decode of each melody's posterior mean: tokens [B, T]."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def sample(self, n: int, temperature: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """n melodies from the prior: (z [n, Z], tokens [n, T])."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.latent_dim)).astype(np.float32)
        return z, self.decode(z, temperature, seed)

    def interpolate(self, a, b, steps: int = 7, temperature: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Slerp between the posterior means of melodies a and b: (z [steps, Z], tokens [steps, T]).

        The first and last rows are the reconstructions of a and b.
        """
        if steps < 2:
            raise ValueError("an interpolation needs at least 2 steps")
        za = self.encode(a)[0][0]
        zb = self.encode(b)[0][0]
        z = slerp(za, zb, np.linspace(0.0, 1.0, steps))
        return z, self.decode(z, temperature, seed)
