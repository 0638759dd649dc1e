"""The melodies a session has reached: a history tree with undo/redo, stars and names (pure functions on Session).

Every melody the user reaches (slider move, random, blend step, transform, upload, map click) is an entry;
its parent is the melody it was made from, so undo goes back the way you came and redo returns along the
newest branch. A run of moves of one control (dragging one slider, re-doing one push) updates one entry
instead of adding one per drag position. Entries hold z, what reset needs and the locks the melody had (undo brings
them back with it); nothing is rendered here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from explorer.session.state import Locks, Session

MAX_ENTRIES = 60  # the oldest unstarred entries go first beyond this
LABEL_CHARS = 70


@dataclass(frozen=True)
class Entry:
    """One melody reached: id (increasing), parent id (None for a first melody), z and what reset needs."""

    id: int
    parent: int | None
    z: np.ndarray
    title: str
    move: str = ""  # the control that made it ("slider:3", "attribute:note_density"; "" for anything else)
    origin_z: np.ndarray | None = None
    origin_tokens: np.ndarray | None = None
    origin_tune: int | None = None
    meter: str = "4/4"
    detail: np.ndarray | None = None  # the melody's per-bar detail (vae.fidelity), None = none
    origin_detail: np.ndarray | None = None
    starred: bool = False
    name: str = ""
    made_by: str = ""  # what made it, in words ("Notes +1.2", "Toward Bach", "Upload song.mid · bars 9-12")
    locks: Locks = Locks()  # the locks it had when it was last shown (set_locks keeps the current entry's up to date)

    @property
    def label(self) -> str:
        """'3. Notes +1.2 — after The Little Heathy Hill': what made the melody, then what it is."""
        if self.name or not self.made_by:
            what = self.name or self.title
        elif self.made_by.startswith("Upload "):  # it names the file and the bars already
            what = self.made_by
        else:
            what = f"{self.made_by} — {self.title}"
        text = f"{self.id}. {'★ ' if self.starred else ''}{what}"
        return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def same_detail(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Whether two melodies' details (None = none) are the same."""
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def current(st: Session) -> Entry | None:
    return next((e for e in st.history if e.id == st.cursor), None)


def record(st: Session) -> Session:
    """Add the session's current melody to its history (or update the entry when the same control moved
    again from a leaf); nothing changes when it is already the current entry."""
    if st.z is None:
        return st
    now = current(st)
    if now is not None and np.array_equal(now.z, st.z) and same_detail(now.detail, st.detail):
        return st
    fields = dict(z=st.z, title=st.title, move=st.move, made_by=st.made_by, origin_z=st.origin_z,
                  origin_tokens=st.origin_tokens,
                  origin_tune=st.origin_tune, meter=st.meter, detail=st.detail, origin_detail=st.origin_detail,
                  locks=st.locks)
    leaf = now is not None and not any(e.parent == now.id for e in st.history)
    if now is not None and st.move and now.move == st.move and leaf and not now.starred:
        entry = replace(now, **fields)
        return st.but(history=tuple(entry if e.id == now.id else e for e in st.history))
    new_id = max((e.id for e in st.history), default=0) + 1
    entries = (*st.history, Entry(new_id, now.id if now else None, **fields))
    while len(entries) > MAX_ENTRIES:
        drop = next((e for e in entries if not e.starred and e.id != new_id), None)
        if drop is None:
            break
        entries = tuple(e for e in entries if e is not drop)
    return st.but(history=entries, cursor=new_id)


def reached(st: Session) -> Session:
    """The session once its melody is shown to the user: no drag preview pending, the melody recorded. Every action
    that brings a melody to the player ends here (MelodyActions.shown, MelodyActions.release); a drag's frames do
    not, so a drag is one entry, made when the slider is let go."""
    return record(st.but(preview=None))


def go_to(st: Session, entry_id: int) -> Session:
    """Make history entry `entry_id` the current melody (its reset origin and its locks too); the history is
    unchanged."""
    e = next((e for e in st.history if e.id == entry_id), None)
    if e is None:
        raise KeyError(entry_id)
    return st.but(z=e.z, title=e.title, origin_z=e.origin_z, origin_tokens=e.origin_tokens,
                  origin_tune=e.origin_tune, meter=e.meter, detail=e.detail, origin_detail=e.origin_detail, sliders=None, transform_base=None, transform_key="",
                  move="", cursor=e.id, locks=e.locks)


def set_locks(st: Session, locks: Locks) -> Session:
    """The session with `locks` (the page's lock checkboxes as they are now), kept by the current history entry too,
    so that going back to it later brings them back with its melody."""
    if locks == st.locks and (current(st) is None or current(st).locks == locks):
        return st
    return st.but(locks=locks, history=tuple(replace(e, locks=locks) if e.id == st.cursor else e for e in st.history))


def undo_target(st: Session) -> int | None:
    """The entry undo goes to: the current entry's parent (None at the start)."""
    now = current(st)
    if now is None or now.parent is None or not any(e.id == now.parent for e in st.history):
        return None
    return now.parent


def redo_target(st: Session) -> int | None:
    """The entry redo goes to: the newest child of the current entry (None when it has none)."""
    kids = [e.id for e in st.history if e.parent == st.cursor]
    return max(kids) if kids else None


def edit(st: Session, entry_id: int, starred: bool | None = None, name: str | None = None) -> Session:
    """Star / unstar or name an entry."""
    if not any(e.id == entry_id for e in st.history):
        raise KeyError(entry_id)
    changes = {k: v for k, v in (("starred", starred), ("name", name)) if v is not None}
    return st.but(history=tuple(replace(e, **changes) if e.id == entry_id else e for e in st.history))


def starred(st: Session) -> list[Entry]:
    """The starred entries, oldest first."""
    return [e for e in st.history if e.starred]
