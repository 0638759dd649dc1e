"""Your own collection from the page: files read into a saved collection, joined to the app's latent space.

On your own computer the app has one corpus, so an added collection joins it for every tab (same model: every
session's melody stays where it is). A shared deployment keeps one corpus for every visitor: there adding is
refused with a sentence saying where it works (`add_collections` False, set by the page from app.py's flags).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
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
    rename_collection,
    saved_collections,
)
from explorer.session.learn import learned_checkpoint, model_folder
from vae.checkpoint import data_config
from vae.corpus import COLLECTION_LABELS

# One add from the page: each uploaded file is also capped at 5 MB by the page (explorer.ui.page.MAX_UPLOAD).
PAGE_LIMITS = Limits(max_files=200, max_file_bytes=5 * 2**20, max_total_bytes=100 * 2**20)
HOSTED = ("Adding a collection works on your own computer: run `make run` there (or `python -m explorer collection "
          "add NAME FOLDER`); this shared demo keeps one corpus for every visitor.")


class CollectionActions:
    """Adding a collection of the composer's own files to the map, the neighbours, the styles and the copy check."""

    add_collections = True  # False on a shared deployment (explorer.ui.page.build_ui)
    collections_root: Path | None = None  # where collections are saved; None: explorer.latent.collections' default
    _adding = threading.Lock()  # one add at a time in this process: each builds on the space the last one made

    def limits_text(self) -> str:
        """What one add may hold, in words (shown on the page)."""
        if not self.add_collections:
            return HOSTED
        mb = PAGE_LIMITS.max_total_bytes // 2**20
        return (f"Up to {PAGE_LIMITS.max_files} files a go (a zip counts by its files), each at most "
                f"{PAGE_LIMITS.max_file_bytes // 2**20} MB, {mb} MB together; 50 songs take about 10 seconds. "
                "For more, use `python -m explorer collection add NAME FOLDER` and start with "
                "`python app.py --collection NAME`.")

    def add_collection(self, name: str, paths: Sequence[str | Path], names: Sequence[str] | None = None,
                       progress: Callable[[float, str], None] | None = None) -> tuple[Collection | None, list[FileReport]]:
        """Add files (MIDI, ABC, zips of them) to the collection `name`, save it, and serve the corpus with it:
        returns (the collection, or None when no file could be added; one FileReport per file). Raises UserError
        when adding is off here, no file was given, or the name cannot be used."""
        if not self.add_collections:
            raise UserError(HOSTED)
        if not paths:
            raise UserError("Drop some MIDI or ABC files, or a zip of them, first.")
        name = check_name(name)
        report = progress or (lambda f, m: None)
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
        collection's Gaussian (sample_in_style), and a quarter of the draws share >= 2 bars with one of its windows
        (the copy check says so on the page). UserError when no such collection is on the map (or it is too small
        to be a style)."""
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
        return state, self.render(state, play)

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
                f"{'' if coll.name in styles else ' (a style needs at least 2 windows)'}. Saved in "
                f"`{escape(str(coll.folder))}`; "
                f"it comes back with `python app.py --collection \"{escape(coll.name)}\"`.")
    lines = [f"- {'✓' if f.added else '✗'} {escape(f.sentence())}" for f in files]
    return "\n".join([head, "", *lines])
