"""Copy check: transposition-invariant n-gram hashing finds planted copies and passes new melodies."""

import numpy as np
import pytest

from explorer.latent.originality import (
    COPY_BARS,
    OriginalityIndex,
    ngram_hashes,
    originality_report,
    shared_run,
)
from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF
from vae.corpus import TRAIN
from vae.format import DEFAULT_FORMAT, MelodyFormat


def transpose(tokens, semitones):
    t = np.asarray(tokens, dtype=np.int64)
    return np.where(t >= FIRST_NOTE_ON, t + semitones, t)


@pytest.fixture(scope="module")
def train_index(small_corpus):
    rows = np.nonzero(small_corpus.split == TRAIN)[0]
    return OriginalityIndex.build(small_corpus.tokens[rows], rows), rows


def test_hashes_ignore_transposition_only():
    w = np.array([[41, 0, 43, 0, 1, 0, 45, 0] * 4])
    assert ngram_hashes(w, 8).shape == (1, 25)
    assert np.array_equal(ngram_hashes(w, 8), ngram_hashes(transpose(w, 5), 8))
    other = w.copy()
    other[0, 2] = 44  # one interval changed
    assert not np.array_equal(ngram_hashes(w, 8)[0, :3], ngram_hashes(other, 8)[0, :3])
    rhythm = w.copy()
    rhythm[0, 4] = HOLD  # a rest became a held note
    assert ngram_hashes(w, 8)[0, 0] != ngram_hashes(rhythm, 8)[0, 0]


def test_shared_run_by_hand():
    a = np.array([41, 0, 43, 0, NOTE_OFF, 0, 45, 0, 47, 0])
    b = np.array([9, 9, 44, 0, 46, 0, NOTE_OFF, 0, 48, 0, 60, 0])  # a transposed +3, starting 2 steps later
    steps, start = shared_run(a, b, 2)
    assert (steps, start) == (8, 0)  # the last note of a (47 -> 60) breaks the run
    assert shared_run(a, a, 0) == (10, 0)


