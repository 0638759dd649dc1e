"""Your own collection: MIDI and ABC files (or zips of them) read into token windows, saved, and joined to the map.

A collection is a folder `<collections root>/<name>/` (root: env MELODY_COLLECTIONS, default `.cache/collections`
beside the corpus cache): `files/` (the files it was read from), `corpus/` (a vae.corpus.Corpus of their windows,
every tune's collection set to the collection's name, so it is a style and a colour of its own), `collection.json`
(what was added or refused, file by file) and `latents-*.npz` (its windows encoded by a model, once per model).

`read_collection` adds files to a collection (one bad file is refused with a sentence; every other file and
everything added before is kept); `join` returns a LatentSpace of the base corpus plus collections, encoding
only their windows and refitting the map, styles and neighbours for the same model and sliders.

A built-in collection ships with the package and joins like one of yours: "Pop" (`builtin_collections`), the
sung lines of POP909 songs 401-699 that the shipped model was fine-tuned on (vae.pop909). It keeps its own
train / valid / test split (the fine-tune's), so its held-out songs stay out of the styles, the map's fit and the
copy check; its latents are cached under the explorer's cache, never beside the shipped file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from explorer.errors import UserError
from explorer.latent.cache import cache_root, corpus_digest, load_arrays, save_arrays
from explorer.latent.encoded import EncodedCorpus, encode_windows
from explorer.latent.originality import OriginalityIndex
from explorer.latent.space import LatentSpace
from explorer.latent.styles import GENRES
from vae import pop909
from vae.attributes import corpus_attributes, tune_keys
from vae.config import DataConfig
from vae.corpus import (
    COLLECTION_LABELS,
    DEFAULT_CACHE,
    MUSIC21_COLLECTIONS,
    READER_VERSION,
    TRAIN,
    Corpus,
    Job,
    build_corpus,
)

Progress = Callable[[float, str], None]  # fn(fraction done in [0, 1], message)
READERS = {".mid": "midi", ".midi": "midi", ".kar": "midi", ".rmi": "midi", ".abc": "abc"}
MUSIC_FILES = "a MIDI (.mid .midi .kar .rmi) or ABC (.abc) file, or a .zip of them"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _\-'&()]{0,39}$")
NAME_RULE = "1-40 letters, digits, spaces and - _ ' & ( ), starting with a letter or digit"
DRAW_TRIES = 8  # draws near a collection's windows tried before a likely copy is kept (draw_near)
JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")  # what zips made by file managers carry


@dataclass(frozen=True)
class Limits:
    """How much one add may read (a zip counts by its members)."""

    max_files: int = 2000  # files per add
    max_file_bytes: int = 20 * 2**20  # one MIDI or ABC file (a long song's MIDI is ~100 kB)
    max_total_bytes: int = 300 * 2**20  # everything one add unpacks


@dataclass(frozen=True)
class FileReport:
    """What became of one file: added (its tunes and windows) or refused (`problem`, one sentence)."""

    name: str  # as the user named it; a zip's member as "songs.zip/folder/song.mid"
    tunes: int = 0
    windows: int = 0
    problem: str = ""  # empty when added
    note: str = ""  # a remark on an added file (some of its tunes could not be read)

    @property
    def added(self) -> bool:
        return not self.problem

    def sentence(self) -> str:
        if self.problem:
            return f"{self.name}: refused — {self.problem}"
        tunes = f"{self.tunes} melod{'ies' if self.tunes != 1 else 'y'}"
        return f"{self.name}: added — {tunes}, {self.windows} four-bar window{'s' if self.windows != 1 else ''}." + (
            f" {self.note}" if self.note else "")


@dataclass
class Collection:
    """A saved collection: its name, folder, windows (a Corpus) and the report of every file it was offered."""

    name: str
    folder: Path
    corpus: Corpus
    files: list[FileReport] = field(default_factory=list)  # every add, oldest first
    seconds: dict = field(default_factory=dict)  # of the last add: read, save
    builtin: bool = False  # shipped with the package (Pop): keeps its own split, always joins the corpus
    unsaved: bool = False  # held in memory only (a hosted demo's visitor: read_unsaved); `folder` no longer exists

    @property
    def windows(self) -> int:
        return len(self.corpus)


def collections_root(root: Path | str | None = None) -> Path:
    """Where collections are saved: `root`, else env MELODY_COLLECTIONS, else `.cache/collections` (the repo's cache)."""
    return Path(root or os.environ.get("MELODY_COLLECTIONS") or DEFAULT_CACHE / "collections")


def check_name(name: str) -> str:
    """The collection's name, stripped; a UserError when it cannot name a folder or clashes with the corpus's own."""
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise UserError(f"Name the collection with {NAME_RULE} (got {name!r})." if name else
                        "Give the collection a name first.")
    taken = {k.lower() for k in MUSIC21_COLLECTIONS} | {v.lower() for v in COLLECTION_LABELS.values()} | {"midi"} | {
        n.lower() for n in BUILTIN_NAMES} | {n.lower() for n in GENRES}
    if name.lower() in taken:
        raise UserError(f"{name!r} is the name of one of the corpus's own collections or styles; choose another name.")
    return name


BUILTIN_NAMES = (pop909.NAME,)


def builtin_collections(fmt=None, cache_dir: Path | str | None = None) -> list[Collection]:
    """The collections shipped with the package (Pop: vae.pop909.WINDOWS), those whose file is there and whose
    windows fit the melody format `fmt` (a vae.format.MelodyFormat; None: any)."""
    if not pop909.WINDOWS.exists():
        return []
    corpus = pop909.load_windows(pop909.WINDOWS)
    if fmt is not None and corpus.tokens.shape[1] != fmt.window_steps:
        return []
    return [Collection(pop909.NAME, cache_root(cache_dir) / "builtin" / "pop909", corpus, builtin=True)]


def saved_collections(root: Path | str | None = None) -> list[str]:
    """Names of the collections saved under the root, sorted."""
    base = collections_root(root)
    return sorted(p.name for p in base.iterdir() if not p.name.startswith(".") and (p / "collection.json").exists() and
                  (p / "corpus" / "windows.npz").exists()) if base.is_dir() else []


def load_collection(name: str, root: Path | str | None = None) -> Collection:
    """A saved collection by name (FileNotFoundError with the names that exist when there is none)."""
    folder = collections_root(root) / check_name(name)
    if not (folder / "collection.json").exists() or not (folder / "corpus" / "windows.npz").exists():
        known = ", ".join(saved_collections(root)) or "none yet"
        raise FileNotFoundError(f"no collection {name!r} in {folder.parent} (saved: {known}); add one with "
                                f"`python -m explorer collection add {name} FOLDER`")
    info = json.loads((folder / "collection.json").read_text())
    corpus = Corpus.load(folder / "corpus")
    for m in corpus.tunes:  # the folder names the collection (a rename stopped midway still loads as one)
        m["collection"] = folder.name
    return Collection(folder.name, folder, corpus, [FileReport(**f) for f in info.get("files", [])])


def _existing(name: str, root: Path | str | None) -> Path:
    """The folder of the saved collection `name` (checked), or a UserError naming the ones there are."""
    folder = collections_root(root) / check_name(name)
    if not (folder / "collection.json").exists():
        known = ", ".join(saved_collections(root)) or "none yet"
        raise UserError(f"There is no saved collection {name.strip()!r} (saved: {known}).")
    return folder


def delete_collection(name: str, root: Path | str | None = None) -> Path:
    """Delete the saved collection `name` and everything in its folder: its files, windows, cached encodings and
    the model that learned its style (explorer.session.learn keeps it in `<folder>/model`). Returns the folder
    it was in. Other collections are not touched. UserError when there is no such collection."""
    folder = _existing(name, root)
    # moved aside first (one rename): a collection is either there whole or gone, never half deleted
    trash = folder.parent / f".deleted-{folder.name}-{os.getpid()}-{time.monotonic_ns()}"
    folder.replace(trash)
    shutil.rmtree(trash, ignore_errors=True)
    return folder


def rename_collection(old: str, new: str, root: Path | str | None = None) -> Collection:
    """Rename the saved collection `old` to `new` (its folder, its melodies' collection and its record) and return
    it under the new name; its cached encodings and learned model move with it. UserError when `old` is not
    saved, `new` cannot name a collection (the corpus's own and the styles' names are taken) or another
    collection has that name (in any case: 'my songs' and 'My songs' would look alike on the map)."""
    folder = _existing(old, root)
    new = check_name(new)
    if new == folder.name:
        raise UserError(f"The collection is already called {new!r}.")
    clash = [n for n in saved_collections(root) if n.lower() == new.lower() and n != folder.name]
    if clash or (folder.parent / new).exists() and new.lower() != folder.name.lower():
        raise UserError(f"There is already a collection called {(clash or [new])[0]!r}; choose another name.")
    dest = folder.parent / new
    folder.replace(dest)  # one rename: the folder names the collection (load_collection)
    info = json.loads((dest / "collection.json").read_text())
    info["name"] = new
    _write_json(dest / "collection.json", info)
    tunes = json.loads((dest / "corpus" / "tunes.json").read_text())
    for m in tunes:
        m["collection"] = new
    _write_json(dest / "corpus" / "tunes.json", tunes)
    return load_collection(new, root)


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


# --- reading files --------------------------------------------------------------------------------------
def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name.replace("/", "__")).strip("._")[:120] or "file"


