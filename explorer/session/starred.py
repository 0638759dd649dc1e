"""The History screen: go back to an entry, undo and redo, star and name melodies, export the starred."""

from __future__ import annotations

import re
import zipfile

import numpy as np

from explorer.errors import UserError
from explorer.latent.generation import stack_details
from explorer.media.files import EXPORT_RATE, Playback, chord_events
from explorer.session import history
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.state import Session
from vae.midi_export import concat_sections, write_midi_bytes
from vae.scales import apply_key


class HistoryActions(MelodyActions):
    """Moving through the session's history and exporting its starred melodies."""

    def go_to(self, state: Session, entry_id: int, play: Playback) -> tuple[Session, Rendered]:
        """Show history entry `entry_id` again (explorer.session.history: the history is unchanged)."""
        try:
            state = history.go_to(state, int(entry_id))
        except (KeyError, TypeError, ValueError):
            raise UserError("That melody is no longer in the history.") from None
        return self.shown(state, play)

    def undo(self, state: Session, play: Playback) -> tuple[Session, Rendered]:
        target = history.undo_target(state)
        if target is None:
            raise UserError("Nothing to undo: this is the first melody of the history.")
        return self.go_to(state, target, play)

    def redo(self, state: Session, play: Playback) -> tuple[Session, Rendered]:
        target = history.redo_target(state)
        if target is None:
            raise UserError("Nothing to redo.")
        return self.go_to(state, target, play)

    def star(self, state: Session, on: bool = True, name: str | None = None) -> Session:
        """Star (or unstar) the current melody and optionally name it; a name also becomes its title, and the melody
        is that name, no longer "after" the move that made it (its share link says so)."""
        if history.current(state) is None:
            raise UserError("Load or create a melody first.")
        name = None if name is None else " ".join(str(name).split())[:80]
        state = history.edit(state, state.cursor, starred=bool(on), name=name)
        return state.but(title=name, move="") if name else state

    def export_starred(self, state: Session, play: Playback) -> dict:
        """The starred melodies together: one MIDI file with each as a 4-bar section, a zip with one MIDI
        file each, and the whole as WAV. Returns {"midi", "zip", "wav", "count"}."""
        entries = history.starred(state)
        if not entries:
            raise UserError("Star some melodies first (★ under the player).")
        tokens = self.s.decode(np.stack([e.z for e in entries]), play.temperature, play.seed,
                               stack_details([e.detail for e in entries], self.s.detail_shape))
        sections = [apply_key(self.s.notes(t), play.key, play.scale)[0] for t in tokens]
        meters = {e.meter for e in entries}
        meter = meters.pop() if len(meters) == 1 else "4/4"
        steps = self.s.format.window_steps
        wav, mid = self.files.write_outputs(concat_sections(sections, steps), play, "starred", meter=meter,
                                      sample_rate=EXPORT_RATE)
        zpath = self.files.path("starred", ".zip")
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
            for i, (e, notes) in enumerate(zip(entries, sections, strict=True)):
                safe = re.sub(r"[^\w\- ]+", "", e.name or e.title)[:40].strip() or "melody"
                back, program, track = self.files.backing(notes, play, e.meter)
                data = write_midi_bytes(notes, tempo=play.tempo, program=play.program,
                                        meter=e.meter, backing=back, backing_program=program, backing_name=track,
                                        chords=chord_events(self.files.chords(notes, play, e.meter)))
                zf.writestr(f"{i + 1:02d} {safe}.mid", data)
        return {"midi": mid, "zip": str(zpath), "wav": wav, "count": len(entries)}
