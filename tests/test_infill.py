"""Bar locks and the rhythm lock: locked material exact by construction (MelodyVAE.generate_locked, vae.infill,
explorer.session.regenerate) on the tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF, pitch_to_token
from vae.infill import LockError, bar_mask, plan_locks, regenerate, sounding

LOCKS = [{0}, {3}, {1, 3}, {0, 1, 2}, {0, 2}]


@pytest.fixture(scope="module")
def melodies(small_corpus):
    """Eight busy training windows (tokens [8, T])."""
    tok = small_corpus.tokens
    busy = np.flatnonzero((tok >= FIRST_NOTE_ON).sum(1) >= 12)
    return tok[busy[:: max(1, len(busy) // 8)][:8]].astype(np.int64)


def _z(model, x):
    return model.encode(x)[0]


def _steps(model, bars):
    s = model.model.cfg.bar_steps
    return np.repeat(bar_mask(bars, model.seq_len // s), s)


@pytest.mark.parametrize("temperature", [0.0, 0.9])
def test_nothing_locked_is_generate(tiny_model, melodies, temperature):
    net = tiny_model.model
    z = torch.as_tensor(_z(tiny_model, melodies))
    t = net.cfg.seq_len
    g1 = torch.Generator().manual_seed(5)
    g2 = torch.Generator().manual_seed(5)
    a = net.generate(z, temperature, g1 if temperature else None)
    b = net.generate_locked(z, torch.zeros(t, dtype=torch.bool), torch.zeros(t, dtype=torch.long),
                            temperature=temperature, generator=g2 if temperature else None)
    assert torch.equal(a, b)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_generate_locked_forces_tokens_the_model_would_not_choose(tiny_model, melodies, temperature):
    net = tiny_model.model
    z = torch.as_tensor(_z(tiny_model, melodies))
    t = net.cfg.seq_len
    forced = torch.full((t,), pitch_to_token(100), dtype=torch.long)  # a high C on every step: never in the corpus
    locked = torch.zeros(t, dtype=torch.bool)
    locked[::3] = True
    gen = torch.Generator().manual_seed(1)
    out = net.generate_locked(z, locked, forced, temperature=temperature, generator=gen)
    assert (out[:, locked] == pitch_to_token(100)).all()
    assert (out[:, ~locked] != pitch_to_token(100)).any()  # the free steps are the model's own


def test_generate_locked_allowed_and_per_row_locks(tiny_model, melodies):
    net = tiny_model.model
    z = torch.as_tensor(_z(tiny_model, melodies))
    b, t, v = len(melodies), net.cfg.seq_len, net.cfg.vocab_size
    allowed = torch.zeros(t, v, dtype=torch.bool)
    allowed[:, NOTE_OFF] = True  # only NOTE_OFF anywhere free
    locked = torch.zeros(b, t, dtype=torch.bool)
    locked[torch.arange(b), torch.arange(b)] = True  # row i locks step i
    tokens = torch.as_tensor(melodies)
    out = net.generate_locked(z, locked, tokens, allowed=allowed, temperature=0.7, generator=torch.Generator())
    for i in range(b):
        assert out[i, i] == tokens[i, i]
        assert (out[i, torch.arange(t) != i] == NOTE_OFF).all()


@pytest.mark.parametrize("temperature", [0.0, 0.8])
@pytest.mark.parametrize("locks", LOCKS, ids=str)
def test_locked_bars_identical_for_every_candidate(tiny_model, melodies, locks, temperature):
    kept = _steps(tiny_model, locks)
    for i, x in enumerate(melodies[:4]):
        out = regenerate(tiny_model, _z(tiny_model, x[None])[0], x, locks, n=4, seed=i, temperature=temperature,
                         starts=12)
        assert out.tokens.shape == (4, len(x)) and out.z.shape == (4, tiny_model.latent_dim)
        assert (out.tokens[:, kept] == x[kept]).all()
        # what sounds in a locked bar is the original's too, a note or rest carried in included
        snd = sounding(x)
        assert all((sounding(c)[kept] == snd[kept]).all() for c in out.tokens)
        assert np.isfinite(out.score).all()


def _tied_melody(steps: int, bars: int, rest: bool) -> np.ndarray:
    """A melody whose bar 1 starts with HOLD: continuing a note from bar 0 (or a rest when `rest`)."""
    x = np.full(steps * bars, HOLD, np.int64)
    x[0] = pitch_to_token(67)
    x[4] = pitch_to_token(69)
    x[12] = NOTE_OFF if rest else pitch_to_token(71)  # bar 0's last event runs on into bar 1
    for s in range(steps + 4, steps * bars, 4):
        x[s] = pitch_to_token(60 + (s // 4) % 7)
    return x


@pytest.mark.parametrize("rest", [False, True])
def test_bar_started_with_hold_sounds_as_before(tiny_model, rest):
    s = tiny_model.model.cfg.bar_steps
    x = _tied_melody(s, tiny_model.seq_len // s, rest)
    plan = plan_locks(x, {1, 2, 3}, s)
    assert plan.sound[s - 1] == sounding(x)[s - 1]  # bar 0's last step hands bar 1 its note (or rest)
    for temperature in (0.0, 1.0):
        out = regenerate(tiny_model, np.zeros(tiny_model.latent_dim, np.float32), x, {1, 2, 3}, n=4,
                         temperature=temperature, starts=8)
        for c in out.tokens:
            assert sounding(c)[s - 1] == sounding(x)[s - 1]
            assert (c[s:] == x[s:]).all()


@pytest.mark.parametrize("locks", [set(), {1}, {0, 3}], ids=str)
def test_rhythm_lock_keeps_onsets_and_durations(tiny_model, tiny_services, melodies, locks):
    kept = _steps(tiny_model, locks)
    for i, x in enumerate(melodies[:4]):
        out = regenerate(tiny_model, _z(tiny_model, x[None])[0], x, locks, n=4, rhythm_lock=True, seed=i,
                         temperature=0.5 * (i % 2), starts=12)
        rhythm = [(n.start, n.end) for n in tiny_services.notes(x)]
        for c in out.tokens:
            assert [(n.start, n.end) for n in tiny_services.notes(c)] == rhythm
            assert (c[kept] == x[kept]).all()
        # new pitches somewhere
        assert (out.tokens != x).any()


def test_candidates_differ_from_each_other_and_the_original(tiny_model, melodies):
    for i, x in enumerate(melodies[:4]):
        out = regenerate(tiny_model, _z(tiny_model, x[None])[0], x, {0, 1}, n=4, seed=i)
        assert len({tuple(c.tolist()) for c in out.tokens}) == 4
        assert (out.similarity < 1.0).all()
        assert (np.diff(out.score) >= 0).all()  # likeliest first


def test_deterministic_per_seed(tiny_model, melodies):
    x = melodies[0]
    z = _z(tiny_model, x[None])[0]
    for temperature in (0.0, 0.7):
        a = regenerate(tiny_model, z, x, {2}, seed=3, temperature=temperature)
        b = regenerate(tiny_model, z, x, {2}, seed=3, temperature=temperature)
        c = regenerate(tiny_model, z, x, {2}, seed=4, temperature=temperature)
        assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.z, b.z)
        assert not np.array_equal(a.tokens, c.tokens)


def test_bad_locks(tiny_model, melodies):
    x = melodies[0]
    z = np.zeros(tiny_model.latent_dim, np.float32)
    bars = tiny_model.seq_len // tiny_model.model.cfg.bar_steps
    with pytest.raises(LockError, match="Every bar is locked"):
        regenerate(tiny_model, z, x, set(range(bars)))
    with pytest.raises(LockError, match=f"Bar {bars + 1} cannot be locked"):
        regenerate(tiny_model, z, x, {bars})
    with pytest.raises(LockError):
        regenerate(tiny_model, z, x, np.ones(bars + 1, bool))
    assert bar_mask(np.array([True, False, False, True]), 4).tolist() == [True, False, False, True]


def test_services_regenerate(tiny_services, melodies):
    from explorer.errors import UserError
    from explorer.session.regenerate import regenerate as regen

    x = melodies[1]
    z = tiny_services.encode(x)
    out = regen(tiny_services, z, x, {0, 3}, n=3, seed=2)
    assert len(out.alternatives) == 3 and out.locked_bars.tolist() == [True, False, False, True]
    for alt in out.alternatives:
        assert alt.notes == tiny_services.notes(alt.tokens)
        assert alt.z.shape == (tiny_services.latent_dim,) and 0.0 <= alt.similarity <= 1.0
    assert out.seconds > 0
    with pytest.raises(UserError, match="Every bar is locked"):
        regen(tiny_services, z, x, [0, 1, 2, 3])
    with pytest.raises(UserError, match="bars"):
        regen(tiny_services, z, x[:16], {0})
    with pytest.raises(UserError):
        regen(tiny_services, z, x, {0}, n=0)


def test_trained_model_entry_points(tiny_model, melodies):
    x = melodies[2]
    z = _z(tiny_model, x[None])[0]
    kept = _steps(tiny_model, {1})
    out = tiny_model.decode_locked(z, kept, x)
    assert out.shape == (1, len(x)) and (out[0, kept] == x[kept]).all()
    assert np.array_equal(tiny_model.decode_locked(z, np.zeros(len(x), bool), x), tiny_model.decode(z))
    a = tiny_model.regenerate(z, x, {1}, n=2, seed=1)
    b = regenerate(tiny_model, z, x, {1}, n=2, seed=1)
    assert np.array_equal(a.tokens, b.tokens)
