"""Your own collection from the page: files read into a collection, joined to the app's latent space.

On your own computer the app has one corpus, so an added collection is saved and joins it for every tab (same
model: every session's melody stays where it is). A shared deployment keeps one corpus for every visitor
(`add_collections` False, set by the page from app.py's flags): there a visitor's collection is held by their
session only (`session_key` names the session a call serves), never written to disk, bounded by `HostedLimits`,
and forgotten when the session ends. Every action reads the latent space as `self.s`, which is that session's
own space (the corpus with its collection joined) while it serves that session, else the shared one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from explorer.errors import UserError
from explorer.latent.collections import (
    Collection,
    FileReport,
    Limits,
    check_name,
    delete_collection,
    draw_near,
    join,
    load_collection,
    read_collection,
    read_unsaved,
    rename_collection,
    saved_collections,
)
from explorer.latent.space import LatentSpace
from explorer.session.learn import learned_checkpoint, model_folder
from vae.checkpoint import data_config
from vae.corpus import COLLECTION_LABELS

# One add from the page: each uploaded file is also capped at 5 MB by the page (explorer.ui.page.MAX_UPLOAD).
PAGE_LIMITS = Limits(max_files=200, max_file_bytes=5 * 2**20, max_total_bytes=100 * 2**20)
HOSTED = ("Saving collections, renaming and deleting them works on your own computer: run `make run` there (or "
          "`python -m explorer collection add NAME FOLDER`); on this shared demo your collection lives in this page "
          "only.")


@dataclass(frozen=True)
class HostedLimits:
    """What one visitor's collection may hold on a shared deployment, where it lives in their session only."""

    max_files: int = 50  # files in all (a zip counts by its files)
    max_bytes: int = 20 * 2**20  # the files together
    max_windows: int = 3000  # four-bar windows encoded (about one a bar): bounds the minutes of encoding
    seconds_per_bar: float = 2.0  # a 4/4 bar at 120 beats a minute: how the page puts the windows in minutes
    max_sessions: int = 4  # visitors holding a collection at once: each holds its own copy of the corpus indexes
    # (about 180 MB with the shipped corpus and 50 songs; dropped when the session goes)
    idle_minutes: float = 60.0  # a page's session ends this long after its last event (explorer.ui.sessions)

    @property
    def minutes(self) -> int:
        """The melody the windows hold, in minutes at 120 beats a minute."""
        return round(self.max_windows * self.seconds_per_bar / 60)


HOSTED_LIMITS = HostedLimits()


@dataclass
class Held:
    """A visitor's collection held by their session: the space with it joined and what that space's map caches."""

    collection: Collection
    space: LatentSpace
    files: int = 0  # files added (zip members counted)
    bytes: int = 0  # of the files given
    values: dict = field(default_factory=dict)  # the per-space attributes (PerSpace) while this session is served


class PerSpace:
    """An attribute of the actions that belongs to the latent space served (the space itself, the map drawn from
    it): the session's own while a call serves a session that holds a collection, else the shared one."""

    def __init__(self, default: Callable[[], object] | None = None):
        self.default = default  # makes the value where there is none yet (None: the attribute is missing)

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        values = obj._values()
        if self.name not in values and self.default is not None:
            values[self.name] = self.default()
        try:
            return values[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, obj, value) -> None:
        obj._values()[self.name] = value

    def __delete__(self, obj) -> None:
        obj._values().pop(self.name, None)


class SharedSpace(PerSpace):
    """`s`: setting it (the app's start, use_space) always sets the shared space, and forgets the shared map."""

    def __set__(self, obj, value) -> None:
        obj.__dict__["_shared_values"] = {self.name: value}


