"""Keep what you like, regenerate the rest: new melodies whose locked bars (and, with a rhythm lock, every onset
and duration) are the original's exactly, by construction, and whose other bars are new.

Exact by construction: the decoder writes the kept tokens itself at the kept steps and feeds them back as its next
input (MelodyVAE.generate_locked), so they cannot come out otherwise. What the choice of z decides is whether the
new bars fit the kept ones. The hierarchical decoder hands a bar the melody only through its conductor vector (one
per bar, from z) and the previous token, so a z under which the kept bars are likely gives the free bars a context
that leads into and out of them. Several such z: starts around the melody's z at a few radii, a few gradient steps
each on the decoder's likelihood of the kept tokens (teacher forced, z only: the weights are never touched), a
locked decode of every start, then the n best by the whole candidate's likelihood under its z (which scores the
joins: the kept bars after new material) that differ from the original and from each other in the free bars.

A locked bar that starts with HOLD continues whatever sounds at the end of the bar before it; when that bar is
regenerated, its last step is made to leave the same note or rest sounding (generate_locked's `sound`), so the
locked bar sounds as before and not only reads as before. With a rhythm lock every HOLD and NOTE_OFF is kept and a
note-on may only become another note-on; a note that runs on into a locked bar keeps its pitch. With a pitch lock
each run of unlocked bars plays its own pitches again, in the same order, on a new rhythm: a free step may start only
the run's next pitch, and may hold or rest only while the steps left can still take the pitches left (PitchOrder).

Sliders on the unlocked bars only (hold_bars, context_detail): a moved z decoded with the locked bars forced, and a
per-bar detail under which the moved z plays that result by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF, VOCAB_SIZE
from vae.fidelity import Adam

STARTS = 24  # starting z per request: enough that n = 4 distinct ones survive (bench/infill.md)
RADII = (0.5, 1.0, 1.5)  # start distances from z, in units of the latents' own spread (noise below)
OPT_STEPS = 4  # Adam steps on the kept tokens' likelihood per start
OPT_LR = 0.1
PRIOR_WEIGHT = 1e-3  # pull toward the prior, so a z stays where sliders and the map make sense
FALLBACK_TEMPERATURE = 0.8  # sampled decodings added when greedy ones from the starts are too few to choose from
MAX_SIMILARITY = 0.8  # exact-note F1 in the free bars above which two candidates (or one and the original) are
# the same idea; the first choice is always the most likely one that differs at all


class LockError(ValueError):
    """Locks that leave nothing to regenerate or name a bar the melody does not have; str(e) is one sentence."""


def bar_mask(locked_bars: Iterable[int] | np.ndarray | None, bars: int) -> np.ndarray:
    """Locked bars as a bool mask [bars]: from a set of bar indices (0-based) or a bool mask [bars]."""
    if locked_bars is None:
        return np.zeros(bars, bool)
    if isinstance(locked_bars, np.ndarray) and locked_bars.dtype == bool:
        if locked_bars.shape != (bars,):
            raise LockError(f"The melody has {bars} bars, but {len(locked_bars)} bar locks were given.")
        return locked_bars.copy()
    mask = np.zeros(bars, bool)
    for b in locked_bars:
        b = int(b)
        if not 0 <= b < bars:
            raise LockError(f"Bar {b + 1} cannot be locked: the melody has bars 1 to {bars}.")
        mask[b] = True
    return mask


def sounding(tokens: np.ndarray) -> np.ndarray:
    """What sounds after each step of a melody [T] -> [T]: -1 for silence, else the sounding note-on token."""
    out = np.empty(len(tokens), np.int64)
    state = -1
    for i, t in enumerate(np.asarray(tokens).tolist()):
        if t >= FIRST_NOTE_ON:
            state = t
        elif t == NOTE_OFF:
            state = -1
        out[i] = state
    return out


@dataclass
class LockPlan:
    """What a regeneration keeps of one melody [T]: `locked` steps [T] (bool) are forced to `tokens` [T];
    `allowed` [T, V] (or None) limits the free steps' tokens; `sound` [T] (or None) is what must sound after a
    step (-2 free, -1 silence, a note-on token); `bars` [U] the locked bars; `order` a pitch lock's PitchPlan (or
    None). `free` [T]: the steps decoded anew."""

    tokens: np.ndarray
    bars: np.ndarray
    locked: np.ndarray
    allowed: np.ndarray | None
    sound: np.ndarray | None
    order: PitchPlan | None = None

    def rule(self, rows: int, device) -> PitchOrder | None:
        """generate_locked's rule for a call over `rows` melodies: the pitch lock's PitchOrder, or None."""
        return None if self.order is None else PitchOrder(self.order, self.free, rows, device)

    @property
    def free(self) -> np.ndarray:
        return ~self.locked

    @property
    def free_bars(self) -> np.ndarray:
        return ~self.bars


def plan_locks(tokens: np.ndarray, locked_bars, bar_steps: int, rhythm_lock: bool = False,
               pitch_lock: bool = False) -> LockPlan:
    """The steps to keep of melody tokens [T] for locked bars (indices or a bool mask [U]) and an optional rhythm
    or pitch lock. Raises LockError when nothing would be regenerated."""
    x = np.asarray(tokens, np.int64)
    t_len = len(x)
    bars = t_len // bar_steps
    mask = bar_mask(locked_bars, bars)
    if mask.all():
        raise LockError("Every bar is locked: unlock at least one bar to regenerate.")
    if rhythm_lock and pitch_lock:
        raise LockError("Keeping both the rhythm and the pitches leaves nothing to regenerate: untick one of them.")
    locked = np.repeat(mask, bar_steps)
    state = sounding(x)
    allowed = sound = None
    if rhythm_lock:
        is_on = x >= FIRST_NOTE_ON
        locked |= ~is_on  # every HOLD and NOTE_OFF stays: onsets and durations are the original's
        allowed = np.zeros((t_len, VOCAB_SIZE), bool)
        allowed[:, FIRST_NOTE_ON:] = True  # a free step is a note-on step: any pitch
        for b in np.flatnonzero(mask):
            s = b * bar_steps
            if s > 0 and x[s] == HOLD and state[s - 1] >= FIRST_NOTE_ON:
                # the note running on into this locked bar keeps its pitch: lock its onset
                onset = int(np.flatnonzero(is_on[:s])[-1])
                locked[onset] = True
        if locked.all():
            raise LockError("Nothing is left to regenerate: the unlocked bars hold no note to give a new pitch.")
    else:
        sound = np.full(t_len, -2, np.int64)
        for b in np.flatnonzero(mask):
            s = b * bar_steps
            if s > 0 and not mask[b - 1] and x[s] == HOLD:
                sound[s - 1] = state[s - 1]  # the bar before hands this bar the note or rest it continues
    order = pitch_order(x, locked, sound) if pitch_lock else None
    return LockPlan(x, mask, locked, allowed, sound, order)


@dataclass
class PitchPlan:
    """A pitch lock of one melody [T]: `pitches` [N] the note-ons of its runs of unlocked bars, run after run;
    for each step t [T]: `end` how many of them are placed once t's run is over, `room` how many later steps of
    t's run may still start a note, `sustain` whether t's run must end with a note sounding (a locked bar after it
    starts by holding one)."""

    pitches: np.ndarray
    end: np.ndarray
    room: np.ndarray
    sustain: np.ndarray


def pitch_order(x: np.ndarray, locked: np.ndarray, sound: np.ndarray) -> PitchPlan:
    """The PitchPlan of melody tokens x [T] whose `locked` steps [T] are kept and whose free steps must leave
    `sound` [T] sounding (plan_locks). Raises LockError when the free steps hold no note to move."""
    t_len = len(x)
    pitches: list[int] = []
    end = np.zeros(t_len, np.int64)
    room = np.zeros(t_len, np.int64)
    sustain = np.zeros(t_len, bool)
    t = 0
    while t < t_len:
        if locked[t]:
            t += 1
            continue
        e = t
        while e < t_len and not locked[e]:
            e += 1
        run = x[t:e]
        pitches += run[run >= FIRST_NOTE_ON].tolist()
        end[t:e] = len(pitches)
        # a run that must end in silence cannot start a note on its last step
        last_silent = int(sound[e - 1] == -1)
        for u in range(t, e):
            room[u] = (e - 1 - u) - (last_silent if u < e - 1 else 0)
        sustain[t:e] = sound[e - 1] >= FIRST_NOTE_ON
        t = e
    if not pitches:
        raise LockError("Nothing is left to regenerate: the unlocked bars hold no note to give a new rhythm.")
    return PitchPlan(np.asarray(pitches, np.int64), end, room, sustain)


class PitchOrder:
    """A pitch lock as a rule of MelodyVAE.generate_locked for one call over a batch of `rows`: each free step
    starts the next pitch of its run or holds or rests, and holds or rests only while the run's steps left can
    still take its pitches left; once they are all placed, a run that must end sounding cannot rest."""

    def __init__(self, plan: PitchPlan, free: np.ndarray, rows: int, device) -> None:
        tt = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        self.pitches, self.end, self.room, self.sustain = (tt(plan.pitches), tt(plan.end), tt(plan.room),
                                                          tt(plan.sustain))
        self.free = np.asarray(free, bool)
        self.placed = torch.zeros(rows, dtype=torch.long, device=device)  # pitches started so far, per row
        self.rows = torch.arange(rows, device=device)

    def mask(self, t: int) -> torch.Tensor | None:
        if not self.free[t]:
            return None
        left = self.end[t] - self.placed  # [B] pitches of this run still to start
        ok = torch.zeros(len(self.placed), VOCAB_SIZE, dtype=torch.bool, device=self.placed.device)
        more = left > 0
        nxt = self.pitches[self.placed.clamp(max=len(self.pitches) - 1)]
        ok[self.rows[more], nxt[more]] = True
        wait = left <= self.room[t]
        ok[:, HOLD] = wait
        ok[:, NOTE_OFF] = wait & ~(self.sustain[t] & ~more)
        return ok

    def after(self, t: int, tokens: torch.Tensor) -> None:
        if self.free[t]:
            self.placed = self.placed + (tokens >= FIRST_NOTE_ON).long()


@dataclass
class Regeneration:
    """n alternatives of one melody: z [n, Z], tokens [n, T], score [n] (mean NLL per step of the whole candidate
    under its own z, lower is likelier), similarity [n] (exact-note F1 of its free bars with the original's)."""

    z: np.ndarray
    tokens: np.ndarray
    score: np.ndarray
    similarity: np.ndarray
    plan: LockPlan


def kept_nll(net, z: torch.Tensor, tokens: torch.Tensor, kept: np.ndarray) -> torch.Tensor:
    """Teacher-forced NLL [K] of melody tokens [T] at the kept steps [T] (bool) under each z [K, Z].

    A hierarchical decoder decodes each bar from its own conductor vector, so only the bars with a kept step are
    run (half the work with two bars locked)."""
    k = z.shape[0]
    units, steps = net._units()
    inputs = net.shift_inputs(tokens[None])[0]
    use = np.flatnonzero(kept.reshape(units, steps).any(1))
    ctx = net._contexts(z)[:, use].reshape(k * len(use), -1)  # [K * u, C]
    emb = net.embed(inputs.view(units, steps)[use])  # [u, S, E]
    emb = emb[None].expand(k, -1, -1, -1).reshape(k * len(use), steps, -1)
    x = torch.cat([emb, ctx[:, None, :].expand(-1, steps, -1)], dim=-1)
    out, _ = net.decoder(x, net._init_hidden(ctx))
    logits = net.out(out).view(k, len(use) * steps, -1)
    target = tokens.view(units, steps)[use].reshape(-1)
    ce = F.cross_entropy(logits.transpose(1, 2).float(), target[None].expand(k, -1), reduction="none")
    weight = torch.as_tensor(kept.reshape(units, steps)[use].reshape(-1), dtype=ce.dtype, device=ce.device)
    return (ce * weight).sum(1)


def free_notes(tokens: np.ndarray, free_bars: np.ndarray, bar_steps: int) -> set[tuple[int, int]]:
    """Exact notes {(onset step, pitch token)} of a melody [T] with onsets in the free bars."""
    steps = np.flatnonzero((np.asarray(tokens) >= FIRST_NOTE_ON) & np.repeat(free_bars, bar_steps))
    return set(zip(steps.tolist(), np.asarray(tokens)[steps].tolist(), strict=True))


def set_f1(a: set, b: set) -> float:
    """Exact-note F1 of two note sets (1 when both are empty)."""
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def regenerate(model, z: np.ndarray, tokens: np.ndarray, locked_bars, n: int = 4, rhythm_lock: bool = False,
               seed: int = 0, temperature: float = 0.0, noise: np.ndarray | float = 1.0, starts: int = STARTS,
               radii: tuple[float, ...] = RADII, opt_steps: int = OPT_STEPS,
               max_similarity: float = MAX_SIMILARITY, pitch_lock: bool = False) -> Regeneration:
    """n new melodies that keep melody tokens [T]'s locked bars (indices or a bool mask [U]) token for token, with
    rhythm_lock its every onset and duration, with pitch_lock its pitch sequence (new onsets and durations), under
    z's near the melody's z [Z].

    model: a vae.inference.TrainedModel. noise: the spread of the starts around z: a scale, or the Cholesky factor
    [Z, Z] of the latents' Gaussian (explorer.generation.gaussian_fit), so a radius of 1 is one corpus spread.
    temperature 0 decodes the free steps greedily (the variety comes from z); above it they are sampled. The same
    seed gives the same alternatives. Raises LockError when nothing would be regenerated.
    """
    net = model.model
    dev = model.device
    steps = net.cfg.bar_steps if net.cfg.hierarchical else net.cfg.seq_len
    plan = plan_locks(tokens, locked_bars, steps, rhythm_lock, pitch_lock)
    z0 = np.asarray(z, np.float32).reshape(-1)
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((starts, len(z0)))
    spread = eps @ np.asarray(noise, np.float64).T if np.ndim(noise) == 2 else eps * float(noise)
    r = np.resize(np.asarray(radii, np.float64), starts)[:, None]
    zs = torch.tensor((z0 + r * spread).astype(np.float32), device=dev)
    x = torch.as_tensor(plan.tokens, device=dev)
    if opt_steps > 0 and plan.locked.any():  # a pitch lock alone keeps no step: nothing to make likely
        zs.requires_grad_(True)
        opt = Adam(zs, lr=OPT_LR)
        for _ in range(opt_steps):
            loss = (kept_nll(net, zs, x, plan.locked) + PRIOR_WEIGHT * 0.5 * (zs * zs).sum(1)).sum()
            (zs.grad,) = torch.autograd.grad(loss, [zs])  # z only: the shared weights and their .grad stay as they are
            opt.step()
        zs = zs.detach()
    gen = None
    if temperature > 0:
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(seed))
    t = lambda a: None if a is None else torch.as_tensor(a, device=dev)  # noqa: E731
    args = (t(plan.locked), t(plan.tokens), t(plan.allowed), t(plan.sound))
    out, nll = net.generate_locked(zs, *args, temperature=temperature, generator=gen, score=True,
                                   rule=plan.rule(len(zs), dev))
    cand, score, z_out = out.cpu().numpy(), (nll / out.shape[1]).cpu().numpy(), zs.cpu().numpy()
    if temperature <= 0 and _distinct(cand, plan, steps) < n:
        # z alone does not vary the free bars enough (a decoder that leans on its own past more than on z): add
        # sampled decodings of the same starts; the likeliest still come first
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(seed))
        more, more_nll = net.generate_locked(zs, *args, temperature=FALLBACK_TEMPERATURE, generator=gen, score=True,
                                             rule=plan.rule(len(zs), dev))
        cand = np.concatenate([cand, more.cpu().numpy()])
        score = np.concatenate([score, (more_nll / more.shape[1]).cpu().numpy()])
        z_out = np.concatenate([z_out, z_out])
    return _choose(z_out, cand, score, plan, steps, n, max_similarity)


