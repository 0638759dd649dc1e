"""Another model behind the same map: a fine-tuned decoder swapped in without encoding the corpus again.

A model fine-tuned with `adapt="decoder"` (vae.finetune) keeps the encoder's weights, so every encoding stays
valid: the corpus's EncodedCorpus, each collection's latents, every session's z, the map, the styles and the
neighbours. `with_model` checks that the encoders are equal (weight for weight) and then reuses them, fitting
only what depends on the sliders; for any other model it builds the space properly (encoding everything again).

The sliders' directions are a read-out of the encoder, so they stay; their names were earned by a sweep through
the decoder, which `resweep` measures again on the new model (a few dozen melodies, so it takes seconds, not the
minutes of `python -m vae controls`).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from explorer.latent.cache import cache_root
from explorer.latent.collections import join, latents_path
from explorer.latent.directions import Sliders
from explorer.latent.encoded import index_key
from explorer.latent.space import LatentSpace
from vae.controls import CONTROLS_FILE, corpus_std, save_controls
from vae.corpus import VALID
from vae.finetune import ADAPT
from vae.sweep import orient, summarise, sweep

RESWEEP_MELODIES = 24  # melodies a re-measured sweep runs on (the shipped sliders were measured on 200)


def same_encoder(a, b) -> bool:
    """Whether two models (vae.inference.TrainedModel) encode alike: equal shapes and weights of the embedding,
    the encoder and the posterior (vae.finetune.ADAPT["encoder"]), so every z of one is the z of the other."""
    if a is b:
        return True
    prefixes = ADAPT["encoder"]
    pa = {k: v for k, v in a.model.state_dict().items() if k.split(".")[0] in prefixes}
    pb = {k: v for k, v in b.model.state_dict().items() if k.split(".")[0] in prefixes}
    return bool(pa) and pa.keys() == pb.keys() and all(
        pa[k].shape == pb[k].shape and torch.equal(pa[k], pb[k]) for k in pa)


def sweep_melodies(space: LatentSpace, n: int = RESWEEP_MELODIES, seed: int = 0) -> np.ndarray:
    """Row indices [n] of the windows a re-measured sweep runs on: half held-out windows of the base corpus,
    half windows of the collections (all of them held-out when there is no collection)."""
    rng = np.random.default_rng(seed)
    n0 = len(space.base.corpus)
    held = np.nonzero(space.corpus.split[:n0] == VALID)[0]
    mine = np.arange(n0, len(space.corpus))
    take_mine = min(len(mine), n // 2)
    rows = [rng.choice(mine, take_mine, replace=False)] if take_mine else []
    rows.append(rng.choice(held, min(len(held), n - take_mine), replace=False))
    return np.sort(np.concatenate(rows)).astype(np.int64)


def resweep(model, space: LatentSpace, n: int = RESWEEP_MELODIES, checkpoint: Path | str | None = None) -> Sliders:
    """The space's sliders (same directions) with their names and figures measured again through `model`'s
    decoder, on n melodies (`sweep_melodies`), moved as the app moves them (steered when the sliders are).
    A free slider that now earns its name by lowering an attribute is turned round, as `python -m vae controls`
    does. With `checkpoint`, saved as its controls.json, so the next start with it reads them."""
    t0 = time.perf_counter()
    old = space.sliders
    rows = sweep_melodies(space, n)
    std = old.attr_std or corpus_std(space.attrs)
    table = sweep(lambda z: model.decode(np.asarray(z, np.float32)), old.controls, space.index.mu[rows], std,
                  steered=old.steered)
    controls, table = orient(old.controls, table)
    out = Sliders(controls, table, old.steered, old.attr_std)
    if checkpoint is not None:
        save_controls(Path(checkpoint) / CONTROLS_FILE, controls, table,
                      {"summary": summarise(table),
                       "settings": {"n": len(rows), "mode": "kept (re-swept after fine-tuning the decoder)",
                                    "steered": old.steered, "attr_std": std,
                                    "seconds": round(time.perf_counter() - t0, 1)}})
    return out


def keep_sliders(sliders: Sliders, checkpoint: Path | str) -> Sliders:
    """The sliders as they are (directions, names and figures of the model fine-tuned from), saved as the
    checkpoint's controls.json so a start with it reads them instead of measuring for minutes."""
    save_controls(Path(checkpoint) / CONTROLS_FILE, sliders.controls, sliders.sweep,
                  {"summary": summarise(sliders.sweep),
                   "settings": {"mode": "kept from the model it was fine-tuned from (not measured again)",
                                "steered": sliders.steered, "attr_std": sliders.attr_std}})
    return sliders


def _link(src: Path, dest: Path) -> None:
    """dest as a hard link to src (a copy where links are not possible); nothing when src is missing."""
    if not src.exists() or dest.exists():
        return
    try:
        os.link(src, dest)
    except OSError:
        import shutil

        shutil.copyfile(src, dest)


def with_model(space: LatentSpace, checkpoint: Path | str, model=None, sliders: Sliders | None = None,
               cache_dir: Path | str | None = None, threads: int | None = None) -> LatentSpace:
    """`space` (the base corpus plus its collections) served by the model at `checkpoint` (`model`, when loaded).

    Same encoder (`same_encoder`): every encoding and fitted part is kept (LatentSpace.swapped), with `sliders`
    (default: the space's); the corpus's and the collections' latents are also filed under the new checkpoint's
    cache keys (hard links), so a later start with it loads them instead of encoding again. Another encoder: the
    space is built again from the checkpoint (every window encoded; sliders from its controls.json or measured).
    `.swap_seconds` says what it took and `.reused_encodings` which way it went.
    """
    from vae.inference import TrainedModel

    t0 = time.perf_counter()
    model = model or TrainedModel.load(checkpoint)
    base = space.base
    if not same_encoder(model, space.model):
        fresh = LatentSpace.build(checkpoint, corpus=base.corpus, cache_dir=cache_dir, progress=False, model=model,
                                  threads=threads)
        out = join(fresh, list(space.collections), threads=threads)
        out.swap_seconds, out.reused_encodings = time.perf_counter() - t0, False
        return out
    key = index_key(checkpoint, base.corpus)
    root = cache_root(cache_dir)
    _link(root / f"latents-{base.index.key}.npz", root / f"latents-{key}.npz")
    for c in space.collections:
        _link(latents_path(base.index.key, c), latents_path(key, c))
    new_base = base.swapped(model, sliders, replace(base.index, key=key))
    new_base.base, new_base.checkpoint = new_base, Path(checkpoint)
    out = new_base
    if space is not base:
        out = space.swapped(model, sliders, replace(space.index, key=space.index.key.replace(base.index.key, key, 1)))
        out.base, out.checkpoint = new_base, Path(checkpoint)
    out.swap_seconds, out.reused_encodings = time.perf_counter() - t0, True
    return out


__all__ = ["RESWEEP_MELODIES", "keep_sliders", "resweep", "same_encoder", "sweep_melodies", "with_model"]
