"""Model, checkpoint and inference object on the `tiny` preset."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.config import get_preset
from vae.errors import CheckpointError
from vae.inference import TrainedModel, slerp
from vae.model import MelodyVAE, transpose_batch

TINY = get_preset("tiny")


@pytest.mark.parametrize("hierarchical", [True, False])
def test_shapes(hierarchical, small_corpus):
    model = MelodyVAE(replace(TINY.model, hierarchical=hierarchical))
    x = torch.as_tensor(small_corpus.tokens[:5].astype(np.int64))
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, TINY.model.latent_dim)
    out = model(x, beta=0.1)
    assert out["logits"].shape == (5, 64, 90)
    assert model.generate(mu).shape == (5, 64)


@pytest.mark.parametrize("hierarchical, sampling", [(True, 0.0), (False, 0.0), (True, 0.3)])
def test_loss_decreases_on_small_batch(hierarchical, sampling, small_corpus):
    torch.manual_seed(0)
    model = MelodyVAE(replace(TINY.model, hierarchical=hierarchical))
    x = torch.as_tensor(small_corpus.tokens[:16].astype(np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss = model(x, beta=0.01, sampling_rate=sampling)["loss"]
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first


def test_transpose_keeps_rhythm_and_range(small_corpus):
    x = torch.as_tensor(small_corpus.tokens[:64].astype(np.int64))
    y = transpose_batch(x, 5, torch.Generator().manual_seed(1))
    assert torch.equal(x < 2, y < 2)
    assert int(y.max()) < 90 and int(y[y >= 2].min()) >= 2
    assert not torch.equal(x, y)


def test_save_load_identical_outputs(tmp_path, tiny_model, small_corpus):
    x = small_corpus.tokens[:8]
    save_checkpoint(tmp_path / "ck", tiny_model.model, TINY.data, TINY.train, step=7, scores={"a": 1.0})
    again = TrainedModel.load(tmp_path / "ck")
    mu1, s1 = tiny_model.encode(x)
    mu2, s2 = again.encode(x)
    assert np.array_equal(mu1, mu2) and np.array_equal(s1, s2)
    assert np.array_equal(tiny_model.decode(mu1), again.decode(mu2))
    assert again.meta["step"] == 7 and again.meta["scores"] == {"a": 1.0}


def test_decode_deterministic(tiny_model):
    z = np.random.default_rng(0).standard_normal((3, tiny_model.latent_dim)).astype(np.float32)
    assert np.array_equal(tiny_model.decode(z), tiny_model.decode(z))
    a = tiny_model.decode(z, temperature=1.0, seed=5)
    assert np.array_equal(a, tiny_model.decode(z, temperature=1.0, seed=5))
    assert not np.array_equal(a, tiny_model.decode(z, temperature=1.0, seed=6))


def test_interpolation_endpoints_are_reconstructions(lively_model, small_corpus):
    """On the lively model (tests/conftest.py), whose greedy melodies have notes and differ with z: the tiny
    model's are silent, and silence equals silence whatever the endpoints."""
    from vae.constants import FIRST_NOTE_ON

    m = lively_model
    a, b = small_corpus.tokens[0], small_corpus.tokens[50]
    z, tokens = m.interpolate(a, b, steps=5)
    assert tokens.shape == (5, 64)
    assert np.allclose(z[0], m.encode(a)[0][0], atol=1e-5) and np.allclose(z[-1], m.encode(b)[0][0], atol=1e-5)
    assert np.array_equal(tokens[0], m.reconstruct(a)[0])
    assert np.array_equal(tokens[-1], m.reconstruct(b)[0])
    assert (tokens[[0, -1]] >= FIRST_NOTE_ON).any(1).all() and not np.array_equal(tokens[0], tokens[-1])
    assert np.array_equal(tokens, m.decode(slerp(z[0], z[-1], np.linspace(0, 1, 5))))  # the rows between: slerp
    _, sampled = m.interpolate(a, b, steps=5, temperature=1.0, seed=2)
    assert np.array_equal(sampled, m.decode(z, 1.0, 2)) and not np.array_equal(sampled, tokens)


def test_slerp():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    mid = slerp(a, b, 0.5)
    assert np.allclose(mid, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    assert np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)
    assert np.allclose(slerp(a, 2 * a, 0.5), 1.5 * a)  # parallel endpoints: linear
    assert slerp(a, b, np.linspace(0, 1, 4)).shape == (4, 2)


