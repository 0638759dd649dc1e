"""Corpus build over a small real subset of the bundled music21 corpus: counts, invariants, split, cache."""

import json
from dataclasses import replace

import numpy as np

from vae.config import DataConfig
from vae.constants import FIRST_NOTE_ON, VOCAB_SIZE
from vae.corpus import Corpus, cache_key, music21_jobs
from vae.split import TEST, TRAIN, VALID, group_tunes
from vae.tokenizer import MelodyTokenizer
from vae.windows import relative_keys


def test_jobs_cover_all_collections():
    jobs = music21_jobs(("essen", "oneills", "ryans", "airds", "bach"))
    assert {j.collection for j in jobs} == {"essen", "oneills", "ryans", "airds", "bach"}
    assert sum(j.collection == "bach" for j in jobs) >= 400


def test_counts_and_invariants(small_corpus):
    c = small_corpus
    r = c.report
    assert r["files"] == 36
    assert r["tunes_read"] > 300 and len(c.tunes) == r["tunes_read"]
    assert set(r["collections"]) == {"oneills", "essen", "bach", "airds"}
    assert r["collections"]["bach"]["tunes_read"] + r["collections"]["bach"]["tunes_failed"] == 30
    assert c.tokens.shape == (r["windows_kept"], 64) and c.tokens.dtype == np.uint8
    assert c.tokens.max() < VOCAB_SIZE
    assert ((c.tokens >= FIRST_NOTE_ON).sum(1) >= 2).all()  # min_notes
    assert sum(r["token_shares"].values()) == np.float64(1.0) or abs(sum(r["token_shares"].values()) - 1) < 1e-3
    # every tune's window count matches its rows, and windows start on the tune's bar lines
    counts = np.bincount(c.tune, minlength=len(c.tunes))
    assert [m["windows"] for m in c.tunes] == counts.tolist()
    assert r["meters_tunes"] and r["pitch_range"]["min"] >= 21


def test_windows_match_tune_notes(small_corpus):
    """A window decoded back gives notes that all lie inside the window."""
    tok = MelodyTokenizer()
    for row in small_corpus.tokens[:200]:
        ns = tok.decode(row)
        assert ns and all(0 <= n.start < n.end <= 64 for n in ns)


def test_split_is_by_tune_and_honest(small_corpus):
    c = small_corpus
    for t in range(len(c.tunes)):
        s = np.unique(c.split[c.tune == t])
        assert len(s) <= 1  # a tune lives in one split only
    assert set(np.unique(c.split)) <= {TRAIN, VALID, TEST}
    sp = c.report["split"]
    assert sp["test_windows_in_train_grouped"]["transposed"] <= sp["test_windows_in_train_naive"]["transposed"]
    train_keys = set(relative_keys(c.tokens[c.split == TRAIN]))
    test_keys = relative_keys(c.tokens[c.split == TEST])
    assert sum(k in train_keys for k in test_keys) == sp["test_windows_in_train_grouped"]["transposed"]


def test_grouping_links_shared_windows_but_not_stock_figures():
    tune = np.array([0, 1, 2, 3, 4])
    keys = [b"a", b"a", b"b", b"c", b"d"]
    groups = group_tunes(tune, keys, 5)
    assert groups[0] == groups[1] and len(set(groups.tolist())) == 4
    many = group_tunes(np.arange(20), [b"x"] * 20, 20, max_tunes_per_key=8)
    assert len(set(many.tolist())) == 20  # a figure shared by 20 tunes links nothing


def test_save_load_round_trip(small_corpus):
    loaded = Corpus.load(small_corpus.path)
    assert np.array_equal(loaded.tokens, small_corpus.tokens)
    assert np.array_equal(loaded.split, small_corpus.split)
    assert loaded.tunes == json.loads((small_corpus.path / "tunes.json").read_text())


def test_cache_key_tracks_settings():
    jobs = music21_jobs(("bach",))[:3]
    cfg = DataConfig()
    assert cache_key(cfg, jobs) == cache_key(cfg, jobs)
    assert cache_key(cfg, jobs) != cache_key(replace(cfg, window_bars=2), jobs)
    assert cache_key(cfg, jobs) != cache_key(cfg, jobs[:2])
