"""Corpus build over a small real subset of the bundled music21 corpus: counts, invariants, split, cache."""

import json
from dataclasses import replace

import numpy as np
import pytest

from vae.config import DataConfig, get_preset
from vae.constants import FIRST_NOTE_ON, MIN_PITCH, NOTE_OFF, VOCAB_SIZE
from vae.corpus import MUSIC21_COLLECTIONS, Corpus, cache_key, music21_corpus_root, music21_jobs
from vae.music import relative_onsets
from vae.split import TEST, TRAIN, VALID, group_tunes
from vae.windows import window_keys


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


def token_steps(tokens) -> list[tuple[int | None, bool]]:
    """Per step of a token row, read straight off the tokens: (pitch sounding or None, a note starts here)."""
    out, pitch = [], None
    for t in (int(x) for x in tokens):
        if t >= FIRST_NOTE_ON:
            pitch = t - FIRST_NOTE_ON + MIN_PITCH
        elif t == NOTE_OFF:
            pitch = None
        out.append((pitch, t >= FIRST_NOTE_ON))
    return out


def tune_steps(notes, start: int, length: int) -> list[tuple[int | None, bool]]:
    """The same per step of the tune's own notes over [start, start + length); a note already sounding at
    `start` counts as starting there (the window re-strikes it)."""
    out = []
    for x in range(start, start + length):
        n = next((n for n in notes if n.start <= x < n.end), None)
        out.append((None, False) if n is None else (n.pitch, n.start == x or x == start))
    return out


def reread_tune(meta: dict):
    """The tune a corpus metadata row came from, read again from its source file."""
    from vae.abc_reader import read_abc_file
    from vae.xml_reader import read_musicxml_part

    root = music21_corpus_root()
    coll = meta["collection"]
    if MUSIC21_COLLECTIONS[coll][2] == "mxl":
        return read_musicxml_part(root / meta["source"], coll, root)
    tunes, _ = read_abc_file(root / meta["source"], coll, root)
    return next(t for t in tunes if t.number == meta["number"])


def test_windows_match_tune_notes(small_corpus):
    """Each window of a tune holds exactly the tune's notes from its start step on, and starts on a bar line."""
    c = small_corpus
    cfg = get_preset("tiny").data
    checked = set()
    for t, meta in enumerate(c.tunes):
        if meta["collection"] in checked or not meta["windows"]:
            continue
        checked.add(meta["collection"])  # the first tune with windows of each collection
        tune = reread_tune(meta)
        ns = sorted(tune.notes, key=lambda n: n.start)
        assert all(a.end <= b.start for a, b in zip(ns, ns[1:], strict=False))  # a monophonic line
        rows = np.nonzero(c.tune == t)[0]
        starts = c.start[rows]
        assert len(rows) == meta["windows"] and set(starts.tolist()) <= set(tune.bar_lines)
        assert (np.diff(starts) >= cfg.hop_steps).all() and starts[-1] + cfg.window_steps <= tune.total_steps
        for row, s in zip(rows, starts, strict=True):
            assert token_steps(c.tokens[row]) == tune_steps(tune.notes, int(s), cfg.window_steps), (meta["title"], s)
    assert checked == {"oneills", "essen", "bach", "airds"}


def test_split_is_by_tune_and_honest(small_corpus):
    c = small_corpus
    for t in range(len(c.tunes)):
        s = np.unique(c.split[c.tune == t])
        assert len(s) <= 1  # a tune lives in one split only
    assert set(np.unique(c.split)) <= {TRAIN, VALID, TEST}
    sp = c.report["split"]
    assert sp["test_windows_in_train_grouped"]["transposed"] <= sp["test_windows_in_train_naive"]["transposed"]
    # counted again by comparing the windows themselves (the split compares 64-bit keys)
    train_keys = {r.tobytes() for r in relative_onsets(c.tokens[c.split == TRAIN])}
    test_keys = [r.tobytes() for r in relative_onsets(c.tokens[c.split == TEST])]
    assert sum(k in train_keys for k in test_keys) == sp["test_windows_in_train_grouped"]["transposed"]


