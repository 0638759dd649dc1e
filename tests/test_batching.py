"""Decodes from many threads share batches (explorer.latent.batching) and give exactly what a lone decode gives."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from explorer.latent.batching import DecodeBatcher


def test_concurrent_decodes_are_batched_and_identical(tiny_model):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1, (48, tiny_model.latent_dim)).astype(np.float32)
    alone = np.concatenate([tiny_model.decode(z[i:i + 1]) for i in range(len(z))])
    b = DecodeBatcher(lambda x, d: tiny_model.decode(x, detail=d))
    out: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(z))

    def user(i: int) -> None:
        start.wait()
        out[i] = b.decode(z[i])

    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(z))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert np.array_equal(np.concatenate([out[i] for i in range(len(z))]), alone)
    assert b.rows == len(z) and b.batches < len(z)  # some calls shared a batch


def test_a_batch_of_rows_and_errors_come_back_to_their_caller(tiny_model):
    b = DecodeBatcher(lambda x, d: tiny_model.decode(x, detail=d))
    z = np.zeros((5, tiny_model.latent_dim), np.float32)
    assert b.decode(z).shape == (5, tiny_model.seq_len)

    def broken(x, d):
        raise RuntimeError("decoder failed")

    with pytest.raises(RuntimeError, match="decoder failed"):
        DecodeBatcher(broken).decode(z[0])


def test_rows_with_and_without_a_detail_share_a_batch_and_decode_as_alone(tiny_model):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 1, (12, tiny_model.latent_dim)).astype(np.float32)
    details = [rng.normal(0, 1.5, tiny_model.detail_shape).astype(np.float32) if i % 2 else None for i in range(12)]
    alone = [tiny_model.decode(z[i], detail=details[i])[0] for i in range(12)]
    assert any(not np.array_equal(a, tiny_model.decode(z[i])[0]) for i, a in enumerate(alone) if details[i] is not None)
    b = DecodeBatcher(lambda x, d: tiny_model.decode(x, detail=d))
    out: dict[int, np.ndarray] = {}
    start = threading.Barrier(12)

    def user(i: int) -> None:
        start.wait()
        out[i] = b.decode(z[i], details[i])[0]

    threads = [threading.Thread(target=user, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i in range(12):
        assert np.array_equal(out[i], alone[i])