def test_planted_transposed_copy_is_flagged(small_corpus, train_index):
    index, rows = train_index
    busy = rows[(small_corpus.tokens[rows] >= FIRST_NOTE_ON).sum(1) >= 12]  # a real tune's worth of notes
    row = busy[len(busy) // 2]
    query = transpose(small_corpus.tokens[row], 3)
    r = index.longest_run(query)
    assert r["steps"] == 64 and r["transposition"] == -3 and r["exact"]
    rep = originality_report(index, query, small_corpus.tunes, small_corpus.tune, small_corpus.start)
    assert index.n == DEFAULT_FORMAT.steps_per_bar == 16  # the shipped 4/4 format: bar-long n-grams of 16 steps
    assert rep["likely_copy"] and rep["steps"] >= COPY_BARS * 16 and rep["bars"] == 4
    assert rep["title"] == small_corpus.tunes[small_corpus.tune[rep["window"]]]["title"]
    # half the window copied, the rest new: the run is the copied half
    mixed = query.copy()
    mixed[32:] = HOLD
    mixed[32] = NOTE_OFF
    assert index.longest_run(mixed)["steps"] >= 32
    # inside a longer line (a composed piece), found at its place
    line = np.concatenate([np.full(64, HOLD), query])
    line[0] = FIRST_NOTE_ON + 30
    r = index.longest_run(line)
    assert r["steps"] == 64 and r["query_start"] == 64


def test_new_melody_passes(small_corpus, train_index):
    index, _ = train_index
    rng = np.random.default_rng(7)
    q = np.zeros(64, np.int64)
    on = np.sort(rng.choice(64, 22, replace=False))
    q[on] = rng.integers(FIRST_NOTE_ON + 30, FIRST_NOTE_ON + 60, len(on))
    rep = originality_report(index, q, small_corpus.tunes, small_corpus.tune, small_corpus.start)
    assert not rep["likely_copy"] and rep["steps"] < COPY_BARS * 16


def test_held_note_is_not_a_copy(small_corpus, train_index):
    index, _ = train_index
    q = np.zeros(64, np.int64)
    q[0] = 50  # one note held for four bars matches plenty, but copies nothing
    rep = originality_report(index, q, small_corpus.tunes, small_corpus.tune, small_corpus.start)
    assert rep["notes"] <= 1 and not rep["likely_copy"]


def test_empty_index_and_short_query():
    index = OriginalityIndex.build(np.zeros((0, 64), np.uint8))
    assert index.longest_run(np.zeros(64, np.int64))["steps"] == 0
    assert OriginalityIndex.build(np.ones((2, 64), np.uint8)).longest_run(np.ones(8, np.int64))["steps"] == 0


def _melody(rng, steps):
    """A busy random line: a note-on on every other step, held in between."""
    t = np.full(steps, HOLD, np.int64)
    t[::2] = rng.integers(FIRST_NOTE_ON + 20, FIRST_NOTE_ON + 50, len(t[::2]))
    return t


def _planted(rng, src, at, start, steps, steps_total):
    """A new melody with src[start : start + steps] transposed +2 at `at`, fenced by rests on both sides."""
    q = _melody(rng, steps_total)
    q[at : at + steps] = transpose(src[start : start + steps], 2)
    q[at - 1] = q[at + steps] = NOTE_OFF  # src has no rests: the shared run cannot grow past the copy
    return q


@pytest.mark.parametrize("steps_per_bar", [12, 16])
def test_lengths_follow_the_models_format(steps_per_bar):
    """A format of 12 steps a bar (say 6/8 on an eighth-triplet grid) counts bars and the 2-bar copy
    threshold in 12-step bars and finds runs of one 12-step bar; the 4/4 format counts in 16."""
    fmt = MelodyFormat(steps_per_bar=steps_per_bar, bars=4)
    rng = np.random.default_rng(3)
    windows = np.stack([_melody(rng, fmt.window_steps) for _ in range(20)])
    index = OriginalityIndex.build(windows, n=fmt.steps_per_bar)
    meta = ([{"title": "Source"}], np.zeros(len(windows), np.int64), np.zeros(len(windows), np.int64))
    # 26 steps copied: 2 bars and more of a 12-step format, under 2 bars of 16
    two_bars_of_12 = _planted(rng, windows[5], 10, 4, 26, fmt.window_steps)
    rep = originality_report(index, two_bars_of_12, *meta)
    assert rep["steps"] == 26 and rep["window"] == 5 and rep["transposition"] == -2
    assert rep["bars"] == 26 / steps_per_bar
    assert rep["likely_copy"] == (steps_per_bar == 12)
    # 14 steps copied: one 12-step bar and more, shorter than one 16-step n-gram
    one_bar_of_12 = _planted(rng, windows[7], 20, 8, 14, fmt.window_steps)
    assert index.longest_run(one_bar_of_12)["steps"] == (14 if steps_per_bar == 12 else 0)


def test_the_explorers_index_hashes_one_bar_of_the_models_format(small_corpus, tmp_path):
    """The latent space builds its copy-check index with the model's bar (corpus_features' bar_steps), each bar
    length in a cache file of its own: a 12-steps-a-bar model's index is not the 4/4 one read back."""
    from explorer.latent.space import corpus_features

    _, four, _ = corpus_features(small_corpus, tmp_path)
    _, twelve, _ = corpus_features(small_corpus, tmp_path, bar_steps=12)
    _, twelve_again, _ = corpus_features(small_corpus, tmp_path, bar_steps=12)
    assert (four.n, twelve.n, twelve_again.n) == (DEFAULT_FORMAT.steps_per_bar, 12, 12)
    assert len(list(tmp_path.rglob("features-*.npz"))) == 2
    assert np.array_equal(twelve.keys, twelve_again.keys) and not np.array_equal(four.keys, twelve.keys)
