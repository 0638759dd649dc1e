"""Copy check: the longest transposition-invariant run a melody shares with any training window.

Every bar-long n-gram (one bar of the model's MelodyFormat, 16 steps in 4/4, at every step offset) of
every training window is hashed after making its note-ons relative to its own first note, so a melody
transposed by any interval hashes the same. A query's n-grams are looked up in the sorted hash table;
hits on the same training window and the same alignment ("diagonal") are grouped, and the best groups
are verified step by step, which also settles hash collisions. Runs shorter than one n-gram are not
searched for and report 0. Lengths in bars and the copy threshold are counted in the index's own bars,
so another format's checkpoint (e.g. 12 steps a bar) gets them in its own steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF
from vae.format import DEFAULT_FORMAT
from vae.music import ONSET_BASE

COPY_BARS = 2  # a run this many bars long identical up to transposition flags a likely copy
COPY_NOTES = 4  # ... if it holds at least this many note-ons: two bars of one held note copy nothing
_PRIME = 0x100000001B3  # odd, so invertible modulo 2**64


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    inv = pow(_PRIME, -1, 1 << 64)
    fwd = [pow(_PRIME, i, 1 << 64) for i in range(n + 1)]
    back = [pow(inv, i, 1 << 64) for i in range(n + 1)]
    return np.array(fwd, dtype=np.uint64), np.array(back, dtype=np.uint64)


def ngram_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """Transposition-invariant hashes of every n-step n-gram of windows [N, T] -> uint64 [N, T - n + 1].

    Symbol of a step: hold and off have fixed codes; a note-on codes its pitch minus the n-gram's first
    note-on (vae.music.relative_onsets, applied to each n-gram rather than each window). The hash is
    sum(code * P^j) mod 2^64, computed for all offsets at once from prefix sums:
    H(s) = (F[s+n] - F[s]) * P^-s, and the relative part splits into H_abs(s) - first(s) * H_onset(s).
    """
    t = np.atleast_2d(np.asarray(tokens)).astype(np.int64)
    rows, steps = t.shape
    if steps < n:
        return np.zeros((rows, 0), np.uint64)
    onset = t >= FIRST_NOTE_ON
    code = np.where(onset, ONSET_BASE + t, np.where(t == HOLD, 1, 2)).astype(np.uint64)
    fwd, back = _powers(steps)
    pw = fwd[:steps]
    zero = np.zeros((rows, 1), np.uint64)
    f_abs = np.concatenate([zero, np.cumsum(code * pw, axis=1, dtype=np.uint64)], axis=1)
    f_on = np.concatenate([zero, np.cumsum(onset.astype(np.uint64) * pw, axis=1, dtype=np.uint64)], axis=1)
    starts = steps - n + 1
    h_abs = (f_abs[:, n : n + starts] - f_abs[:, :starts]) * back[:starts]
    h_on = (f_on[:, n : n + starts] - f_on[:, :starts]) * back[:starts]
    # First note-on at or after each step (its token), by a reversed running minimum of indices.
    idx = np.where(onset, np.arange(steps), steps)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :starts]
    first = np.take_along_axis(np.concatenate([t, np.zeros((rows, 1), np.int64)], axis=1), nxt, axis=1)
    return h_abs - first.astype(np.uint64) * h_on


def shared_run(a: np.ndarray, b: np.ndarray, shift: int) -> tuple[int, int]:
    """Longest run where a[j] and b[j + shift] agree up to one transposition: (length, start in a).

    Holds and offs must match exactly; note-ons must all differ by the same number of semitones.
    """
    lo, hi = max(0, -shift), min(len(a), len(b) - shift)
    best, best_start = 0, 0
    run_start, diff, prev_onset = lo, None, None
    for j in range(lo, hi):
        x, y = int(a[j]), int(b[j + shift])
        if x >= FIRST_NOTE_ON and y >= FIRST_NOTE_ON:
            d = y - x
            if diff is not None and d != diff:
                run_start = prev_onset + 1  # the new transposition holds from just after the last note-on
            diff, prev_onset = d, j
        elif not (x == y and x in (HOLD, NOTE_OFF)):
            run_start, diff, prev_onset = j + 1, None, None
            continue
        if j + 1 - run_start > best:
            best, best_start = j + 1 - run_start, run_start
    return best, best_start


@dataclass
class OriginalityIndex:
    """Sorted n-gram hashes of the training windows, with the (window, offset) each came from."""

    keys: np.ndarray  # [M] uint64, sorted
    window: np.ndarray  # [M] int32, row into `tokens`
    offset: np.ndarray  # [M] int16, n-gram start step
    tokens: np.ndarray  # [W, T] uint8 training windows
    corpus_row: np.ndarray  # [W] int64, row of each training window in the whole corpus
    n: int = DEFAULT_FORMAT.steps_per_bar  # steps per hashed n-gram: one bar of the model's format

    @classmethod
    def build(cls, tokens: np.ndarray, corpus_row: np.ndarray | None = None,
              n: int = DEFAULT_FORMAT.steps_per_bar) -> OriginalityIndex:
        """Index windows [W, T] (the training split); corpus_row maps them back to corpus rows.

        n: the model's format's steps_per_bar (vae.format.MelodyFormat); the index hashes bar-long n-grams
        and originality_report counts bars and the copy threshold in it.
        """
        tokens = np.asarray(tokens, dtype=np.uint8)
        h = ngram_hashes(tokens, n)
        w, s = np.indices(h.shape)
        order = np.argsort(h, axis=None, kind="stable")
        rows = np.arange(len(tokens)) if corpus_row is None else np.asarray(corpus_row, np.int64)
        return cls(h.ravel()[order], w.ravel()[order].astype(np.int32), s.ravel()[order].astype(np.int16),
                   tokens, rows, n)

    def longest_run(self, query: np.ndarray, budget: int = 50000, verify: int = 32) -> dict:
        """Longest run of `query` tokens [T] shared, up to transposition, with any indexed window.

        Returns dict(steps, window (corpus row or -1), query_start, match_start, transposition, exact).
        The query's n-grams are looked up rarest first until `budget` hits are gathered: the rest are
        stock figures (a bar of one held note) that match thousands of windows. Each skipped n-gram
        could still lie on any alignment, so it widens every alignment's claimed length; at most
        `verify` alignments are checked step by step, longest claim first. `exact` is True when no
        unverified alignment could hold a longer run; otherwise `steps` is a lower bound (it happens
        for melodies made only of stock figures, e.g. three long notes, which copy nothing anyway).
        """
        q = np.asarray(query).astype(np.int64).ravel()
        best = {"steps": 0, "window": -1, "query_start": -1, "match_start": -1, "transposition": 0, "exact": True}
        hq = ngram_hashes(q[None], self.n)[0]
        if not len(hq) or not len(self.keys):
            return best
        lo = np.searchsorted(self.keys, hq, side="left")
        sizes = np.searchsorted(self.keys, hq, side="right") - lo
        found = np.nonzero(sizes)[0]
        if not len(found):
            return best
        found = found[np.argsort(sizes[found], kind="stable")]
        take = max(1, int(np.searchsorted(np.cumsum(sizes[found]), budget, side="right")))
        qs, skipped = found[:take], len(found) - take
        idx = np.concatenate([np.arange(lo[i], lo[i] + sizes[i]) for i in qs])
        qoff = np.repeat(qs, sizes[qs])
        win = self.window[idx].astype(np.int64)
        diag = self.offset[idx].astype(np.int64) - qoff
        # Group hits by (window, alignment); an alignment with h hits claims a run of n + h - 1 steps.
        span = len(q) + self.tokens.shape[1]  # diag + len(q) lies in [0, span): a collision-free group id
        uniq, counts = np.unique(win * span + (diag + len(q)), return_counts=True)
        ranked = np.argsort(-counts, kind="stable")
        best["exact"] = skipped == 0 and len(ranked) <= verify
        for g in ranked[:verify]:
            if self.n + counts[g] + skipped - 1 <= best["steps"]:
                best["exact"] = True  # no other alignment can claim more
                break
            w, shift = int(uniq[g] // span), int(uniq[g] % span) - len(q)
            steps, start = shared_run(q, self.tokens[w], shift)
            if steps > best["steps"]:
                a = q[start : start + steps]
                b = self.tokens[w][start + shift : start + shift + steps].astype(np.int64)
                on = a >= FIRST_NOTE_ON
                best.update(steps=steps, window=int(self.corpus_row[w]), query_start=start, match_start=start + shift,
                            transposition=int(b[on][0] - a[on][0]) if on.any() else 0)
        return best


def originality_report(index: OriginalityIndex, query: np.ndarray, tunes: list[dict], window_tune: np.ndarray,
                       window_start: np.ndarray, copy_steps: int | None = None, copy_notes: int = COPY_NOTES) -> dict:
    """Copy check of one melody [T] -> dict(steps, bars, notes, likely_copy, title, collection, tune, window, ...).

    likely_copy: the shared run is at least `copy_steps` long (default COPY_BARS of the index's bars) and
    holds at least `copy_notes` note-ons; bars: the run's length in the index's bars (index.n steps each).
    `tunes`, `window_tune` and `window_start` are the corpus metadata used to name the matched tune.
    """
    if copy_steps is None:
        copy_steps = COPY_BARS * index.n
    r = index.longest_run(query)
    out = dict(r)
    q = np.asarray(query).ravel()
    run = q[r["query_start"] : r["query_start"] + r["steps"]] if r["steps"] else q[:0]
    out["notes"] = int((run >= FIRST_NOTE_ON).sum())
    out["bars"] = r["steps"] / index.n
    out["likely_copy"] = bool(r["steps"] >= copy_steps and out["notes"] >= copy_notes)
    if r["window"] >= 0:
        t = int(window_tune[r["window"]])
        out.update(tune=t, title=tunes[t].get("title", ""), collection=tunes[t].get("collection", ""),
                   tune_step=int(window_start[r["window"]]) + r["match_start"])
    else:
        out.update(tune=-1, title="", collection="", tune_step=-1)
    return out
