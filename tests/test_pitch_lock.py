"""The pitch lock: a new rhythm on the same pitch sequence (vae.infill.PitchOrder through MelodyVAE.generate_locked),
combinable with bar locks; exact by construction, at any temperature, on the tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF, pitch_to_token
from vae.infill import LockError, plan_locks, regenerate, sounding

LOCKS = [set(), {0}, {3}, {1, 2}, {0, 2}, {0, 1, 3}]


@pytest.fixture(scope="module")
def melodies(small_corpus):
    """Eight busy training windows (tokens [8, T])."""
    tok = small_corpus.tokens
    busy = np.flatnonzero((tok >= FIRST_NOTE_ON).sum(1) >= 12)
    return tok[busy[:: max(1, len(busy) // 8)][:8]].astype(np.int64)


def _pitches(x: np.ndarray) -> list[int]:
    return x[x >= FIRST_NOTE_ON].tolist()


def _onsets(x: np.ndarray, free: np.ndarray) -> set[int]:
    return set(np.flatnonzero((x >= FIRST_NOTE_ON) & free).tolist())


def _kept(model, locks) -> np.ndarray:
    s = model.model.cfg.bar_steps
    return np.repeat(np.isin(np.arange(model.seq_len // s), list(locks)), s)


def _check(model, x: np.ndarray, c: np.ndarray, locks) -> None:
    """c keeps x's locked bars token for token (and what sounds in them) and x's pitch sequence."""
    kept = _kept(model, locks)
    assert (c[kept] == x[kept]).all()
    assert (sounding(c)[kept] == sounding(x)[kept]).all()
    assert _pitches(c) == _pitches(x)


@pytest.mark.parametrize("temperature", [0.0, 0.8])
@pytest.mark.parametrize("locks", LOCKS, ids=str)
def test_pitch_lock_keeps_the_pitch_sequence_and_the_locked_bars(lively_model, melodies, locks, temperature):
    free = ~_kept(lively_model, locks)
    new_rhythm = 0
    for i, x in enumerate(melodies[:4]):
        z = lively_model.encode(x[None])[0][0]
        out = regenerate(lively_model, z, x, locks, n=4, pitch_lock=True, seed=i, temperature=temperature, starts=12)
        assert out.tokens.shape == (4, len(x)) and np.isfinite(out.score).all()
        for c in out.tokens:
            _check(lively_model, x, c, locks)
            new_rhythm += _onsets(c, free) != _onsets(x, free)
    assert new_rhythm >= 12  # of 16: the rhythm is new


@pytest.mark.parametrize("seed", range(6))
def test_any_draw_keeps_the_pitches(tiny_model, melodies, seed):
    """Far from the melody's z and at a high temperature the rule still leaves a way to place every pitch: the
    steps left always hold the pitches left."""
    rng = np.random.default_rng(seed)
    net = tiny_model.model
    x = melodies[seed % len(melodies)]
    locks = set(rng.choice(4, size=rng.integers(0, 3), replace=False).tolist())
    plan = plan_locks(x, locks, net.cfg.bar_steps, pitch_lock=True)
    z = torch.as_tensor(rng.standard_normal((16, tiny_model.latent_dim)) * 3, dtype=torch.float32)
    t = torch.as_tensor
    out = net.generate_locked(z, t(plan.locked), t(plan.tokens), None, t(plan.sound), temperature=2.0,
                              generator=torch.Generator().manual_seed(seed), rule=plan.rule(16, "cpu"))
    for c in out.numpy():
        _check(tiny_model, x, c, locks)


def _tied(steps: int, bars: int, carry: str) -> np.ndarray:
    """Bar 1 starts with HOLD: carrying bar 0's last note ("note"), or a rest ("rest"); with "through" bar 1 holds
    that note on into bar 2 (which starts with HOLD too)."""
    x = np.full(steps * bars, HOLD, np.int64)
    x[0], x[4] = pitch_to_token(67), pitch_to_token(69)
    x[12] = NOTE_OFF if carry == "rest" else pitch_to_token(71)
    first = 2 * steps if carry == "through" else steps
    for s in range(first + 4, steps * bars, 4):
        x[s] = pitch_to_token(60 + (s // 4) % 7)
    return x


@pytest.mark.parametrize("carry, locks", [("note", {1, 2, 3}), ("rest", {1, 2, 3}), ("through", {0, 2}),
                                          ("note", {1})])
def test_a_locked_bar_that_starts_by_holding_sounds_as_before(tiny_model, carry, locks):
    """The run before a locked bar that starts with HOLD ends sounding what it did: its last pitch held on (no rest
    once it has played it), or silence (no note started on its last step)."""
    s = tiny_model.model.cfg.bar_steps
    x = _tied(s, tiny_model.seq_len // s, carry)
    for temperature in (0.0, 1.5):
        for seed in range(3):
            z = np.random.default_rng(seed).standard_normal(tiny_model.latent_dim).astype(np.float32)
            out = regenerate(tiny_model, z, x, locks, n=4, pitch_lock=True, temperature=temperature, seed=seed,
                             starts=8)
            for c in out.tokens:
                _check(tiny_model, x, c, locks)


def test_the_rule_holds_a_run_to_its_pitches():
    """PitchPlan by hand: two runs around a locked bar; the room left and the pitches each run places."""
    x = np.full(16, HOLD, np.int64)
    x[[0, 2, 9, 12]] = [10, 11, 12, 13]
    x[4] = NOTE_OFF
    plan = plan_locks(x, {1}, 4, pitch_lock=True)  # bars of 4 steps: runs 0-3 and 8-15
    o = plan.order
    assert o.pitches.tolist() == [10, 11, 12, 13]
    assert o.end[:4].tolist() == [2] * 4 and o.end[8:].tolist() == [4] * 8
    # bar 1 starts with NOTE_OFF (no HOLD): no sound is asked of run 1's end, so its last step has room 0
    assert o.room[:4].tolist() == [3, 2, 1, 0] and not o.sustain.any()


def test_both_locks_or_no_note_to_move_get_a_sentence(tiny_model, melodies):
    x = melodies[0]
    z = np.zeros(tiny_model.latent_dim, np.float32)
    with pytest.raises(LockError, match="Keeping both the rhythm and the pitches leaves nothing to regenerate"):
        regenerate(tiny_model, z, x, {0}, rhythm_lock=True, pitch_lock=True)
    with pytest.raises(LockError, match="Every bar is locked"):
        regenerate(tiny_model, z, x, {0, 1, 2, 3}, pitch_lock=True)
    with pytest.raises(LockError, match="Bar 5 cannot be locked"):
        regenerate(tiny_model, z, x, {4}, pitch_lock=True)
    quiet = x.copy()
    quiet[16:] = HOLD
    quiet[16] = NOTE_OFF
    with pytest.raises(LockError, match="no note to give a new rhythm"):
        regenerate(tiny_model, z, quiet, {0}, pitch_lock=True)


def test_the_page_action_offers_new_rhythms_on_the_same_pitches(h, small_corpus):
    from conftest import busy_train_window

    from explorer.errors import UserError
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    play = Playback(temperature=1.0, seed=3)
    st, _ = h.load_window(new_state(), busy_train_window(small_corpus), play)
    heard = h.render(st, play).tokens
    after, info = h.regenerate(st, [0], False, play, seed=2, pitch_lock=True)
    assert info["title"] == "Regenerated (bar 1 and the pitches kept)"
    free = np.arange(len(heard)) >= h.s.format.steps_per_bar
    for _, tokens in after.regenerated:
        assert _pitches(tokens) == _pitches(heard) and np.array_equal(tokens[~free], heard[~free])
    assert any(_onsets(t, free) != _onsets(heard, free) for _, t in after.regenerated)
    with pytest.raises(UserError, match="Keeping both the rhythm and the pitches"):
        h.regenerate(st, [0], True, play, seed=2, pitch_lock=True)
