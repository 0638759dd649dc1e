"""The encoded corpus: posterior mean and spread of every corpus window, built once per model and corpus."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from explorer.latent.cache import cache_root, corpus_digest, file_digest, load_arrays, save_arrays
from vae.checkpoint import WEIGHTS
from vae.corpus import TRAIN, Corpus

Progress = Callable[[float, str], None]  # fn(fraction done in [0, 1], message)
INDEX_VERSION = 1  # bump when what is stored changes


@dataclass
class EncodedCorpus:
    """mu and sigma [N, Z] float32 for every corpus window (all splits), with its split [N] and tune [N]."""

    mu: np.ndarray
    sigma: np.ndarray
    split: np.ndarray
    tune: np.ndarray
    key: str
    from_cache: bool = False
    seconds: float = 0.0  # time to load or build

    def __len__(self) -> int:
        return len(self.mu)

    @property
    def latent_dim(self) -> int:
        return self.mu.shape[1]

    @property
    def train(self) -> np.ndarray:
        """Boolean mask [N] of the training windows."""
        return self.split == TRAIN


def index_key(checkpoint: Path | str, corpus: Corpus) -> str:
    """Cache key: digest of the checkpoint's weights file and of the corpus."""
    ckpt = Path(checkpoint)
    weights = ckpt / WEIGHTS if ckpt.is_dir() else ckpt
    return f"v{INDEX_VERSION}-{file_digest(weights)}-{corpus_digest(corpus)}"


def encode_windows(model, tokens: np.ndarray, batch_size: int = 1024, threads: int | None = None,
                   progress: bool = True, callback: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Encode windows [N, T] in batches with a TrainedModel -> (mu [N, Z], sigma [N, Z]) float32.

    `threads` sets torch's intra-op threads for the duration (default: every core), then restores them.
    """
    n = len(tokens)
    mu = np.zeros((n, model.latent_dim), np.float32)
    sigma = np.zeros((n, model.latent_dim), np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads or os.cpu_count() or 1))
    try:
        with tqdm(total=n, desc="encoding corpus", unit="win", disable=not progress) as bar:
            for i in range(0, n, batch_size):
                m, s = model.encode(np.asarray(tokens[i : i + batch_size], dtype=np.int64))
                mu[i : i + len(m)], sigma[i : i + len(m)] = m, s
                bar.update(len(m))
                if callback:
                    callback(min(1.0, (i + len(m)) / max(n, 1)), f"encoding corpus: {i + len(m)}/{n} windows")
    finally:
        torch.set_num_threads(before)
    return mu, sigma


def load_or_build_index(model, corpus: Corpus, checkpoint: Path | str, cache_dir: Path | str | None = None,
                        batch_size: int = 1024, threads: int | None = None, progress: bool = True,
                        callback: Progress | None = None, force: bool = False) -> EncodedCorpus:
    """The EncodedCorpus of `model` (loaded from `checkpoint`) over `corpus`: from `.cache/index/` when warm, else encoded.

    The cache file is keyed by the digest of the weights file and of the corpus, so a retrained model
    or a rebuilt corpus never reads a stale index.
    """
    t0 = time.perf_counter()
    key = index_key(checkpoint, corpus)
    path = cache_root(cache_dir) / f"latents-{key}.npz"
    cached = None if force else load_arrays(path)
    if cached is not None and cached["mu"].shape == (len(corpus), model.latent_dim):
        if callback:
            callback(1.0, "corpus index loaded from cache")
        return EncodedCorpus(cached["mu"], cached["sigma"], corpus.split, corpus.tune, key, True,
                           time.perf_counter() - t0)
    mu, sigma = encode_windows(model, corpus.tokens, batch_size, threads, progress, callback)
    save_arrays(path, {"mu": mu, "sigma": sigma})
    return EncodedCorpus(mu, sigma, corpus.split, corpus.tune, key, False, time.perf_counter() - t0)
