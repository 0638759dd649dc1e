"""Deterministic train/valid/test split by tune, with near-duplicate tunes kept on one side."""

from __future__ import annotations

import hashlib

import numpy as np

from vae.windows import window_keys

TRAIN, VALID, TEST = 0, 1, 2
SPLIT_NAMES = {TRAIN: "train", VALID: "valid", TEST: "test"}


def _unit_hash(text: str) -> float:
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16) / 16**12


def _assign(ids: list[str], salt: str, valid_share: float, test_share: float) -> np.ndarray:
    h = np.array([_unit_hash(salt + "|" + i) for i in ids])
    return np.where(h < test_share, TEST, np.where(h < test_share + valid_share, VALID, TRAIN)).astype(np.int8)


def group_tunes(window_tune: np.ndarray, keys: np.ndarray, num_tunes: int, max_tunes_per_key: int = 8) -> np.ndarray:
    """Union tunes that share a transposition-invariant window (keys: one per window, vae.windows.window_keys);
    returns a group id per tune.

    A window shared by more than `max_tunes_per_key` tunes is a stock figure (a scale, a cadence), not
    evidence of the same tune, and would glue unrelated tunes into one giant group, so it links nothing.
    Numpy over the windows (a million-file collection has millions), Python only over the shared keys.
    """
    parent = list(range(num_tunes))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    keys, tunes = np.asarray(keys), np.asarray(window_tune, dtype=np.int64)
    order = np.lexsort((tunes, keys))
    k, t = keys[order], tunes[order]
    pair = np.r_[True, (k[1:] != k[:-1]) | (t[1:] != t[:-1])] if len(k) else np.zeros(0, bool)
    k, t = k[pair], t[pair]  # each (key, tune) once, grouped by key
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.zeros(0, np.int64)
    counts = np.diff(np.r_[starts, len(k)])
    linking = (counts > 1) & (counts <= max_tunes_per_key)
    for s, c in zip(starts[linking].tolist(), counts[linking].tolist(), strict=True):
        root = find(int(t[s]))
        for other in t[s + 1 : s + c].tolist():
            r = find(other)
            if r != root:
                parent[r] = root
    return np.array([find(x) for x in range(num_tunes)], dtype=np.int64)


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


def overlap_count(keys: np.ndarray, split: np.ndarray) -> int:
    """How many test windows also occur in train, by their keys (vae.windows.window_keys: exact or up to
    transposition)."""
    keys = np.asarray(keys)
    return int(np.isin(keys[split == TEST], keys[split == TRAIN]).sum())


def make_split(tokens: np.ndarray, window_tune: np.ndarray, tune_ids: list[str], salt: str,
               valid_share: float, test_share: float) -> tuple[np.ndarray, dict]:
    """Split label per window (TRAIN/VALID/TEST) and a report comparing it with a naive per-tune split."""
    keys = window_keys(tokens, relative=True)
    exact = window_keys(tokens, relative=False)
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
        "test_windows_in_train_naive": {"exact": overlap_count(exact, naive),
                                        "transposed": overlap_count(keys, naive),
                                        "test_windows": int((naive == TEST).sum())},
        "test_windows_in_train_grouped": {"exact": overlap_count(exact, split),
                                          "transposed": overlap_count(keys, split),
                                          "test_windows": int((split == TEST).sum())},
    }
    return split, report
