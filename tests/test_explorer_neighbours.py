"""k-NN over latents: exact against brute force, self first, excluding a group, batches."""

import numpy as np
import pytest

from explorer.latent.neighbours import NeighbourIndex, synthetic_latents


def brute(lat, z, k):
    d = np.linalg.norm(lat.astype(np.float64) - z, axis=1)
    return np.argsort(d, kind="stable")[:k], np.sort(d)[:k]


@pytest.mark.parametrize("n, k", [(1000, 5), (50, 50), (10, 20)])
def test_matches_brute_force(n, k):
    lat = synthetic_latents(n, 16, seed=3)
    ix = NeighbourIndex(lat)
    z = np.random.default_rng(4).standard_normal(16).astype(np.float32)
    idx, dist = ix.query(z, k)
    exp_idx, exp_d = brute(lat, z, k)
    assert len(idx) == min(k, n)
    assert np.allclose(dist, exp_d, atol=1e-4)
    assert set(idx.tolist()) == set(exp_idx.tolist())
    assert (np.diff(dist) >= 0).all()


def test_self_first_and_exclude_group():
    lat = synthetic_latents(500, 8, seed=5)
    groups = np.arange(500) // 10
    ix = NeighbourIndex(lat, groups)
    idx, dist = ix.query(lat[123], 3)
    assert idx[0] == 123 and dist[0] == pytest.approx(0.0, abs=1e-3)
    idx, _ = ix.query(lat[123], 20, exclude_group=12)
    assert not np.isin(idx, np.arange(120, 130)).any()
    with pytest.raises(ValueError):
        NeighbourIndex(lat).query(lat[0], 3, exclude_group=1)


def test_batch_queries():
    lat = synthetic_latents(300, 8, seed=6)
    ix = NeighbourIndex(lat)
    idx, dist = ix.query(lat[:4], 2)
    assert idx.shape == (4, 2) and dist.shape == (4, 2)
    assert idx[:, 0].tolist() == [0, 1, 2, 3]


def test_synthetic_latents_repeatable():
    a = synthetic_latents(1000, 4, seed=1)
    assert a.dtype == np.float32 and a.shape == (1000, 4)
    assert np.array_equal(a, synthetic_latents(1000, 4, seed=1))
    assert not np.array_equal(a, synthetic_latents(1000, 4, seed=2))


def clustered(n: int, centres: int = 400, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latents around `centres` melodies (as a corpus's posteriors are), and each one's centre as its group."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    g = rng.integers(0, centres, n)
    return (c[g] + 0.3 * rng.standard_normal((n, dim))).astype(np.float32), g


def test_the_faiss_index_agrees_with_exact_search():
    from explorer.latent.neighbours import ApproxIndex

    lat, groups = clustered(20_000)
    exact, approx = NeighbourIndex(lat, groups), ApproxIndex(lat, groups, nprobe=32)
    q = lat[::997] + 0.05
    ei, ed = exact.query(q, 10)
    ai, ad = approx.query(q, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(ai, ei, strict=True)])
    assert recall >= 0.9
    assert np.all(np.diff(ad, axis=1) >= -1e-5)  # nearest first
    hit = ai == ei
    assert np.allclose(ad[hit], ed[hit], atol=1e-3)  # the same Euclidean distances where they agree
    i1, d1 = approx.query(q[0], 10)
    assert i1.shape == (10,) and np.array_equal(i1, ai[0])
    own = int(groups[ai[0, 0]])
    ix, _ = approx.query(q[0], 10, exclude_group=own)
    assert len(ix) == 10 and not np.any(groups[ix] == own)


def test_the_index_is_chosen_by_size():
    from explorer.latent.neighbours import ApproxIndex, neighbour_index

    lat, groups = clustered(3_000)
    assert isinstance(neighbour_index(lat, groups), NeighbourIndex)
    assert isinstance(neighbour_index(lat, groups, exact_max=1_000), ApproxIndex)