def _distinct(cand: np.ndarray, plan: LockPlan, bar_steps: int) -> int:
    """How many different free-bar contents the candidates [K, T] hold, the original's not counted."""
    free = np.repeat(plan.free_bars, bar_steps) | plan.free
    seen = {tuple(c[free].tolist()) for c in cand}
    seen.discard(tuple(plan.tokens[free].tolist()))
    return len(seen)


def _choose(zs: np.ndarray, cand: np.ndarray, score: np.ndarray, plan: LockPlan, bar_steps: int, n: int,
            max_similarity: float) -> Regeneration:
    """The n likeliest candidates that differ from the original and from each other in the free bars: first those
    within max_similarity of neither, then (if too few) any that differ at all, then the likeliest of the rest."""
    free_bars = plan.free_bars
    orig = free_notes(plan.tokens, free_bars, bar_steps)
    notes = [free_notes(c, free_bars, bar_steps) for c in cand]
    sim_orig = np.array([set_f1(orig, s) for s in notes])
    order = np.argsort(score, kind="stable")
    chosen: list[int] = []
    for limit in (max_similarity, 1.0 - 1e-9, np.inf):
        for i in order:
            if len(chosen) == n:
                break
            if i in chosen or sim_orig[i] > limit:
                continue
            if all(set_f1(notes[i], notes[j]) <= limit for j in chosen):
                chosen.append(int(i))
    idx = np.asarray(chosen[:n], np.int64)
    return Regeneration(zs[idx], cand[idx], score[idx], sim_orig[idx], plan)


