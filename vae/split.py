"""Deterministic train/valid/test split by tune, with near-duplicate tunes kept on one side."""

from __future__ import annotations

import hashlib

import numpy as np

from vae.windows import relative_keys

TRAIN, VALID, TEST = 0, 1, 2
SPLIT_NAMES = {TRAIN: "train", VALID: "valid", TEST: "test"}


def _unit_hash(text: str) -> float:
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16) / 16**12


def _assign(ids: list[str], salt: str, valid_share: float, test_share: float) -> np.ndarray:
    h = np.array([_unit_hash(salt + "|" + i) for i in ids])
    return np.where(h < test_share, TEST, np.where(h < test_share + valid_share, VALID, TRAIN)).astype(np.int8)


def group_tunes(window_tune: np.ndarray, keys: list[bytes], num_tunes: int, max_tunes_per_key: int = 8) -> np.ndarray:
    """Union tunes that share a transposition-invariant window; returns a group id per tune.

    A window shared by more than `max_tunes_per_key` tunes is a stock figure (a scale, a cadence), not
    evidence of the same tune, and would glue unrelated tunes into one giant group, so it links nothing.
    """
    parent = list(range(num_tunes))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    by_key: dict[bytes, set[int]] = {}
    for t, k in zip(window_tune.tolist(), keys, strict=True):
        by_key.setdefault(k, set()).add(t)
    for tunes in by_key.values():
        if 1 < len(tunes) <= max_tunes_per_key:
            it = iter(tunes)
            root = find(next(it))
            for t in it:
                r = find(t)
                if r != root:
                    parent[r] = root
    return np.array([find(t) for t in range(num_tunes)], dtype=np.int64)


def _ensure_held_out(tune_split: np.ndarray, names: list[str], salt: str) -> None:
    """Small collections (a user's MIDI folder) may hash no group into valid or test; then the groups with
    the smallest hashes are moved there, so training can always validate. Modifies tune_split in place."""
    order = sorted(set(names), key=lambda n: _unit_hash(salt + "|" + n))
    if len(order) < 3:
        return
    arr = np.array(names)
    for wanted, name in ((TEST, order[0]), (VALID, order[1])):
        if not (tune_split == wanted).any():
            tune_split[arr == name] = wanted


def overlap_count(tokens: np.ndarray, split: np.ndarray, relative: bool) -> int:
    """How many test windows also occur in train (exactly, or up to transposition)."""
    keys = relative_keys(tokens) if relative else [r.tobytes() for r in tokens]
    train = {k for k, s in zip(keys, split.tolist(), strict=True) if s == TRAIN}
    return sum(1 for k, s in zip(keys, split.tolist(), strict=True) if s == TEST and k in train)


def make_split(tokens: np.ndarray, window_tune: np.ndarray, tune_ids: list[str], salt: str,
               valid_share: float, test_share: float) -> tuple[np.ndarray, dict]:
    """Split label per window (TRAIN/VALID/TEST) and a report comparing it with a naive per-tune split."""
    keys = relative_keys(tokens)
    groups = group_tunes(window_tune, keys, len(tune_ids))
    # A group is named by its smallest member id, so the split does not depend on file order.
    group_name: dict[int, str] = {}
    for t, g in enumerate(groups.tolist()):
        if g not in group_name or tune_ids[t] < group_name[g]:
            group_name[g] = tune_ids[t]
    names = [group_name[g] for g in groups.tolist()]
    tune_split = _assign(names, salt, valid_share, test_share)
    _ensure_held_out(tune_split, names, salt)
    naive_tune_split = _assign(tune_ids, salt, valid_share, test_share)
    split = tune_split[window_tune]
    naive = naive_tune_split[window_tune]
    sizes = np.bincount(groups, minlength=len(tune_ids))
    report = {
        "windows": {SPLIT_NAMES[s]: int((split == s).sum()) for s in SPLIT_NAMES},
        "tunes": {SPLIT_NAMES[s]: int((tune_split == s).sum()) for s in SPLIT_NAMES},
        "tune_groups": int((sizes > 0).sum()),
        "largest_group_tunes": int(sizes.max()) if len(sizes) else 0,
        "test_windows_in_train_naive": {"exact": overlap_count(tokens, naive, False),
                                        "transposed": overlap_count(tokens, naive, True),
                                        "test_windows": int((naive == TEST).sum())},
        "test_windows_in_train_grouped": {"exact": overlap_count(tokens, split, False),
                                          "transposed": overlap_count(tokens, split, True),
                                          "test_windows": int((split == TEST).sum())},
    }
    return split, report
