"""Decodes from many threads share batches (explorer.batching) and give exactly what a lone decode gives."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from explorer.batching import DecodeBatcher


def test_concurrent_decodes_are_batched_and_identical(tiny_model):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1, (48, tiny_model.latent_dim)).astype(np.float32)
    alone = np.concatenate([tiny_model.decode(z[i:i + 1]) for i in range(len(z))])
    b = DecodeBatcher(lambda x: tiny_model.decode(x))
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
    b = DecodeBatcher(lambda x: tiny_model.decode(x))
    z = np.zeros((5, tiny_model.latent_dim), np.float32)
    assert b.decode(z).shape == (5, tiny_model.seq_len)

    def broken(x):
        raise RuntimeError("decoder failed")

    with pytest.raises(RuntimeError, match="decoder failed"):
        DecodeBatcher(broken).decode(z[0])