def hold_bars(model, z: np.ndarray, tokens: np.ndarray, locked_bars, detail: np.ndarray | None = None,
              temperature: float = 0.0, seed: int | None = None) -> np.ndarray:
    """A z [Z] (with its per-bar detail [U, C] or None) decoded with melody tokens [T]'s locked bars (indices or a
    bool mask [U]) forced token for token -> tokens [T]: a move of the unlocked bars only. As in a regeneration, a
    bar before a locked bar that starts with HOLD hands it the note or rest it continues. model: a
    vae.inference.TrainedModel; temperature 0 is greedy, above it the seed repeats a draw (as model.decode).
    Raises LockError when every bar is locked or a lock names a bar the melody does not have."""
    net = model.model
    steps = net.cfg.bar_steps if net.cfg.hierarchical else net.cfg.seq_len
    plan = plan_locks(tokens, locked_bars, steps)
    dev = model.device
    gen = None
    if temperature > 0:
        gen = torch.Generator(device=dev)
        gen.manual_seed(0 if seed is None else int(seed))
    t = lambda a: None if a is None else torch.as_tensor(np.asarray(a), device=dev)  # noqa: E731
    z_t = torch.as_tensor(np.asarray(z, np.float32).reshape(1, -1), device=dev)
    d_t = None if detail is None else t(np.asarray(detail, np.float32))
    out = net.generate_locked(z_t, t(plan.locked), t(plan.tokens), None, t(plan.sound), temperature=temperature,
                              generator=gen, detail=d_t)
    return out[0].cpu().numpy()