class CollectionActions:
    """Adding a collection of the composer's own files to the map, the neighbours, the styles and the copy check."""

    add_collections = True  # False on a shared deployment (explorer.ui.page.build_ui): collections per session
    collections_root: Path | None = None  # where collections are saved; None: explorer.latent.collections' default
    hosted_limits = HOSTED_LIMITS
    # On a shared deployment: fn() -> the key of the session the current call serves (None: no session, e.g. the
    # HTTP API), set by the page (explorer.ui.collections); a session's collection is served to that session only.
    session_key: Callable[[], str | None] | None = None
    _adding = threading.Lock()  # one add at a time in this process: each builds on the space the last one made

    s = SharedSpace()  # the latent space served (LatentSpace); the caller's own when their session holds a collection
    _map_figures = PerSpace(dict)  # explorer.session.corpus: the map drawn from that space
    _map_data = PerSpace()
    _map_hover = PerSpace()

    def _values(self) -> dict:
        """The per-space attributes for the current call: its session's, or the shared ones."""
        held = self.__dict__.get("_held")
        if held and self.session_key is not None:
            mine = held.get(self.session_key())
            if mine is not None:
                return mine.values
        return self.__dict__.setdefault("_shared_values", {})

    def held_sessions(self) -> list[str]:
        """The keys of the sessions that hold a collection of their own now."""
        return list(self.__dict__.get("_held", {}))

    def forget_sessions(self, alive: set | None = None, key: str | None = None) -> int:
        """Drop the collections of sessions not in `alive` (the sessions the server still holds), or of the session
        `key` (its page was closed); returns how many were dropped. Nothing of them is on disk."""
        held = self.__dict__.get("_held", {})
        gone = [k for k in list(held) if (alive is not None and k not in alive) or k == key]
        for k in gone:
            held.pop(k, None)
        return len(gone)

    def limits_text(self) -> str:
        """What one add may hold, in words (shown on the page)."""
        if not self.add_collections:
            lim = self.hosted_limits
            return (f"On this shared demo your collection lives in **this page only**: it is not saved, no other "
                    f"visitor sees it, and it goes when you close or reload the page (or {lim.idle_minutes:g} minutes "
                    f"after your last action). It may hold up to {lim.max_files} files (a zip counts by its files), "
                    f"{lim.max_bytes // 2**20} MB together and {lim.max_windows:,} four-bar windows (about "
                    f"{lim.minutes} minutes of melody at 120 beats a minute). For more, and to keep it, run the "
                    "explorer on your own computer (`make run`).")
        mb = PAGE_LIMITS.max_total_bytes // 2**20
        return (f"Up to {PAGE_LIMITS.max_files} files a go (a zip counts by its files), each at most "
                f"{PAGE_LIMITS.max_file_bytes // 2**20} MB, {mb} MB together; 50 songs take about 10 seconds. "
                "For more, use `python -m explorer collection add NAME FOLDER` and start with "
                "`python app.py --collection NAME`.")

    def add_collection(self, name: str, paths: Sequence[str | Path], names: Sequence[str] | None = None,
                       progress: Callable[[float, str], None] | None = None) -> tuple[Collection | None, list[FileReport]]:
        """Add files (MIDI, ABC, zips of them) to the collection `name`, save it, and serve the corpus with it:
        returns (the collection, or None when no file could be added; one FileReport per file). Raises UserError
        when no file was given, the name cannot be used, or (shared deployment) the session's limits are passed.
        On a shared deployment the collection is the session's own (`add_to_session`)."""
        if not paths:
            raise UserError("Drop some MIDI or ABC files, or a zip of them, first.")
        name = check_name(name)
        report = progress or (lambda f, m: None)
        if not self.add_collections:
            return self.add_to_session(name, paths, names, report)
        with self._adding:
            report(0.0, "reading your files")
            coll, files = read_collection(name, list(paths), data_config(self.s.model.meta), self.collections_root,
                                          PAGE_LIMITS, names, workers=1, progress=True)
            if coll is not None and any(f.added for f in files):
                report(0.4, "encoding your melodies")
                others = [c for c in self.s.collections if c.name != coll.name]
                joined = join(self.s.base, others + [coll], threads=1,
                              callback=lambda f, m: report(0.4 + 0.6 * f, m))
                self.use_space(joined)
        return coll, files

    def add_to_session(self, name: str, paths: Sequence[str | Path], names: Sequence[str] | None,
                       report: Callable[[float, str], None]) -> tuple[Collection | None, list[FileReport]]:
        """A shared deployment's add: the files join the collection of the session this call serves, held in memory
        by that session only, within `hosted_limits` (each passed limit refuses the whole add with a sentence;
        what the session added before is kept)."""
        lim = self.hosted_limits
        key = self.session_key() if self.session_key is not None else None
        if key is None:
            raise UserError("On this shared demo a collection lives in a page's session: add it on the page.")
        held = self.__dict__.setdefault("_held", {})
        labels = list(names) if names else [Path(p).name for p in paths]
        with self._adding:
            mine = held.get(key)
            if mine is None and len(held) >= lim.max_sessions:
                raise UserError(f"This shared demo holds the collections of {lim.max_sessions} "
                                f"visitor{'s' if lim.max_sessions != 1 else ''} at once, and that many are here now; "
                                "try again in a while, or run the explorer on your own computer (`make run`).")
            if mine is not None and mine.collection.name != name:
                raise UserError(f"This page holds one collection, **{mine.collection.name}**: add to it under that "
                                "name, or reload the page to start another.")
            shared = self.__dict__["_shared_values"]["s"]
            if any(c.name.lower() == name.lower() for c in shared.collections):
                raise UserError(f"{name!r} is the name of a collection on this demo's map; choose another name.")
            size = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
            had_files, had_bytes = (mine.files, mine.bytes) if mine else (0, 0)
            if had_bytes + size > lim.max_bytes:
                raise UserError(f"A collection on this shared demo holds at most {lim.max_bytes / 2**20:g} MB of "
                                f"files; these come to {size / 2**20:.1f} MB"
                                + (f" beside the {had_bytes / 2**20:.1f} MB already added" if had_bytes else "")
                                + ". Add fewer, or run the explorer on your own computer for more.")
            if had_files + len(paths) > lim.max_files:
                raise UserError(f"A collection on this shared demo holds at most {lim.max_files} files; these are "
                                f"{len(paths)}" + (f" beside the {had_files} already added" if had_files else "")
                                + ". Add fewer, or run the explorer on your own computer for more.")
            limits = Limits(max_files=lim.max_files - had_files, max_file_bytes=PAGE_LIMITS.max_file_bytes,
                            max_total_bytes=lim.max_bytes - had_bytes)
            report(0.0, "reading your files")
            coll, files = read_unsaved(name, list(paths), data_config(self.s.model.meta), limits, labels,
                                       mine.collection if mine else None, progress=True)
            added = [f for f in files if f.added]
            if coll is None or not added:
                return coll, files
            if coll.windows > lim.max_windows:
                raise UserError(f"A collection on this shared demo holds at most {lim.max_windows:,} four-bar windows "
                                f"(about {lim.minutes} minutes of melody); these files would make it "
                                f"{coll.windows:,}. Add fewer, or run the explorer on your own computer for more.")
            report(0.4, "encoding your melodies")
            space = join(shared, [c for c in shared.collections if not c.builtin] + [coll], threads=1,
                         callback=lambda f, m: report(0.4 + 0.6 * f, m))
            space.batcher = shared.batcher  # the same model: one decoding thread for every session's space
            held[key] = Held(coll, space, had_files + sum(1 for f in files if f.added), had_bytes + size,
                             {"s": space})
        return coll, files

    def _managed(self, name: str) -> Collection:
        """The saved collection `name` for a rename or a delete, refused (UserError) where that would pull the
        ground from under the explorer: adding is off here, it is being learned, or its learned model is the one
        playing now."""
        if not self.add_collections:
            raise UserError(HOSTED)
        if not (name or "").strip():
            raise UserError("Choose one of your saved collections first.")
        try:
            coll = load_collection(name, self.collections_root)
        except FileNotFoundError:
            known = ", ".join(self.saved_collection_names()) or "none yet"
            raise UserError(f"There is no saved collection {name.strip()!r} (saved: {known}).") from None
        run = getattr(self, "learning", None)
        if run is not None and run.running and run.name == coll.name:
            raise UserError(f"The model is learning {coll.name!r} now; stop it first (or wait until it ends).")
        playing = getattr(self.s, "checkpoint", None)
        if playing is not None and Path(playing).resolve().is_relative_to(coll.folder.resolve()):
            raise UserError(f"The explorer plays the model that learned {coll.name!r}'s style now; start the app "
                            "without --learned first, then rename or delete it.")
        return coll

    def delete_summary(self, name: str) -> str:
        """What deleting the collection `name` would lose, in words (the page's confirmation, markdown)."""
        coll = self._managed(name)
        added = sum(f.added for f in coll.files)
        learned = learned_checkpoint(coll) is not None or model_folder(coll).exists()
        return (f"Delete **{coll.name}**: its {len(coll.corpus.tunes)} melodies ({coll.windows} four-bar windows) from "
                f"{added} file(s) leave the map, the neighbours, the style menus and the copy check, and the copies "
                f"of your files in `{coll.folder}` are deleted"
                + (", **with the model that learned its style** (Learn my style would start again from the shipped "
                   "model)" if learned else "") + ". Your original files and the other collections are not touched.")

    def delete_saved_collection(self, name: str) -> str:
        """Delete the saved collection `name` (its folder: copies of its files, windows, encodings and the model
        that learned its style) and take it off the map, the styles, the neighbours and the copy check at once.
        Returns a sentence saying what went. UserError when it cannot be (see `_managed`)."""
        with self._adding:
            coll = self._managed(name)
            learned = learned_checkpoint(coll) is not None
            joined = any(c.name == coll.name and not c.builtin for c in self.s.collections)
            delete_collection(coll.name, self.collections_root)
            if joined:
                self._rejoin([c for c in self.s.collections if c.name != coll.name])
        return (f"**{coll.name}** is deleted ({len(coll.corpus.tunes)} melodies"
                + (", and the model that learned its style" if learned else "") + ")"
                + ("; it has left the map and the style menus." if joined else "."))

    def rename_saved_collection(self, old: str, new: str) -> str:
        """Rename the saved collection `old` to `new`; on the map, the styles and the neighbours at once. Returns a
        sentence. UserError when `new` is taken (a corpus style, Pop, another collection) or cannot name one."""
        with self._adding:
            coll = self._managed(old)
            renamed = rename_collection(coll.name, new, self.collections_root)
            if any(c.name == coll.name and not c.builtin for c in self.s.collections):
                self._rejoin([renamed if c.name == coll.name and not c.builtin else c for c in self.s.collections])
                where = "; the map and the style menus call it so now."
            else:
                where = "."
        return f"**{coll.name}** is now called **{renamed.name}**{where}"

    def _rejoin(self, colls: Sequence[Collection]) -> None:
        """Serve the base corpus with exactly these collections (their encodings are cached: seconds)."""
        base = self.s.base
        self.use_space(join(base, list(colls), threads=1) if colls else base)

    def active_collection_names(self) -> list[str]:
        """The collections on the map now, yours last (what Random from a collection offers)."""
        return [c.name for c in sorted(self.s.collections, key=lambda c: not c.builtin)]

    def random_from_collection(self, state, play, name: str, seed: int):
        """A new melody drawn from the collection's own melodies (explorer.latent.collections.draw_near: near a random
        one of its windows, where Random draws from the whole corpus's Gaussian): (session, rendered) as Random
        gives. bench/collections.md: closer to the collection and to held-out songs like it than Random or the
        collection's Gaussian (sample_in_style); a draw the copy check calls a likely copy is drawn again (26.7% of
        the draws were, 0.0% are). UserError when no such collection is on the map (or it is too small to be a
        style)."""
        names = self.active_collection_names()
        if not names:
            raise UserError("Add a collection first: Random from a collection draws from one on the map.")
        name = name or names[-1]
        if name not in names:
            raise UserError(f"{name!r} is not on the map now; choose one of {', '.join(names)}.")
        if name not in self.s.style_names:
            raise UserError(f"{name!r} holds too few windows to draw from; add more of its music first.")
        z = draw_near(self.s, name, 1, seed)
        state = self.set_z(state, z[0], f"Random from {COLLECTION_LABELS.get(name, name)} (seed {seed})")
        return self.shown(state, play)

    def saved_collection_names(self) -> list[str]:
        """The collections saved on this computer (what Learn my style offers); none on a shared deployment."""
        return saved_collections(self.collections_root) if self.add_collections else []

    def collections_summary(self) -> str:
        """The collections beside the corpus now, in words (markdown)."""
        if not self.s.collections:
            return "No collection of your own yet."
        return "On the map now: " + "; ".join(
            f"**{c.name}** ({len(c.corpus.tunes)} melodies, {c.windows} windows)" for c in self.s.collections) + "."


