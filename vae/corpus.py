"""Build, cache and load the tokenized corpus: windows, per-tune metadata, split and a report."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vae.config import DataConfig
from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF
from vae.corpus_parts import PART_FILES, clear_parts, file_sizes, read_in_parts
from vae.split import SPLIT_NAMES, TEST, TRAIN, VALID, make_split
from vae.tune import Tune
from vae.windows import tune_windows

READER_VERSION = 7  # bump when parsing or windowing changes, to invalidate caches
DEFAULT_CACHE = Path(os.environ.get("MELODY_CACHE", Path(__file__).resolve().parent.parent / ".cache"))

# collection name -> (folder inside music21's corpus, file pattern, reader)
MUSIC21_COLLECTIONS = {
    "essen": ("essenFolksong", "*.abc", "abc"),
    "oneills": ("oneills1850", "*.abc", "abc"),
    "ryans": ("ryansMammoth", "*.abc", "abc"),
    "airds": ("airdsAirs", "*.abc", "abc"),
    "bach": ("bach", "*.mxl", "mxl"),
}
COLLECTION_LABELS = {"essen": "Essen (German folk)", "oneills": "O'Neill's 1850 (Irish)",
                     "ryans": "Ryan's Mammoth (American/Irish)", "airds": "Aird's Airs (Scottish)",
                     "bach": "Bach chorales (soprano)", "midi": "Your MIDI"}


@dataclass(frozen=True)
class Job:
    """One file to read: reader kind ('abc', 'mxl', 'midi'), path, collection name, corpus root."""

    kind: str
    path: str
    collection: str
    root: str


def music21_corpus_root() -> Path:
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"


def music21_jobs(collections: tuple[str, ...]) -> list[Job]:
    """Files of the bundled music21 corpus for the chosen collections, in a stable order."""
    root = music21_corpus_root()
    jobs = []
    for name in collections:
        if name not in MUSIC21_COLLECTIONS:
            raise ValueError(f"unknown collection {name!r}; known: {', '.join(MUSIC21_COLLECTIONS)}")
        folder, pattern, kind = MUSIC21_COLLECTIONS[name]
        for p in sorted((root / folder).glob(pattern)):
            jobs.append(Job(kind, str(p), name, str(root)))
    return jobs


def midi_jobs(folder: Path) -> list[Job]:
    """Every MIDI-like file under a folder (.mid .midi .kar .rmi, any case)."""
    exts = {".mid", ".midi", ".kar", ".rmi", ".smf"}
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in exts)
    return [Job("midi", str(p), "midi", str(folder)) for p in files]


def _read_job(args: tuple[Job, DataConfig]) -> tuple[list[dict], list[np.ndarray], list[np.ndarray], list[dict], Counter, dict]:
    """Worker: read one file, cut windows. Returns tune metas, windows, starts, errors, drops, pitch stats."""
    job, cfg = args
    path, root = Path(job.path), Path(job.root)
    tunes: list[Tune]
    errors: list[dict]
    try:
        if job.kind == "abc":
            from vae.abc_reader import read_abc_file

            tunes, errors = read_abc_file(path, job.collection, root)
        elif job.kind == "mxl":
            from vae.xml_reader import read_musicxml_part

            tunes, errors = [read_musicxml_part(path, job.collection, root)], []
        elif job.kind == "midi":
            from vae.midi_import import corpus_tunes_from_midi

            tunes, errors = corpus_tunes_from_midi(path, root)
        else:
            raise ValueError(f"unknown reader {job.kind}")
    except Exception as exc:  # one bad file never stops the build
        reason = getattr(exc, "reason", "parse error")
        tunes, errors = [], [{"collection": job.collection, "source": str(path.relative_to(root)), "number": "",
                              "reason": reason, "message": str(exc) or type(exc).__name__}]
    metas, wins, starts = [], [], []
    drops: Counter = Counter()
    pitches: list[int] = []
    for tune in tunes:
        w, s, d = tune_windows(tune, cfg.window_steps, cfg.hop_steps, cfg.min_notes)
        drops.update(d)
        meta = tune.meta()
        meta["windows"] = len(w)
        metas.append(meta)
        wins.append(w)
        starts.append(s)
        pitches.extend(n.pitch for n in tune.notes)
    pstats = {"min": min(pitches), "max": max(pitches)} if pitches else {}
    return metas, wins, starts, errors, drops, pstats


def cache_key(cfg: DataConfig, jobs: list[Job]) -> str:
    """Hash of the settings, reader version and every source file's path, size and mtime."""
    h = hashlib.sha1()
    h.update(json.dumps(asdict(cfg), sort_keys=True).encode())
    h.update(str(READER_VERSION).encode())
    for j in jobs:
        st = os.stat(j.path)
        h.update(f"{j.kind}|{j.path}|{st.st_size}|{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


@dataclass
class Corpus:
    """Token windows [n, steps] uint8 with, per window, its tune index, start step and split."""

    tokens: np.ndarray
    tune: np.ndarray
    start: np.ndarray
    split: np.ndarray
    tunes: list[dict]
    report: dict
    path: Path

    def subset(self, split: int) -> np.ndarray:
        """Tokens of one split (TRAIN, VALID or TEST)."""
        return self.tokens[self.split == split]

    def __len__(self) -> int:
        return len(self.tokens)

    def save(self, path: Path) -> Corpus:
        """Write this corpus as a corpus folder (windows.npz last, so its presence marks a complete folder);
        returns the corpus as stored there."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "tunes.json").write_text(json.dumps(self.tunes))
        (path / "report.json").write_text(json.dumps(self.report, indent=2))
        tmp = path / "windows.tmp.npz"
        np.savez_compressed(tmp, tokens=self.tokens, tune=self.tune, start=self.start, split=self.split)
        tmp.replace(path / "windows.npz")
        return Corpus(self.tokens, self.tune, self.start, self.split, self.tunes, self.report, path)

    def subset_tunes(self, tunes: np.ndarray) -> Corpus:
        """The windows of some tunes only (indices into self.tunes), renumbered; splits kept; not stored."""
        pick = np.sort(np.asarray(tunes, dtype=np.int64))
        mask = np.isin(self.tune, pick)
        remap = np.full(len(self.tunes), -1, np.int32)
        remap[pick] = np.arange(len(pick), dtype=np.int32)
        report = dict(self.report, subset_of=str(self.path), subset_tunes=len(pick), windows_kept=int(mask.sum()))
        return Corpus(self.tokens[mask], remap[self.tune[mask]], self.start[mask], self.split[mask],
                      [self.tunes[t] for t in pick], report, self.path)

    @classmethod
    def load(cls, path: Path) -> Corpus:
        """Load a built corpus directory (no pickle)."""
        path = Path(path)
        if not (path / "windows.npz").exists():
            raise FileNotFoundError(f"no corpus at {path}: run `python -m vae corpus build` first")
        with np.load(path / "windows.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("tokens", "tune", "start", "split")}
        tunes = json.loads((path / "tunes.json").read_text())
        report = json.loads((path / "report.json").read_text())
        return cls(**arrays, tunes=tunes, report=report, path=path)


def build_corpus(cfg: DataConfig, jobs: list[Job], out_dir: Path, workers: int | None = None,
                 progress: bool = True, part_files: int = PART_FILES) -> Corpus:
    """Read every job in parallel, cut windows, split, write `out_dir`, return the Corpus. Reading is resumable:
    results are saved every `part_files` files (vae.corpus_parts), and a build interrupted before it wrote
    `out_dir` picks up from the parts it finished."""
    t0 = time.time()
    workers = workers or min(os.cpu_count() or 1, 8)
    metas: list[dict] = []
    wins: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    errors: list[dict] = []
    drops: Counter = Counter()
    pmin, pmax = 999, -1
    bar = tqdm(total=len(jobs), desc="reading corpus", unit="file", disable=not progress)
    sizes = file_sizes([j.path for j in jobs])
    pool = get_context("spawn" if os.name == "nt" else "fork").Pool(workers) if workers > 1 and len(jobs) > 1 else None

    def read_many(order: list[int]) -> list[tuple]:
        args = [(jobs[i], cfg) for i in order]
        out = []
        for res in (pool.imap(_read_job, args, chunksize=1) if pool else map(_read_job, args)):
            out.append(res)
            bar.update()
        return out

    try:
        results_by_job = read_in_parts(len(jobs), sizes, read_many, out_dir, cfg.window_steps, part_files,
                                       on_loaded=bar.update)
    except BaseException:  # Ctrl-C or a crash: stop the workers now (the finished parts are kept)
        if pool is not None:
            pool.terminate()
        raise
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    bar.close()
    for i in range(len(jobs)):  # stable order whatever the worker timing
        m, w, s, e, d, p = results_by_job[i]
        metas.extend(m)
        wins.extend(w)
        starts.extend(s)
        errors.extend(e)
        drops.update(d)
        if p:
            pmin, pmax = min(pmin, p["min"]), max(pmax, p["max"])
    steps = cfg.window_steps
    tokens = np.concatenate(wins) if wins else np.zeros((0, steps), np.uint8)
    tune_idx = np.concatenate([np.full(len(w), t, np.int32) for t, w in enumerate(wins)]) if wins else np.zeros(0, np.int32)
    start = np.concatenate(starts) if starts else np.zeros(0, np.int32)
    tune_ids = [f"{m['collection']}/{m['source']}#{m['number']}" for m in metas]
    split, split_report = make_split(tokens, tune_idx, tune_ids, cfg.split_salt, cfg.valid_share, cfg.test_share)
    for t, m in enumerate(metas):
        m["split"] = SPLIT_NAMES[int(split[tune_idx == t][0])] if m["windows"] else "none"
    report = _report(cfg, jobs, metas, errors, drops, tokens, tune_idx, (pmin, pmax), split_report)
    report["build_seconds"] = round(time.time() - t0, 1)
    report["workers"] = workers
    corpus = Corpus(tokens, tune_idx, start, split, metas, report, out_dir).save(out_dir)
    clear_parts(out_dir)
    return corpus


def _report(cfg, jobs, metas, errors, drops, tokens, tune_idx, prange, split_report) -> dict:
    per_coll: dict[str, dict] = {}
    for m in metas:
        c = per_coll.setdefault(m["collection"], {"tunes_read": 0, "tunes_failed": 0, "tunes_with_windows": 0, "windows": 0})
        c["tunes_read"] += 1
        c["windows"] += m["windows"]
        c["tunes_with_windows"] += m["windows"] > 0
    for e in errors:
        per_coll.setdefault(e["collection"], {"tunes_read": 0, "tunes_failed": 0, "tunes_with_windows": 0, "windows": 0})
        per_coll[e["collection"]]["tunes_failed"] += 1
    total = tokens.size or 1
    quant = Counter()
    for m in metas:
        st = m["stats"]
        quant["tunes_with_tuplets"] += st.get("triplet_notes", 0) > 0
        quant["tunes_with_offgrid_notes"] += st.get("offgrid_notes", 0) > 0
        quant["notes_moved_to_grid"] += st.get("offgrid_notes", 0)
        quant["notes_dropped_on_taken_step"] += st.get("collided_notes", 0)
        quant["grace_notes_skipped"] += st.get("grace_notes", 0)
        quant["chords_reduced_to_top_note"] += st.get("chords", 0)
    meters = Counter(m["meter"] for m in metas)
    meter_windows = Counter()
    for m in metas:
        meter_windows[m["meter"]] += m["windows"]
    return {
        "settings": asdict(cfg),
        "files": len(jobs),
        "collections": per_coll,
        "tunes_read": len(metas),
        "tunes_failed": len(errors),
        "failures": errors,
        "windows_kept": int(len(tokens)),
        "windows_dropped": dict(drops),
        "meters_tunes": dict(meters.most_common()),
        "meters_windows": dict(meter_windows.most_common()),
        "pitch_range": {"min": prange[0], "max": prange[1]},
        "token_shares": {"hold": round(float((tokens == HOLD).sum() / total), 4),
                         "note_off": round(float((tokens == NOTE_OFF).sum() / total), 4),
                         "note_on": round(float((tokens >= FIRST_NOTE_ON).sum() / total), 4)},
        "quantisation": dict(quant),
        "split": split_report,
    }


def load_or_build(cfg: DataConfig | None = None, cache_dir: Path | None = None, force: bool = False,
                  progress: bool = True, midi_dir: Path | None = None, workers: int | None = None) -> Corpus:
    """The corpus for these settings: from the cache if its sources and settings are unchanged, else built."""
    cfg = cfg or DataConfig()
    jobs = midi_jobs(midi_dir) if midi_dir else music21_jobs(cfg.collections)
    if not jobs:
        raise FileNotFoundError(f"no readable music files found in {midi_dir or 'the music21 corpus'}")
    base = Path(cache_dir) if cache_dir else DEFAULT_CACHE / "corpus"
    out = base / cache_key(cfg, jobs)
    if not force and (out / "windows.npz").exists():
        return Corpus.load(out)
    return build_corpus(cfg, jobs, out, workers=workers, progress=progress)


def format_report(report: dict) -> str:
    """Human-readable summary of a corpus report."""
    lines = [f"files {report['files']}  tunes read {report['tunes_read']}  failed {report['tunes_failed']}  "
             f"windows kept {report['windows_kept']}  ({report.get('build_seconds', '?')} s)"]
    lines.append("collection        tunes  failed  with-windows  windows")
    for name, c in report["collections"].items():
        lines.append(f"  {name:<14} {c['tunes_read']:>6} {c['tunes_failed']:>7} {c['tunes_with_windows']:>13} {c['windows']:>8}")
    lines.append("windows dropped: " + ", ".join(f"{k}: {v}" for k, v in report["windows_dropped"].items()))
    top = list(report["meters_windows"].items())[:8]
    lines.append("windows by meter: " + ", ".join(f"{k}: {v}" for k, v in top))
    lines.append(f"pitch range: {report['pitch_range']['min']}..{report['pitch_range']['max']}  token shares: {report['token_shares']}")
    lines.append("quantisation: " + ", ".join(f"{k}: {v}" for k, v in report["quantisation"].items()))
    sp = report["split"]
    lines.append(f"split windows: {sp['windows']}  tunes: {sp['tunes']}  groups: {sp['tune_groups']} (largest {sp['largest_group_tunes']} tunes)")
    n, g = sp["test_windows_in_train_naive"], sp["test_windows_in_train_grouped"]
    lines.append(f"test windows also in train: naive split {n['exact']}/{n['test_windows']} exact, {n['transposed']} transposed; "
                 f"grouped split {g['exact']}/{g['test_windows']} exact, {g['transposed']} transposed")
    fails = Counter(e["reason"] for e in report["failures"])
    if fails:
        lines.append("failures by reason: " + ", ".join(f"{k}: {v}" for k, v in fails.items()))
    return "\n".join(lines)


__all__ = ["Corpus", "DataConfig", "Job", "TRAIN", "VALID", "TEST", "load_or_build", "build_corpus", "format_report",
           "music21_jobs", "midi_jobs", "COLLECTION_LABELS"]