def test_grouping_links_shared_windows_but_not_stock_figures():
    tune = np.array([0, 1, 2, 3, 4, 4])
    keys = np.array([7, 7, 8, 9, 10, 9], np.uint64)
    groups = group_tunes(tune, keys, 6)
    assert groups[0] == groups[1] and groups[3] == groups[4] and len(set(groups.tolist())) == 4  # tune 5: none
    many = group_tunes(np.arange(20), np.full(20, 5, np.uint64), 20, max_tunes_per_key=8)
    assert len(set(many.tolist())) == 20  # a figure shared by 20 tunes links nothing
    chain = group_tunes(np.array([0, 1, 1, 2]), np.array([1, 1, 2, 2], np.uint64), 3)
    assert len(set(chain.tolist())) == 1  # 0 ~ 1 ~ 2


def test_window_keys_match_equal_windows_exactly_or_transposed(small_corpus):
    """Equal windows, and only those, share a key: exactly, or up to transposition with relative=True."""
    t = small_corpus.tokens[:3000]
    for relative in (False, True):
        keys = window_keys(t, relative)
        rows = relative_onsets(t) if relative else t
        by_bytes = {r.tobytes() for r in rows}
        assert len(set(keys.tolist())) == len(by_bytes)  # no two different windows collide
        first = {}
        for k, r in zip(keys.tolist(), rows, strict=True):
            assert first.setdefault(k, r.tobytes()) == r.tobytes()
    up = t.copy()
    up[up >= FIRST_NOTE_ON] += 2
    assert np.array_equal(window_keys(up, True), window_keys(t, True))
    assert not np.any(window_keys(up, False) == window_keys(t, False))


def test_save_load_round_trip(small_corpus, tmp_path):
    loaded = Corpus.load(small_corpus.path)
    assert len(loaded) == len(small_corpus) and loaded.path == small_corpus.path
    for name in ("tokens", "tune", "start", "split"):
        a, b = getattr(loaded, name), getattr(small_corpus, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    # what was written is what the build held in memory (the report through JSON: tuples come back as lists)
    assert loaded.tunes == small_corpus.tunes
    assert loaded.report == json.loads(json.dumps(small_corpus.report))
    assert np.array_equal(loaded.subset(TEST), small_corpus.tokens[small_corpus.split == TEST])
    with pytest.raises(FileNotFoundError, match="no corpus"):
        Corpus.load(tmp_path)


def test_cache_key_tracks_settings():
    jobs = music21_jobs(("bach",))[:3]
    cfg = DataConfig()
    assert cache_key(cfg, jobs) == cache_key(cfg, jobs)
    assert cache_key(cfg, jobs) != cache_key(replace(cfg, window_bars=2), jobs)
    assert cache_key(cfg, jobs) != cache_key(cfg, jobs[:2])


def test_an_interrupted_build_resumes_from_its_finished_parts(tmp_path, monkeypatch):
    import vae.corpus as vc

    cfg = get_preset("tiny").data
    jobs = music21_jobs(("bach",))[:12]
    vc.build_corpus(cfg, jobs, tmp_path / "fresh", workers=1, progress=False, part_files=5)
    real = vc._read_job
    reads: list[str] = []

    def stops_after_eleven(args):
        if len(reads) == 11:
            raise KeyboardInterrupt  # the user pressed Ctrl-C while the third part was being read
        reads.append(args[0].path)
        return real(args)

    monkeypatch.setattr(vc, "_read_job", stops_after_eleven)
    with pytest.raises(KeyboardInterrupt):
        vc.build_corpus(cfg, jobs, tmp_path / "again", workers=1, progress=False, part_files=5)
    assert len(list((tmp_path / "again.parts").glob("part-*.npz"))) == 2 and not (tmp_path / "again").exists()
    reads.clear()
    monkeypatch.setattr(vc, "_read_job", lambda a: (reads.append(a[0].path), real(a))[1])
    vc.build_corpus(cfg, jobs, tmp_path / "again", workers=1, progress=False, part_files=5)
    assert sorted(reads) == sorted(j.path for j in jobs[10:])  # only the unfinished part is read again
    fresh, resumed = Corpus.load(tmp_path / "fresh"), Corpus.load(tmp_path / "again")
    assert np.array_equal(fresh.tokens, resumed.tokens) and np.array_equal(fresh.start, resumed.start)
    assert fresh.tunes == resumed.tunes and np.array_equal(fresh.split, resumed.split)
    assert not (tmp_path / "again.parts").exists()  # the parts are gone once the corpus is whole