def report_markdown(coll: Collection | None, files: Sequence[FileReport], styles: Sequence[str] = (),
                    escape: Callable[[str], str] = str) -> str:
    """An add's report as markdown: a summary line, then one line per file. `styles`: the style menus' names now
    (a collection needs 2 windows to be a style); `escape` makes a name safe to show."""
    added = [f for f in files if f.added]
    if coll is None or not added:
        head = "**Nothing was added**: no file held a melody that could be used." + (
            f" The collection **{escape(coll.name)}** is as it was." if coll is not None else "")
    else:
        label = COLLECTION_LABELS.get(coll.name, coll.name)
        head = (f"**{escape(label)}**: {len(added)} of {len(files)} file(s) added; the collection now holds "
                f"{len(coll.corpus.tunes)} melodies ({coll.windows} four-bar windows), on the map in its own colour, "
                f"in the neighbours, {'in *Toward style* ' if coll.name in styles else ''}and in the copy check"
                f"{'' if coll.name in styles else ' (a style needs at least 2 windows)'}. " + (
                    "It lives in this page only: not saved, seen by no one else, gone when you close or reload "
                    "the page." if coll.unsaved else
                    f"Saved in `{escape(str(coll.folder))}`; "
                    f"it comes back with `python app.py --collection \"{escape(coll.name)}\"`."))
    lines = [f"- {'✓' if f.added else '✗'} {escape(f.sentence())}" for f in files]
    return "\n".join([head, "", *lines])