@torch.no_grad()
def context_detail(model, z_from: np.ndarray, detail_from: np.ndarray | None, z_to: np.ndarray,
                   detail_to: np.ndarray | None, locked_bars) -> np.ndarray:
    """A per-bar detail [U, C] for z_to [Z] that gives its locked bars (indices or a bool mask [U]) the bar
    contexts z_from [Z] had with detail_from, and its other bars detail_to's (None: zero). A hierarchical decoder
    plays a bar from its context and the token before it, so under this detail z_to plays the locked bars as
    before wherever the bar before them ends as before: most of a locked decoding comes back from z_to alone.
    Not rounded (vae.fidelity.round_detail rounds it as a share link carries it)."""
    net = model.model
    units, _ = net._units()
    mask = bar_mask(locked_bars, units)
    dev = model.device
    z2 = torch.as_tensor(np.stack([np.asarray(z_from, np.float32), np.asarray(z_to, np.float32)]), device=dev)
    ctx = net._contexts(z2).cpu().numpy()  # [2, U, C]
    shape = ctx.shape[1:]
    before = ctx[0] + (0.0 if detail_from is None else np.asarray(detail_from, np.float32))
    out = np.zeros(shape, np.float32) if detail_to is None else np.array(detail_to, np.float32)
    out[mask] = before[mask] - ctx[1][mask]
    return out