def test_encode_accepts_notes(tiny_model):
    from vae.constants import HOLD, NOTE_OFF
    from vae.tokenizer import Note

    ns = [Note(60, 0, 4), Note(64, 4, 8)]
    # the same melody written out by hand: note-on token = pitch - 21 + 2, then holds, an off after E4
    by_hand = np.full(64, HOLD, dtype=np.int64)
    by_hand[[0, 4, 8]] = [60 - 21 + 2, 64 - 21 + 2, NOTE_OFF]
    mu, sigma = tiny_model.encode(ns)
    mu_ref, sigma_ref = tiny_model.encode(by_hand)
    assert mu.shape == (1, tiny_model.latent_dim)
    assert np.array_equal(mu, mu_ref) and np.array_equal(sigma, sigma_ref)
    assert np.array_equal(tiny_model.encode(by_hand.tolist())[0], mu_ref)  # a plain list of token ids
    # a list of note lists is a batch, row by row; another melody gets another code
    other = [Note(67, 0, 16), Note(65, 16, 20)]
    other_by_hand = np.full(64, HOLD, dtype=np.int64)
    other_by_hand[[0, 16, 20]] = [67 - 21 + 2, 65 - 21 + 2, NOTE_OFF]
    batch, _ = tiny_model.encode([ns, other])
    assert batch.shape == (2, tiny_model.latent_dim)
    assert np.allclose(batch[0], mu_ref[0], atol=1e-6)
    assert np.allclose(batch[1], tiny_model.encode(other_by_hand)[0][0], atol=1e-6)
    assert not np.allclose(batch[0], batch[1], atol=1e-4)


def test_bad_checkpoints_raise_clear_error(tmp_path, tiny_checkpoint):
    import shutil

    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing")
    trunc = tmp_path / "trunc"
    shutil.copytree(tiny_checkpoint, trunc)
    data = (trunc / "model.safetensors").read_bytes()
    (trunc / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupted or truncated"):
        load_checkpoint(trunc)
    bad_json = tmp_path / "badjson"
    shutil.copytree(tiny_checkpoint, bad_json)
    (bad_json / "checkpoint.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(bad_json)
    mismatch = tmp_path / "mismatch"
    shutil.copytree(tiny_checkpoint, mismatch)
    meta = json.loads((mismatch / "checkpoint.json").read_text())
    meta["model"]["latent_dim"] += 1
    (mismatch / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(mismatch)


def test_training_resumes(tmp_path, small_corpus):
    from vae.train import train

    train(TINY, tmp_path, corpus=small_corpus, max_steps=20, progress=False, threads=1)
    train(TINY, tmp_path, corpus=small_corpus, max_steps=35, resume=True, progress=False, threads=1)
    _, meta = load_checkpoint(tmp_path / "last")
    assert meta["step"] == 35
    rows = (tmp_path / "curve.csv").read_text().strip().splitlines()
    assert len(rows) >= 3 and (tmp_path / "curve.png").exists()


def test_warm_start_keeps_weights_and_step_and_records_where_it_came_from(tmp_path, small_corpus):
    from vae.train import train

    src = tmp_path / "src"
    train(TINY, src, corpus=small_corpus, max_steps=15, progress=False, threads=1)
    before, src_meta = load_checkpoint(src / "last")
    new = replace(TINY, train=replace(TINY.train, attr_weight=0.3))  # another objective, same weights
    dst = tmp_path / "dst"
    train(new, dst, corpus=small_corpus, max_steps=16, progress=False, threads=1, init_from=src / "last")
    after, meta = load_checkpoint(dst / "last")
    assert meta["step"] == 16 and meta["train"]["attr_weight"] == 0.3
    history = meta["extra"]["history"]
    assert {"event": "warm start", "from": (src / "last").name, "step": 15} in history
    assert [h["from_step"] for h in history if h["event"] == "run"] == [0, 15]
    assert not Path(meta["extra"]["corpus"]).is_absolute()  # no machine paths in a checkpoint
    # one step on from the source's weights: close to them, not a fresh initialisation
    diff = max(float((a - b).abs().max()) for a, b in zip(before.state_dict().values(), after.state_dict().values(),
                                                         strict=True))
    assert 0 < diff < 0.05
    assert meta["melody_format"] == {**src_meta["melody_format"]} and meta["melody_format"]["bars"] == 4


def test_fused_decoding_matches_reference_loop(tiny_model):
    z = torch.randn(16, tiny_model.latent_dim, generator=torch.Generator().manual_seed(0))
    m = tiny_model.model
    assert torch.equal(m.generate(z), m.generate_reference(z))
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    assert torch.equal(m.generate(z, 1.0, g1), m.generate_reference(z, 1.0, g2))


@pytest.mark.parametrize("hierarchical", [True, False])
def test_scripted_greedy_loop_matches_reference_and_the_python_loop(hierarchical, small_corpus):
    """Greedy decoding runs as TorchScript (no GIL between steps): token for token what the plain loop gives,
    on a hierarchical and a flat decoder, at batch sizes 1 and 7."""
    from vae.model import _greedy_loop, _greedy_loop_py

    torch.manual_seed(3)
    m = MelodyVAE(replace(TINY.model, hierarchical=hierarchical)).eval()
    assert isinstance(_greedy_loop(), torch.jit.ScriptFunction)
    for b in (1, 7):
        z = torch.randn(b, TINY.model.latent_dim) * 2
        assert torch.equal(m.generate(z), m.generate_reference(z))
    import vae.model as vm

    saved = vm._greedy_loop
    vm._greedy_loop = lambda: _greedy_loop_py  # the same loop in Python
    try:
        assert torch.equal(m.generate(z), m.generate_reference(z))
    finally:
        vm._greedy_loop = saved
