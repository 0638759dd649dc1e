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
    join,
    read_collection,
    saved_collections,
)
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
