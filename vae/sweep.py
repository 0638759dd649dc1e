"""Which sliders earn a musical name: sweep each over -2..+2 on held-out melodies and measure what the decoded
melodies do; and the steered move the explorer makes when a slider is released.

A slider is named for an attribute only when its sweep moves that attribute monotonically (mean
within-melody Spearman >= NAME_RULE["spearman"]) and specifically (>= NAME_RULE["specificity"] times
as far as any other attribute, each in its corpus standard deviation).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vae.attributes import ATTRIBUTES, compute_attributes, pitch_class_histogram
from vae.controls import Controls, corpus_std, fit_controls, spearman
from vae.music import estimate_keys
from vae.voice import VoiceLimits, excess

SWEEP_VALUES = (-2.0, -1.0, 0.0, 1.0, 2.0)

NAME_RULE = {"spearman": 0.8, "specificity": 2.0}  # a slider earns an attribute's name at these figures


def _spearman_rows(values: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of y [M, V] with values [V]; 0 for a constant or undefined row."""
    y = np.asarray(y, np.float64)
    return np.array([spearman(values, row) if np.isfinite(row).all() else 0.0 for row in y])


STEER_CANDIDATES = 56  # decoded candidates per steered move, first round: 16 took ~4x one decode on a CPU core, 32
# ~6x; 64 with the tonic term lifted folk uploads' Spearman >= 0.9 from 4 to 7 of 9 sliders over 24; 56 leaves room
# for the second round (STEER_REFINE) in about the time 64 took (bench/steer_trials.md, 2026-12-07)

STEER_DRAWS = 64  # random draws made for at least this many candidates, then cut: fewer candidates are the first
# of the same ones (so settings that decode fewer compare on the same candidates)

STEER_SPREAD = 0.5  # random spread of the candidates' attribute read-outs, in slider units

STEER_SCALES = (0.5, 0.75, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)  # multiples of the linear move tried

LIMIT_WEIGHT = 10.0  # cost of each semitone beyond a voice's limits, in SDs of attribute miss: nearly a hard rule

LIMITED_SCALES = (0.15, 0.3)  # shares of the asked move also tried when a move must keep to limits

STEER_ASKED_WEIGHT = 4.0  # a miss on the attribute the user moved counts this much more than on a held one;
# 4 named 9 of 9 sliders where 2 named 7 (same sliders and melodies, bench/steer_trials.md)

STEER_HELD_MAX_WEIGHT = 0.0  # the largest miss of a held attribute counts this much on top of the sum: the
# side effect a composer hears most (per-melody specificity is own change over the largest other); 1 (with asked
# weight 6) traded Spearman for specificity on folk uploads and lost both on pop (bench/steer_uploads.md): off

STEER_TONIC_WEIGHT = 2.0  # a candidate whose key's tonic differs from the melody's before costs this many SDs
# of miss, on every move except those in STEER_TONIC_FREE (Register +3 turned a B-flat-minor upload into C-sharp
# major); 1 let a G-minor tune's Register move end in D, 3 kept the tonic by not moving the register

STEER_TONIC_FREE = ("minorness",)  # moves that may change the tonic (relative major or minor)

STEER_MISS_POWER = 1.0  # each attribute's miss (in SDs) counts raised to this power: 2 (one large miss costs more
# than several small) met every folk goal but lost specificity on pop uploads (bench/steer_trials.md): off

STEER_STILL_WEIGHT = 2.0  # a candidate whose asked attribute moves less than STEER_STILL_SHARE of the asked change,
# the asked way, costs this much per SD asked: a fitted upload sits where many candidates decode to it unchanged, and
# staying put (a weighted miss of 4 per SD asked) beat every candidate that moved with side effects, which left
# ties at 0 and cost folk Register and Range their Spearman (bench/steer_trials.md, 2026-12-07)
STEER_STILL_SHARE = 0.25

STEER_REFINE = 10  # candidates of a second round (0: none), from the best of the first, corrected by their misses:
# a pop upload's Notes move changed its rhythm or register as much as its notes in every first-round candidate
# (bench/steer_trials.md, 2026-12-07: pop Notes' per-melody specificity 1.4x before)
STEER_REFINE_ABOVE = 0.75  # only moves whose best first-round candidate has a side effect above this (SDs) get it:
# most of the gain for part of the time (8 on every move: 1.26x the CPU time of a move before; 10 above 0.75: 1.13x)
STEER_REFINE_STEPS = (0.5, 1.0)  # shares of a candidate's misses taken back in the second round