def _leaves(name: str) -> bool:
    """True for a zip member path that is absolute or climbs out of the archive's folder."""
    p = name.replace("\\", "/")
    return p.startswith("/") or bool(re.match(r"^[A-Za-z]:", p)) or ".." in PurePosixPath(p).parts


def _unzip(path: Path, label: str, into: Path, limits: Limits, budget: list[int]) -> tuple[list[tuple[str, Path]], list[FileReport]]:
    """A zip's music members copied into `into` -> ([(display name, path)], refused). A zip that holds a path trick,
    a link, a password or too much is refused whole, before anything is unpacked."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return [], [FileReport(label, problem="it is not a zip archive that can be opened.")]
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir() and not any(j in i.filename for j in JUNK)]
        for i in members:
            if _leaves(i.filename):
                return [], [FileReport(label, problem=f"it holds a file whose path leaves the archive ({i.filename!r}), "
                                                      "so it was not opened.")]
            if (i.external_attr >> 16) & 0o170000 == 0o120000:
                return [], [FileReport(label, problem=f"it holds a link ({i.filename!r}), so it was not opened.")]
            if i.flag_bits & 1:
                return [], [FileReport(label, problem="it is password-protected.")]
        if len(members) > limits.max_files:
            return [], [FileReport(label, problem=f"it holds {len(members)} files; one add reads at most "
                                                  f"{limits.max_files}.")]
        if sum(i.file_size for i in members) > budget[0]:
            return [], [FileReport(label, problem=f"it would unpack to more than {limits.max_total_bytes // 2**20} MB.")]
        out, refused = [], []
        for i in members:
            name = f"{label}/{i.filename}"
            ext = Path(i.filename).suffix.lower()
            if ext == ".zip":
                refused.append(FileReport(name, problem="a zip inside a zip is not opened; add it on its own."))
                continue
            if ext not in READERS:
                refused.append(FileReport(name, problem=f"it is not {MUSIC_FILES}."))
                continue
            if i.file_size > limits.max_file_bytes:
                refused.append(FileReport(name, problem=f"it is bigger than {limits.max_file_bytes // 2**20} MB."))
                continue
            dest = into / f"z{len(out):05d}-{_safe_name(Path(i.filename).name)}"
            cap = min(limits.max_file_bytes, budget[0])
            with zf.open(i) as src:  # read with a cap: a member's declared size may lie
                data = src.read(cap + 1)
            if len(data) > cap:
                return [], [FileReport(label, problem="it unpacks to more than it says (a zip bomb?), so it was not read.")]
            budget[0] -= len(data)
            dest.write_bytes(data)
            out.append((name, dest))
        return out, refused


def gather(paths: Sequence[Path | str], into: Path, limits: Limits = Limits(),
           names: Sequence[str] | None = None) -> tuple[list[tuple[str, Path]], list[FileReport]]:
    """Files and zips -> ([(display name, staged copy in `into`)], refused). `names`: how to show each path
    (an upload's original name), default its file name."""
    into.mkdir(parents=True, exist_ok=True)
    budget = [limits.max_total_bytes]
    staged: list[tuple[str, Path]] = []
    refused: list[FileReport] = []
    for k, p in enumerate(paths):
        p = Path(p)
        label = names[k] if names else p.name
        ext = p.suffix.lower()
        if not p.is_file():
            refused.append(FileReport(label, problem="there is no such file."))
        elif ext == ".zip":
            got, bad = _unzip(p, label, into, limits, budget)
            staged += got
            refused += bad
        elif ext not in READERS:
            refused.append(FileReport(label, problem=f"it is not {MUSIC_FILES}."))
        elif p.stat().st_size > min(limits.max_file_bytes, budget[0]):
            refused.append(FileReport(label, problem=f"it is bigger than {limits.max_file_bytes // 2**20} MB."
                                      if p.stat().st_size > limits.max_file_bytes else
                                      f"the files together are bigger than {limits.max_total_bytes // 2**20} MB."))
        else:
            dest = into / f"f{k:05d}-{_safe_name(p.name)}"
            shutil.copyfile(p, dest)
            budget[0] -= dest.stat().st_size
            staged.append((label, dest))
        if len(staged) > limits.max_files:
            raise UserError(f"One add reads at most {limits.max_files} files; add the rest in another go.")
    return staged, refused


def _file_reports(corpus: Corpus, staged: list[tuple[str, Path]], root: Path) -> list[FileReport]:
    """One FileReport per staged file, from the built corpus's tunes and failures."""
    by_source: dict[str, list[dict]] = {}
    for m in corpus.tunes:
        by_source.setdefault(m["source"], []).append(m)
    errors: dict[str, list[dict]] = {}
    for e in corpus.report.get("failures", []):
        errors.setdefault(e["source"], []).append(e)
    out = []
    for label, path in staged:
        source = str(path.relative_to(root))
        tunes, errs = by_source.get(source, []), errors.get(source, [])
        windows = sum(m["windows"] for m in tunes)
        first = (errs[0]["message"].rstrip(".") + ".") if errs else ""
        if windows:
            note = f"{len(errs)} of its tunes could not be read (first: {first})" if errs else ""
            out.append(FileReport(label, sum(m["windows"] > 0 for m in tunes), windows, note=note))
        elif errs:
            out.append(FileReport(label, problem=first))
        elif tunes:
            out.append(FileReport(label, problem="its melody has no 4-bar stretch with enough notes to use."))
        else:
            out.append(FileReport(label, problem="it holds no melody that could be read."))
    return out


def _concat(parts: Sequence[Corpus], path: Path) -> Corpus:
    """Corpora one after another (tune indices shifted, splits and metadata kept), not saved."""
    parts = [c for c in parts if c is not None]
    shift = np.cumsum([0] + [len(c.tunes) for c in parts[:-1]])
    return Corpus(np.concatenate([c.tokens for c in parts]),
                  np.concatenate([c.tune + s for c, s in zip(parts, shift, strict=True)]).astype(np.int32),
                  np.concatenate([c.start for c in parts]), np.concatenate([c.split for c in parts]),
                  [t for c in parts for t in c.tunes], {"windows_kept": int(sum(len(c) for c in parts))}, Path(path))


def read_collection(name: str, paths: Sequence[Path | str], cfg: DataConfig, root: Path | str | None = None,
                    limits: Limits = Limits(), names: Sequence[str] | None = None, workers: int | None = 1,
                    progress: bool = False) -> tuple[Collection, list[FileReport]]:
    """Add files (MIDI, ABC, zips of them) to the collection `name` (made when new) and save it: returns the
    collection and this add's report, one FileReport per file. Windows are cut as `cfg` (the model's data
    settings) says; a file already in the collection (same name) is refused. Never loses what was added
    before: the new corpus replaces the old only once it is complete."""
    name = check_name(name)
    folder = collections_root(root) / name
    old = load_collection(name, root) if (folder / "collection.json").exists() else None
    t0 = time.perf_counter()
    staging = folder.parent / f".staging-{name}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        staged, refused = gather(paths, staging / "files", limits, names)
        have = {f.name for f in old.files if f.added} if old else set()
        kept, seen = [], set()
        for label, p in staged:
            if label in have or label in seen:
                refused.append(FileReport(label, problem="a file of this name is already in the collection."))
            else:
                seen.add(label)
                kept.append((label, p))
        root_dir = staging / "files"
        jobs = [Job(READERS[p.suffix.lower()], str(p), name, str(root_dir)) for _, p in kept]
        new = build_corpus(cfg, jobs, staging / "corpus", workers=workers, progress=progress) if jobs else None
        reports = _file_reports(new, kept, root_dir) if new is not None else []
        read_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        order = {label: i for i, label in enumerate(names or [Path(p).name for p in paths])}
        report = sorted(reports + refused, key=lambda f: (order.get(f.name.split("/")[0], len(order)), f.name))
        added = {f.name for f in reports if f.added}
        if new is not None and added:
            sources = {str(p.relative_to(root_dir)) for label, p in kept if label in added}
            new = new.subset_tunes(np.array([t for t, m in enumerate(new.tunes) if m["source"] in sources
                                             and m["windows"] > 0], np.int64))
            files = folder / "files"
            files.mkdir(parents=True, exist_ok=True)
            for label, p in kept:
                if label in added:  # stored under a name of its own; the tunes' source follows it
                    dest = files / _safe_name(label)
                    shutil.copyfile(p, dest)
                    for m in new.tunes:
                        if m["source"] == str(p.relative_to(root_dir)):
                            m["source"] = dest.name
            for m in new.tunes:
                m["collection"] = name
            merged = _concat([old.corpus if old else None, new], folder / "corpus")
            merged.report = {"collection": name, "files": len({m["source"] for m in merged.tunes}),
                             "tunes_read": len(merged.tunes), "windows_kept": len(merged), "reader": READER_VERSION,
                             "settings": asdict(cfg)}
            fresh = merged.save(staging / "corpus-new")
            if (folder / "corpus").exists():
                (folder / "corpus").replace(staging / "corpus-old")
            (staging / "corpus-new").replace(folder / "corpus")
            corpus = Corpus(fresh.tokens, fresh.tune, fresh.start, fresh.split, fresh.tunes, fresh.report,
                            folder / "corpus")
        elif old is not None:
            corpus = old.corpus
        else:
            corpus = None
        all_files = (old.files if old else []) + report
        if corpus is not None:
            info = {"name": name, "files": [asdict(f) for f in all_files], "windows": len(corpus)}
            tmp = folder / "collection.json.tmp"
            tmp.write_text(json.dumps(info, indent=1))
            tmp.replace(folder / "collection.json")
        coll = Collection(name, folder, corpus, all_files, {"read": read_s, "save": time.perf_counter() - t1}) \
            if corpus is not None else None
        return coll, report
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(staging.with_name(staging.name + ".parts"), ignore_errors=True)


def read_unsaved(name: str, paths: Sequence[Path | str], cfg: DataConfig, limits: Limits = Limits(),
                 names: Sequence[str] | None = None, old: Collection | None = None,
                 progress: bool = False) -> tuple[Collection | None, list[FileReport]]:
    """As read_collection, but nothing is kept on disk: the files are read in a temporary folder, removed before
    this returns, and the collection is held in memory only (`unsaved`), added to `old` (such a collection of the
    same name) when given. Returns (the collection, None when nothing was ever added; this add's report)."""
    name = check_name(name)
    labels = list(names) if names else [Path(p).name for p in paths]
    have = {f.name for f in old.files if f.added} if old is not None else set()
    fresh = [k for k, label in enumerate(labels) if label not in have]
    dup = [FileReport(labels[k], problem="a file of this name is already in the collection.")
           for k in range(len(labels)) if labels[k] in have]
    with tempfile.TemporaryDirectory(prefix="melody-collection-") as tmp:
        coll, report = read_collection(name, [paths[k] for k in fresh], cfg, tmp, limits, [labels[k] for k in fresh],
                                       workers=1, progress=progress) if fresh else (None, [])
        folder = Path(tmp) / name
    report = sorted(report + dup, key=lambda f: labels.index(f.name.split("/")[0]) if f.name.split("/")[0] in labels
                    else len(labels))
    if coll is None:
        return old, report
    new = coll.corpus
    corpus = _concat([old.corpus if old is not None else None, new], folder / "corpus")
    corpus.report = {"collection": name, "files": len({m["source"] for m in corpus.tunes}), "tunes_read":
                     len(corpus.tunes), "windows_kept": len(corpus), "reader": READER_VERSION, "settings": asdict(cfg)}
    files = (old.files if old is not None else []) + report
    return Collection(name, folder, corpus, files, coll.seconds, unsaved=True), report


def draw_near(space: LatentSpace, name: str, n: int = 1, seed: int = 0, tries: int = DRAW_TRIES) -> np.ndarray:
    """n latent vectors [n, Z] drawn from the collection `name`'s own melodies: each a random training window of it
    (its encoding's mean and spread: mu + sigma * noise), so a draw lands where one of its melodies lies instead of
    at the average of them all. A draw whose greedy melody the copy check calls a likely copy (>= 2 bars of a
    window on the map) is drawn again, near another window, up to `tries` times in all (the last try is kept):
    without that a quarter of the draws were copies (bench/collections.md). ValueError when the space holds no
    training window of that collection."""
    split = space.corpus.split
    of = np.array([m.get("collection") == name for m in space.corpus.tunes], bool)
    rows = np.nonzero(of[space.corpus.tune] & (split == TRAIN))[0]
    if not len(rows):
        raise ValueError(f"no training window of {name!r} in the space")
    rng = np.random.default_rng(seed)
    out = np.empty((n, space.latent_dim), np.float32)
    todo, last = np.arange(n), max(1, tries) - 1
    for attempt in range(last + 1):
        pick = rows[rng.integers(0, len(rows), len(todo))]
        eps = rng.standard_normal((len(todo), space.latent_dim)).astype(np.float32)
        out[todo] = space.index.mu[pick] + space.index.sigma[pick] * eps
        if attempt == last:
            break
        tokens = np.atleast_2d(space.decode(out[todo]))
        todo = todo[np.array([space.originality(t)["likely_copy"] for t in tokens], bool)]
        if not len(todo):
            break
    return out


# --- joining the latent space ----------------------------------------------------------------------------
def latents_path(index_key: str, coll: Collection) -> Path:
    """Where the collection's windows encoded by the model of a base index key (EncodedCorpus.key) are cached."""
    import hashlib

    key = hashlib.sha1(f"{index_key}|{corpus_digest(coll.corpus)}".encode()).hexdigest()[:16]
    return coll.folder / f"latents-{key}.npz"


def encoded(space: LatentSpace, coll: Collection, threads: int | None = None,
            callback: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) [N, Z] of the collection's windows under the space's model, cached in its folder per model."""
    if coll.unsaved:  # nothing of a visitor's collection goes to disk
        return encode_windows(space.model, coll.corpus.tokens, threads=threads, progress=False, callback=callback)
    path = latents_path(space.base.index.key, coll)
    cached = load_arrays(path)
    if cached is not None and cached["mu"].shape == (len(coll.corpus), space.latent_dim):
        return cached["mu"], cached["sigma"]
    mu, sigma = encode_windows(space.model, coll.corpus.tokens, threads=threads, progress=False, callback=callback)
    try:
        save_arrays(path, {"mu": mu, "sigma": sigma})
    except OSError:  # a read-only collections folder: encode again next time (seconds)
        pass
    return mu, sigma


def _merged_originality(base: OriginalityIndex, tokens: np.ndarray, rows: np.ndarray) -> OriginalityIndex:
    """The base's copy-check index plus windows [W, T] at corpus rows [W], merged without re-sorting the base."""
    add = OriginalityIndex.build(tokens, rows, base.n)
    if not len(add.keys):
        return base
    at = np.searchsorted(base.keys, add.keys, side="right")
    w0 = len(base.tokens)
    return OriginalityIndex(np.insert(base.keys, at, add.keys), np.insert(base.window, at, add.window + w0),
                            np.insert(base.offset, at, add.offset), np.concatenate([base.tokens, add.tokens]),
                            np.concatenate([base.corpus_row, add.corpus_row]), base.n)


def join(space: LatentSpace, collections: Sequence[Collection], threads: int | None = None,
         callback: Progress | None = None) -> LatentSpace:
    """A LatentSpace of `space`'s base corpus plus the collections (same model and sliders): only the
    collections' windows are encoded (once per model, then cached), and the map, styles, attribute vectors
    and neighbours are refitted. Every window of your collections counts as a training window, so it joins the
    styles, the map and the copy check; a built-in one (Pop) keeps its own split, and one already joined to
    `space` stays joined. `space.seconds` says what each stage took."""
    t0 = time.perf_counter()
    base = space.base
    given = {c.name for c in collections}
    # a built-in collection already joined (Pop) stays joined when yours are joined to the space
    colls = [c for c in space.collections if c.builtin and c.name not in given] + list(collections)
    if not colls:
        return base
    seconds = {"encode": 0.0}
    parts = []
    for k, c in enumerate(colls):
        t = time.perf_counter()
        report = (lambda f, m, k=k, c=c: callback((k + f) / len(colls) * 0.8, f"{c.name}: {m}")) if callback else None
        mu, sigma = encoded(space, c, threads, report)
        seconds["encode"] += time.perf_counter() - t
        parts.append((c, mu, sigma))
    t = time.perf_counter()
    if callback:
        callback(0.8, "styles, map and neighbours")
    corpus = _concat([base.corpus] + [c.corpus for c in colls], colls[-1].folder / "joined")
    corpus.split = np.concatenate([base.corpus.split] + [
        c.corpus.split.astype(base.corpus.split.dtype) if c.builtin else np.full(len(c.corpus), TRAIN,
                                                                                  base.corpus.split.dtype)
        for c in colls])
    corpus.tunes = list(base.corpus.tunes) + [m if c.builtin else {**m, "split": "train"}
                                              for c in colls for m in c.corpus.tunes]
    corpus.report = {"base": base.corpus.report, "collections": [c.name for c in colls]}
    n0 = len(base.corpus)
    index = EncodedCorpus(np.concatenate([base.index.mu] + [p[1] for p in parts]),
                          np.concatenate([base.index.sigma] + [p[2] for p in parts]), corpus.split, corpus.tune,
                          f"{base.index.key}+" + "+".join(corpus_digest(c.corpus) for c in colls))
    new_attrs = [corpus_attributes(c.corpus) for c in colls]
    attrs = {k: np.concatenate([v] + [a[k] for a in new_attrs]) for k, v in base.attrs.items()}
    rows = n0 + np.nonzero(corpus.split[n0:] == TRAIN)[0]  # the copy check holds training windows only
    orig = _merged_originality(base.originality_index, corpus.tokens[rows], rows)
    extra = tune_keys(corpus.tokens[n0:], corpus.tune[n0:] - len(base.corpus.tunes), len(corpus.tunes) -
                      len(base.corpus.tunes))
    keys = {k: np.concatenate([v, extra[k]]) for k, v in base.tune_key.items()}
    seconds["merge"] = time.perf_counter() - t
    t = time.perf_counter()
    joined = LatentSpace.fit(space.model, corpus, index, attrs, orig, keys, base.sliders)
    seconds["fit"] = time.perf_counter() - t
    joined.base, joined.collections, joined.checkpoint = base, tuple(colls), base.checkpoint
    joined.build_seconds = time.perf_counter() - t0
    joined.join_seconds = seconds
    if callback:
        callback(1.0, "ready")
    return joined


__all__ = ["BUILTIN_NAMES", "Collection", "FileReport", "Limits", "builtin_collections", "check_name",
           "collections_root", "delete_collection", "draw_near", "encoded", "gather", "join",
           "latents_path", "load_collection", "read_collection", "read_unsaved", "rename_collection", "saved_collections"]
