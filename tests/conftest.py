"""Shared fixtures: a small real corpus from the bundled music21 files and a tiny model trained on it."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from vae.config import get_preset  # noqa: E402
from vae.corpus import build_corpus, music21_jobs  # noqa: E402
from vae.tokenizer import Note  # noqa: E402


def notes(*triples: tuple[int, int, int]) -> list[Note]:
    """Build a note list from (pitch, start_step, end_step) tuples."""
    return [Note(*t) for t in triples]


def small_jobs():
    """A real subset of the bundled corpus: 3 O'Neill books, 2 Essen books, 30 Bach chorales, 1 Aird book."""
    return (music21_jobs(("oneills",))[:3] + music21_jobs(("essen",))[:2] + music21_jobs(("bach",))[:30]
            + music21_jobs(("airds",))[:1])


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    cfg = get_preset("tiny").data
    return build_corpus(cfg, small_jobs(), tmp_path_factory.mktemp("corpus"), workers=2, progress=False)


@pytest.fixture(scope="session")
def tiny_checkpoint(small_corpus, tmp_path_factory) -> Path:
    from vae.train import train

    out = tmp_path_factory.mktemp("tiny_run")
    train(get_preset("tiny"), out, corpus=small_corpus, max_steps=120, progress=False, threads=1)
    return out / "best"


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint):
    from vae.inference import TrainedModel

    return TrainedModel.load(tiny_checkpoint)