def steer(decode, controls: Controls, z: np.ndarray, current: np.ndarray, new: np.ndarray,
          attr_std: dict[str, float], candidates: int | None = None, spread: float | None = None,
          seed: int = 0, limits: VoiceLimits | None = None, before: np.ndarray | None = None) -> np.ndarray:
    """Move z [B, Z] from slider values `current` to `new` [B, K] so the decoded melodies follow the attribute
    sliders: each changed attribute by (change × the slider's unit), every other attribute held where it was.

    The linear move (`with_coords`) is one candidate; others scale its attribute part (STEER_SCALES), the rest
    add random nudges along the attribute sliders' directions. All are decoded (greedy), and per melody the one
    whose attributes miss their targets least (sum of misses in SDs, the asked one STEER_ASKED_WEIGHT times)
    wins; a candidate that leaves an asked attribute (nearly) where it was costs STEER_STILL_WEIGHT per SD asked
    on top, so the move is made where a candidate makes it. A second round (STEER_REFINE) decodes the best few
    moved back along the attribute directions by their misses (side effects taken back, a short move
    lengthened). Only the attribute sliders' directions are searched, so the free sliders' values are exactly as
    asked. Deterministic per seed.
    With `limits` (vae.voice), every semitone a candidate goes beyond a voice's range or leap costs
    LIMIT_WEIGHT, so a singable candidate wins when there is one. A candidate whose key has another tonic than
    the melody's before costs STEER_TONIC_WEIGHT (`tonic_changed`; a Mood move may change it), so a Register
    move keeps a minor tune's tonic where a candidate can. `before`: the melodies as heard now [B, T],
    when they are not decode(z) (a move that also changes the detail they are decoded with: the targets are
    then the heard melody's attributes plus the change asked); None decodes them with `decode`.
    """
    candidates = STEER_CANDIDATES if candidates is None else candidates
    spread = STEER_SPREAD if spread is None else spread
    z = np.atleast_2d(np.asarray(z, np.float64))
    cur, new = np.atleast_2d(current).astype(np.float64), np.atleast_2d(new).astype(np.float64)
    b = len(z)
    idx = [i for i, a in enumerate(controls.attributes) if a is not None and a in attr_std]
    base = z + (new - cur) @ controls.basis.astype(np.float64)
    if not idx or candidates <= 1:
        return base.astype(np.float32)
    names = [controls.attributes[i] for i in idx]
    std = np.array([max(attr_std[a], 1e-9) * controls.unit(i) for a, i in zip(names, idx, strict=True)])
    delta = (new - cur)[:, idx]  # [B, A] requested change in SDs
    rng = np.random.default_rng(seed)
    pool = max(candidates, STEER_DRAWS)
    fixed = np.array((1.0, *STEER_SCALES))[:candidates]
    scales = np.concatenate([fixed, rng.uniform(0.5, 3.0, pool - len(fixed))[: candidates - len(fixed)]])
    if limits is not None and candidates - len(fixed) >= len(LIMITED_SCALES):
        # moves that do less, so a melody within the limits is among the candidates even where the whole
        # move cannot stay inside them (Notes +3 gave straight sixteenths at every scale from 0.5 up)
        scales[-len(LIMITED_SCALES):] = LIMITED_SCALES
    nudge = rng.standard_normal((pool, len(idx)))[:candidates] * spread
    nudge[: len(fixed)] = 0.0
    u = (scales[:, None, None] - 1.0) * delta[None] + nudge[:, None, :]  # [C, B, A]
    cand = base[None] + u @ controls.basis[idx].astype(np.float64)  # [C, B, Z]
    # The melodies as they are and every candidate in one batch (a greedy row does not depend on its batch).
    flat = cand.reshape(-1, z.shape[1])
    if before is None:
        tokens = decode(np.concatenate([z, flat]).astype(np.float32))
    else:
        heard = np.asarray(before, np.int64)
        if heard.ndim != 2 or len(heard) != b:
            raise ValueError(f"before: expected the {b} melodies' tokens [{b}, T], got shape {heard.shape}")
        tokens = np.concatenate([heard, decode(flat.astype(np.float32))])
    heard = compute_attributes(tokens[:b])
    target = np.stack([heard[a] for a in names], axis=1) + delta * std
    asked = np.abs(delta) > 1e-6  # [B, A]
    cost, err = _steer_cost(tokens[:b], tokens[b:], u, names, target, delta, std, asked, limits)
    best = cost.argmin(0)
    out = cand[best, np.arange(b)]
    held = np.where(asked[None], 0.0, np.abs(err)).max(-1)[best, np.arange(b)]  # [B] the winner's largest side effect
    sel = np.nonzero(held > STEER_REFINE_ABOVE)[0] if STEER_REFINE else np.zeros(0, int)
    if len(sel):
        # a second round from the best candidates, each moved back along the attribute directions by the misses
        # it had (a slider unit moves its attribute about one SD): side effects taken back, a short move lengthened
        top = np.argsort(cost[:, sel], axis=0, kind="stable")[: max(1, STEER_REFINE // len(STEER_REFINE_STEPS))]
        pick = lambda x: np.take_along_axis(x[:, sel], top[..., None], 0)  # noqa: E731
        u2 = np.concatenate([pick(u) - step * pick(err) for step in STEER_REFINE_STEPS])  # [K, S, A]
        cand2 = base[sel][None] + u2 @ controls.basis[idx].astype(np.float64)
        tokens2 = decode(cand2.reshape(-1, z.shape[1]).astype(np.float32))
        cost2, _ = _steer_cost(tokens[:b][sel], tokens2, u2, names, target[sel], delta[sel], std, asked[sel], limits)
        win = cost2.argmin(0)
        better = cost2[win, np.arange(len(sel))] < cost[best[sel], sel]
        out[sel[better]] = cand2[win[better], np.nonzero(better)[0]]
    return out.astype(np.float32)


def _steer_cost(heard: np.ndarray, tokens: np.ndarray, u: np.ndarray, names: list[str], target: np.ndarray,
                delta: np.ndarray, std: np.ndarray, asked: np.ndarray, limits: VoiceLimits | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """steer's cost of each candidate (tokens [C*B, T], candidate-major; u [C, B, A] its attribute-direction detour)
    for melodies heard [B, T] aiming at `target` [B, A] -> (cost [C, B], signed miss [C, B, A] in SDs, 0 where
    undefined)."""
    c, b = u.shape[:2]
    got = compute_attributes(tokens)
    a = np.stack([got[n] for n in names], axis=1).reshape(c, b, len(names))
    err = (a - target[None]) / std
    miss = np.abs(err)
    # An attribute a melody cannot have (stepwise motion of a single note) counts as a miss of one SD
    # unless it was undefined before too.
    miss = np.where(np.isfinite(miss), miss, np.where(np.isfinite(target)[None], 1.0, 0.0))
    weight = np.where(asked, STEER_ASKED_WEIGHT, 1.0)[None]
    cost = (weight * miss**STEER_MISS_POWER).sum(-1) + 1e-3 * np.square(u).sum(-1)  # ties: the smallest detour
    changed = tonic_changed(heard, tokens, names, asked).reshape(c, b) if STEER_TONIC_WEIGHT else np.zeros((c, b))
    if STEER_STILL_WEIGHT:
        made = np.nan_to_num((a - (target - delta * std)[None]) / std * np.sign(delta)[None])  # [C, B, A] SDs
        # a move made by changing the key's tonic is not the move asked for: it pays as one not made, so the still
        # term never favours a new tonic over a smaller move in the old one
        short = asked[None] & ((made < STEER_STILL_SHARE * np.abs(delta)[None]) | (changed[..., None] > 0))
        cost = cost + STEER_STILL_WEIGHT * (short * np.abs(delta)[None]).sum(-1)
    if STEER_HELD_MAX_WEIGHT:
        cost = cost + STEER_HELD_MAX_WEIGHT * np.where(asked[None], 0.0, miss).max(-1)
    if STEER_TONIC_WEIGHT:
        cost = cost + STEER_TONIC_WEIGHT * changed
    if limits is not None:
        cost = cost + LIMIT_WEIGHT * excess(tokens, limits).reshape(c, b)
    return cost, np.nan_to_num(err)


def tonic_changed(before: np.ndarray, tokens: np.ndarray, names: list[str], asked: np.ndarray) -> np.ndarray:
    """Whether each candidate [C*B, T] (candidate-major) has another key's tonic than its melody before [B, T]:
    [C*B] of 0/1; 0 where the melody before has no key or its move asks for an attribute in STEER_TONIC_FREE
    (asked [B, A] over `names`). A candidate with no key (silent) counts as changed."""
    b = len(before)
    was = estimate_keys(pitch_class_histogram(before))["tonic"]
    free = asked[:, [i for i, n in enumerate(names) if n in STEER_TONIC_FREE]].any(-1) | (was < 0)
    now = estimate_keys(pitch_class_histogram(tokens))["tonic"].reshape(-1, b)
    return ((now != was[None]) & ~free[None]).astype(np.float64).reshape(-1)


def sweep(decode, controls: Controls, z: np.ndarray, attr_std: dict[str, float],
          values: tuple[float, ...] = SWEEP_VALUES, steered: bool = False) -> list[dict]:
    """Sweep every slider over `values` on melodies z [M, Z] and measure what the decoded melodies do.

    decode: z [B, Z] -> tokens [B, T] (greedy). attr_std: each attribute's standard deviation over the corpus,
    the unit in which movements are compared. Returns per slider: attribute (fitted for), spearman
    (mean within-melody Spearman of the target attribute with the slider value), effect (attribute -> mean change
    from the lowest to the highest value, in its std; signed), specificity (own |effect| / largest other
    |effect|), best (attribute that moves most), target (the fitted attribute, else best), name (the
    attribute it earns by NAME_RULE, or None) and sign (-1 when a free slider lowers its target).
    With `steered`, every move goes through `steer` (what the explorer does when a slider is released).
    """
    z = np.asarray(z, np.float32)
    m, vals = len(z), np.asarray(values, np.float64)
    names = [a for a in ATTRIBUTES if a in attr_std]
    coords = controls.coords(z)
    starts, asked = [], []
    for i in range(controls.k):
        for v in vals:
            c = coords.copy()
            c[:, i] = v
            starts.append(z)
            asked.append(c)
    if steered:
        moved = steer(decode, controls, np.concatenate(starts), np.concatenate([coords] * len(asked)),
                      np.concatenate(asked), attr_std)
    else:
        moved = controls.with_coords(np.concatenate(starts), np.concatenate(asked))
    tokens = decode(moved)
    attrs = compute_attributes(tokens)
    out = []
    for i in range(controls.k):
        rows = slice(i * len(vals) * m, (i + 1) * len(vals) * m)
        per = {a: attrs[a][rows].reshape(len(vals), m).T for a in names}  # [M, V]
        effect, rho, gaps = {}, {}, {}
        for a in names:
            y = per[a]
            rho[a] = float(np.mean(_spearman_rows(vals, y)))
            gap = (y[:, -1] - y[:, 0]) / max(attr_std[a], 1e-9)
            gaps[a] = gap
            effect[a] = float(np.nanmean(gap)) if np.isfinite(gap).any() else 0.0
        own = controls.attributes[i]
        best = max(names, key=lambda a: abs(effect[a]))

        target = own if own is not None else best
        # A free slider may earn the name of whatever it moves, rising or falling (sign -1: words reversed).
        sign = -1 if own is None and rho[target] < 0 else 1
        earned = (sign * rho[target] >= NAME_RULE["spearman"]
                  and specificity(effect, target) >= NAME_RULE["specificity"])
        each = per_melody_specificity(gaps, target)
        out.append({"slider": i, "attribute": own, "spearman": rho[target], "effect": effect,
                    "specificity": specificity(effect, target), "best": best, "target": target,
                    "name": target if earned else None, "sign": sign,
                    "specificity_per_melody": {"mean": float(np.mean(each)) if len(each) else 0.0,
                                               "median": float(np.median(each)) if len(each) else 0.0}})
    return out


SPEC_CAP = 10.0  # a melody whose other attributes do not move at all counts as this specific, not infinitely


def per_melody_specificity(gaps: dict[str, np.ndarray], target: str) -> np.ndarray:
    """Per melody, |change of target| over the |largest change of any other attribute| (each [M], corpus SDs),
    capped at SPEC_CAP; melodies where the target is undefined are left out. Side effects that go opposite
    ways on different melodies do not cancel here, as they do in `specificity` of the mean changes."""
    own = np.abs(gaps[target])
    others = np.stack([np.abs(np.nan_to_num(g)) for a, g in gaps.items() if a != target]) if len(gaps) > 1 else \
        np.zeros((1, len(own)))
    ok = np.isfinite(own)
    return np.minimum(own[ok] / np.maximum(others.max(axis=0)[ok], 1e-9), SPEC_CAP)


def specificity(effect: dict[str, float], target: str) -> float:
    """|effect| on target over the largest |effect| on any other attribute."""
    others = max((abs(v) for a, v in effect.items() if a != target), default=0.0)
    return float(abs(effect[target]) / max(others, 1e-9))


def _batched(fn, x: np.ndarray, size: int = 2048) -> np.ndarray:
    return np.concatenate([fn(x[i : i + size]) for i in range(0, len(x), size)]) if len(x) else x


def measure_controls(model, corpus, names: tuple[str, ...], n: int = 100, fit_windows: int = 30000,
                     mode: str = "response", seed: int = 0, steered: bool = True, pairs: int = 15000) -> dict:
    """Fit sliders for a trained model (vae.inference.TrainedModel) on a corpus and sweep them on n held-out
    (validation) windows. Returns {"controls": Controls as JSON, "sweep": per-slider dicts, "summary": ...}."""
    from vae.attributes import corpus_attributes
    from vae.split import TRAIN, VALID

    rng = np.random.default_rng(seed)
    attrs = corpus_attributes(corpus)
    train = np.nonzero(corpus.split == TRAIN)[0]
    train = np.sort(rng.choice(train, size=min(fit_windows, len(train)), replace=False))
    held = np.nonzero(corpus.split == VALID)[0]
    held = np.sort(rng.choice(held, size=min(n, len(held)), replace=False))
    encode = lambda t: model.encode(t.astype(np.int64))[0]  # noqa: E731
    mu_train = _batched(encode, corpus.tokens[train])
    decode = lambda z: _batched(model.decode, z, 4096)  # noqa: E731
    controls = fit_controls(mu_train, {a: v[train] for a, v in attrs.items()}, names, mode=mode, decode=decode,
                            seed=seed, pairs=pairs)
    std = corpus_std(attrs)
    table = sweep(decode, controls, encode(corpus.tokens[held]), std, steered=steered)
    controls, table = orient(controls, table)
    return {"controls": controls, "sweep": table, "summary": summarise(table),
            "settings": {"n": len(held), "fit_windows": len(train), "mode": mode, "seed": seed, "steered": steered,
                         "pairs": pairs,
                         "steer_candidates": STEER_CANDIDATES, "steer_spread": STEER_SPREAD,
                         "values": list(SWEEP_VALUES), "rule": NAME_RULE, "attr_std": std}}


def orient(controls: Controls, table: list[dict]) -> tuple[Controls, list[dict]]:
    """Reverse the free sliders that earned a name by lowering it, so every named slider raises its attribute."""
    signs = np.array([r.get("sign", 1) if r["name"] else 1 for r in table], np.float32)
    if (signs > 0).all():
        return controls, table
    flipped = replace(controls, basis=controls.basis * signs[:, None], readout=controls.readout * signs[:, None])
    rows = []
    for r, sg in zip(table, signs, strict=True):
        if sg < 0:
            r = {**r, "spearman": -r["spearman"], "effect": {a: -v for a, v in r["effect"].items()}, "sign": 1}
        rows.append(r)
    return flipped, rows


def summarise(table: list[dict]) -> dict:
    """Counts of a sweep: attribute sliders that earned their name, distinct names earned, free sliders named."""
    own = [r for r in table if r["attribute"] is not None]
    named = [r["attribute"] for r in own if r["name"] == r["attribute"]]
    free_named = [r["name"] for r in table if r["attribute"] is None and r["name"]]
    return {"attribute_sliders": len(own), "earned": len(named), "earned_names": named,
            "distinct_named": len(set(named) | set(free_named)), "free_named": free_named}


def format_sweep(table: list[dict]) -> str:
    """A readable per-slider table of a sweep."""
    lines = [f"  {'#':>2} {'fitted for':<20} {'target':<20} {'spearman':>8} {'effect':>7} {'specific':>8}  name",
             ]
    for r in table:
        lines.append(f"  {r['slider'] + 1:>2} {r['attribute'] or '(free)':<20} {r['target']:<20} {r['spearman']:>8.2f} "
                     f"{r['effect'][r['target']]:>7.2f} {r['specificity']:>7.1f}x  {r['name'] or '-'}")
    return "\n".join(lines)
