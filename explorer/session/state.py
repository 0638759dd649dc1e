"""Per-browser state: one typed record of everything a session holds (kept in gr.State, never shared)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Locks:
    """What the composer locked on the Sliders screen: bars (0-based, sorted), the rhythm, the pitches. Regenerate,
    the sliders and the pushes keep them; a history entry and a share link carry them."""

    bars: tuple = ()
    rhythm: bool = False
    pitches: bool = False

    def __bool__(self) -> bool:
        return bool(self.bars) or self.rhythm or self.pitches


@dataclass(frozen=True)
class Preview:
    """A melody heard while a slider is dragged, whose panel is not built yet (Handlers.finish completes it)."""

    tokens: np.ndarray  # what the drag decoded [T]
    wav: str  # the audio file it played


@dataclass(frozen=True)
class Drawn:
    """The last melodies drawn in a style on the Transform screen, for its pick slider."""

    z: np.ndarray  # their latents [n, Z]
    style: str  # the collection they were drawn from


@dataclass(frozen=True)
class Slot:
    """A melody kept in one of the Blend screen's slots A-D."""

    z: np.ndarray  # its latent [Z]
    title: str  # its title when it was kept
    detail: np.ndarray | None = None  # its per-bar detail [U, C] (vae.fidelity), None = none


@dataclass(frozen=True)
class Waypoint:
    """A melody added on the Compose screen for the piece to walk through."""

    z: np.ndarray  # its latent [Z]
    title: str  # its title when it was added (the form's notice names it)
    detail: np.ndarray | None = None  # its per-bar detail [U, C] (vae.fidelity), None = none


@dataclass(frozen=True)
class Piece:
    """The last composed piece (explorer.session.compose), what regenerate_section and a section's load need."""

    z: np.ndarray  # each section's latent [sections, Z]
    detail: np.ndarray | None  # each section's per-bar detail [sections, U, C], None = none
    tokens: np.ndarray  # the sections as played [sections, T]
    labels: tuple  # each section's words ("bars 1-4 (waypoint 1)")


@dataclass(frozen=True)
class Candidate:
    """One melody found in an upload (a MIDI track or channel, a typed ABC tune, the notes drawn), cut in windows."""

    label: str  # the candidates menu's words ("Melody (bar 1-32, 120 notes)")
    name: str  # the label without its bar span, for the title
    windows: np.ndarray  # its windows' tokens [n, T]
    starts: list  # each window's first step in the melody
    window_labels: list  # each window's bars in words ("bars 1-4"), for the window menu and the title
    score: float  # how much it sounds like the tune (the menu lists the best first)


@dataclass(frozen=True)
class Upload:
    """The last file, ABC tune or drawn notes read (explorer.session.upload), before one window is loaded."""

    name: str  # the file's name, the ABC tune's title or "Your notes"
    candidates: tuple  # Candidate, best first
    tempo: float | None = None  # the file's tempo in BPM, None where it has none (ABC, drawn notes)
    warnings: tuple = ()  # what the reader noticed, as sentences shown beside the melody
    meter: str = "4/4"  # the time signature the windows were cut in


@dataclass(frozen=True)
class Session:
    """What one user is working on. Handlers return a new Session instead of changing the one they got.

    z: the current melody's latent [Z] (None before the first melody); origin_*: what "reset" returns to
    (its z, the tokens it was encoded from, the corpus tune it came from); title: shown above the roll;
    upload: the last MIDI file, ABC tune or drawn notes read (Upload); slots: A-D for blends
    (letter -> Slot); waypoints: for compose (Waypoint each); transform_base: the z the current attribute
    or style move started from (transform_key names that move: a different move starts from the current z); neighbours: corpus windows listed for the upload; blend_z: the last
    blend's z [steps, Z]; drawn: the last melodies drawn in a style (Drawn); sliders: the slider values
    the user set [K] (a steered move lands near them, not exactly on them), None after any other change;
    meter: the time signature of the melody loaded (corpus tune or upload), "4/4" for new ones; detail: the
    per-bar detail [U, C] that brings an upload back note for note where z alone cannot (vae.fidelity), kept
    while z moves (sliders, pushes, style moves, variations), None for melodies that need none.
    """

    z: np.ndarray | None = None
    origin_z: np.ndarray | None = None
    origin_tokens: np.ndarray | None = None
    origin_tune: int | None = None
    detail: np.ndarray | None = None  # the current melody's per-bar detail [U, C] (vae.fidelity), None = none
    origin_detail: np.ndarray | None = None  # the detail "reset" returns to
    title: str = ""
    upload: Upload | None = None
    slots: dict = field(default_factory=dict)  # "A".."D" -> Slot
    waypoints: tuple = ()  # Waypoint, in the order added
    transform_base: np.ndarray | None = None
    transform_key: str = ""  # which move transform_base belongs to ("attribute:note_density", "style:bach")
    neighbours: tuple = ()
    blend_z: np.ndarray | None = None
    blend_detail: np.ndarray | None = None  # the last blend's details [steps, U, C] (None: no slot had one)
    drawn: Drawn | None = None
    draft: tuple = ()  # the note editor's melody: Note tuples on the 16th grid of one window (explorer.session.editor)
    piece: Piece | None = None  # the last composed piece
    sliders: np.ndarray | None = None
    meter: str = "4/4"  # the current melody's time signature: bar lines, bar numbers, accents, MIDI export
    loop: bool = False  # the page's Loop checkbox (explorer.ui.common.Page.session reads it): the share link carries it
    move: str = ""  # the control that made the current melody ("slider:3"; explorer.session.history coalesces runs of it)
    made_by: str = ""  # that move in words, for the history ("Notes +1.2", "Toward Bach"); "" = the title says it
    move_from: np.ndarray | None = None  # slider values where the current run of one slider's moves began
    history: tuple = ()  # explorer.session.history.Entry, oldest first: every melody reached, with stars and names
    cursor: int = 0  # the id of the history entry being shown (0 before the first)
    # A melody heard while a slider is dragged, whose panel (title, downloads, originality, share code, map star,
    # history) is not updated yet (Handlers.finish completes it on release); None otherwise.
    preview: Preview | None = None
    # The last Regenerate's alternatives: (z [Z], tokens [T]) each, likeliest first (explorer.session.regenerate); the tokens
    # are what was offered (z alone decodes them only with the locks forced). regenerated_title names what was kept.
    regenerated: tuple = ()
    regenerated_title: str = ""
    locks: Locks = Locks()  # the page's lock checkboxes (explorer.ui.regenerate_panel), as every event reads them

    def but(self, **changes) -> Session:
        """A copy with some fields changed."""
        return replace(self, **changes)


def new_state() -> Session:
    """A fresh session."""
    return Session()
