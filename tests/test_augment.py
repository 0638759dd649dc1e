"""The syncopation augmentation (vae.augment.anticipate): onsets move earlier over held steps, nothing is lost."""

import numpy as np
from conftest import notes

from vae.augment import anticipate
from vae.constants import FIRST_NOTE_ON, HOLD
from vae.tokenizer import MelodyTokenizer

TOK = MelodyTokenizer()


def eighths() -> np.ndarray:
    return TOK.encode(notes(*[(60 + i, 2 * i, 2 * i + 2) for i in range(32)]), 64)  # straight eighths


def onsets(row: np.ndarray) -> list[int]:
    return np.flatnonzero(row >= FIRST_NOTE_ON).tolist()


def test_anticipations_move_onsets_earlier_and_keep_every_note_in_order():
    x = np.stack([eighths()] * 64)
    rng = np.random.default_rng(0)
    for offbeats in (False, True):
        out, changed = anticipate(x, 1.0, rng, per_onset=0.7, offbeats=offbeats)
        assert changed.mean() > 0.5  # most windows got an anticipation (a move needs held steps to move over)
        for before, after in zip(x, out, strict=True):
            pb, pa = before[before >= FIRST_NOTE_ON], after[after >= FIRST_NOTE_ON]
            assert pa.tolist() == pb.tolist()  # the same notes in the same order, none overwritten
            moved = [b - a for a, b in zip(onsets(after), onsets(before), strict=True)]
            assert set(moved) <= {0, 1, 2} and onsets(after)[0] == 0  # earlier only; the first event stays
            assert set(np.unique(after)) <= set(np.unique(before)) | {HOLD}
        positions = {s % 4 for row in out for s in onsets(row)}
        # on-beat onsets land a sixteenth or an eighth early; off-beat eighths only move with offbeats
        assert (1 in positions) == offbeats and 3 in positions


def test_no_share_no_change():
    x = np.stack([eighths()] * 4)
    out, changed = anticipate(x, 0.0, np.random.default_rng(0), offbeats=True)
    assert np.array_equal(out, x) and not changed.any()
