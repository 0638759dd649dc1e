"""Fine-tuning on a collection (vae.finetune): learns it, keeps the frozen parts frozen, stops, resumes."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import torch

from vae.checkpoint import load_checkpoint, read_meta
from vae.config import get_preset
from vae.corpus import build_corpus, music21_jobs
from vae.finetune import FinetuneConfig, finetune, merged_corpus


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A real collection the tiny model never saw: the first book of Ryan's Mammoth Collection."""
    return build_corpus(get_preset("tiny").data, music21_jobs(("ryans",))[:1], tmp_path_factory.mktemp("ryans"),
                        workers=1, progress=False)


def _nll(model, tokens: np.ndarray) -> float:
    """Mean teacher-forced NLL per token of windows [N, T] from their posterior means."""
    with torch.no_grad():
        x = torch.as_tensor(tokens[:256], dtype=torch.long)
        mu, _ = model.encode(x)
        logits = model.decode_logits(mu, model.shift_inputs(x))
        return float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1)))


def test_a_fine_tune_learns_the_collection_and_writes_a_loadable_checkpoint(tiny_checkpoint, small_corpus, collection,
                                                                           tmp_path):
    base, _ = load_checkpoint(tiny_checkpoint)
    base.eval()
    before = _nll(base, collection.tokens)
    cfg = FinetuneConfig(minutes=60, max_steps=40, lr=3e-3, batch_size=32, valid_every_minutes=60)
    scores = finetune(tiny_checkpoint, collection, small_corpus, tmp_path, cfg, threads=1)
    tuned, meta = load_checkpoint(tmp_path / "last")
    tuned.eval()
    assert scores["steps"] == 40 and not scores["stopped"]
    assert _nll(tuned, collection.tokens) < before - 0.05
    assert meta["extra"]["finetune"]["steps"] == 40
    assert meta["step"] == read_meta(tiny_checkpoint)["step"] + 40
    assert meta["extra"]["history"][-1]["event"] == "fine-tune"
    with (tmp_path / "finetune-curve.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows and float(rows[-1]["collection_event_accuracy"]) >= 0


def test_adapting_the_decoder_leaves_the_encoder_and_so_every_slider_position_unchanged(tiny_checkpoint, small_corpus,
                                                                                       collection, tmp_path):
    cfg = FinetuneConfig(minutes=60, max_steps=5, adapt="decoder", batch_size=16, valid_every_minutes=60)
    finetune(tiny_checkpoint, collection, small_corpus, tmp_path, cfg, threads=1)
    base, _ = load_checkpoint(tiny_checkpoint)
    tuned, _ = load_checkpoint(tmp_path / "last")
    b, t = dict(base.named_parameters()), dict(tuned.named_parameters())
    assert all(torch.equal(b[n], t[n]) for n in b if n.split(".")[0] in ("embed", "encoder", "to_mu", "to_logvar"))
    assert not torch.equal(b["decoder.weight_hh_l0"], t["decoder.weight_hh_l0"])


def test_a_stopped_fine_tune_is_loadable_and_resumes_where_it_stopped(tiny_checkpoint, small_corpus, collection,
                                                                      tmp_path):
    asked = []

    def stop_at_the_sixth_step() -> bool:  # the Stop button, pressed while step 6 is due
        asked.append(1)
        return len(asked) > 5

    cfg = FinetuneConfig(minutes=60, max_steps=12, batch_size=16, valid_every_minutes=60)
    scores = finetune(tiny_checkpoint, collection, small_corpus, tmp_path, cfg, threads=1,
                      should_stop=stop_at_the_sixth_step)
    assert scores["stopped"] and scores["steps"] == 5
    first = read_meta(tmp_path / "last")["extra"]["finetune"]["steps"]
    assert first == scores["steps"]
    again = finetune(tiny_checkpoint, collection, small_corpus, tmp_path, cfg, resume=True, threads=1)
    assert again["steps"] == 12
    meta = read_meta(tmp_path / "last")
    assert meta["extra"]["finetune"]["steps"] == 12
    assert sum(h["event"] == "fine-tune" for h in meta["extra"]["history"]) == 1


def test_bad_settings_and_an_empty_collection_get_a_sentence(tiny_checkpoint, small_corpus, collection, tmp_path):
    with pytest.raises(ValueError, match="share of a batch"):
        finetune(tiny_checkpoint, collection, small_corpus, tmp_path, FinetuneConfig(mix=1.0, max_steps=1))
    with pytest.raises(ValueError, match="part to adapt"):
        finetune(tiny_checkpoint, collection, small_corpus, tmp_path, FinetuneConfig(adapt="middle", max_steps=1))
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "vae", "finetune", "--midi", str(empty), "--checkpoint",
                        str(tiny_checkpoint), "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert r.returncode == 2 and "no readable music files" in r.stderr


def test_the_merged_corpus_holds_both_sides_with_their_splits(small_corpus, collection, tmp_path):
    m = merged_corpus(small_corpus, collection, tmp_path / "merged")
    assert len(m) == len(small_corpus) + len(collection)
    assert np.array_equal(m.tokens[len(small_corpus):], collection.tokens)
    assert np.array_equal(m.split[len(small_corpus):], collection.split)
    assert m.tune[len(small_corpus):].min() == len(small_corpus.tunes)
    assert len(m.tunes) == len(small_corpus.tunes) + len(collection.tunes)


def test_a_fine_tuned_checkpoint_keeps_the_base_training_settings(tiny_checkpoint, small_corpus, collection, tmp_path):
    finetune(tiny_checkpoint, collection, small_corpus, tmp_path, FinetuneConfig(max_steps=2, lr=1e-2, batch_size=8),
             threads=1)
    base, tuned = read_meta(tiny_checkpoint), read_meta(tmp_path / "last")
    assert tuned["train"] == base["train"]  # the fine-tune's own settings are in extra.finetune.config
    assert tuned["extra"]["finetune"]["config"]["lr"] == 1e-2
