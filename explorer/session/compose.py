"""The Compose screen: waypoints and a longer piece through them in a form."""

from __future__ import annotations

import numpy as np

from explorer.errors import UserError
from explorer.latent import generation
from explorer.latent.generation import stack_details
from explorer.media import figures
from explorer.media.files import EXPORT_RATE, Playback
from explorer.session.melody import MelodyActions
from explorer.session.state import Session


class ComposeActions(MelodyActions):
    """Waypoints and pieces."""

    def add_waypoint(self, state: Session) -> Session:
        if state.z is None:
            raise UserError("Load or create a melody first.")
        return state.but(waypoints=(*state.waypoints, {"z": state.z, "title": state.title, "detail": state.detail}))

    def compose(self, state: Session, bars: int, play: Playback, form: str = "through") -> dict:
        """A longer piece through the waypoints in a form: figure, notes, WAV and MIDI; every waypoint is a
        section of its own when the piece has room (a 4-bar section each), and the reply names which."""
        wps = state.waypoints
        if len(wps) < 2:
            raise UserError("Add at least two waypoints (load a melody, then 'Add as waypoint').")
        if form not in generation.FORMS:
            raise UserError(f"form must be one of {', '.join(generation.FORMS)}, not {str(form)[:40]!r}.")
        per = self.s.format.bars  # bars per section: the model's window
        sections_n = generation.sections_for_bars(int(bars), per)
        if form == "through" and sections_n < len(wps):
            raise UserError(f"{len(wps)} waypoints need at least {len(wps) * per} bars (a {per}-bar "
                            f"section each); make the piece longer or remove a waypoint.")
        try:
            z, line, detail = self.s.compose(np.stack([w["z"] for w in wps]), int(bars), play.temperature, play.seed,
                                             form, stack_details([w.get("detail") for w in wps], self.s.detail_shape))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        sections = line.reshape(len(z), -1)
        notes = [self.s.notes(t) for t in sections]
        which = [next((j + 1 for j, w in enumerate(wps) if np.allclose(zz, w["z"], atol=1e-6)), None) for zz in z]
        labels = [f"bars {per * i + 1}-{per * i + per}" + (f" (waypoint {w})" if w else "") for i, w in enumerate(which)]
        fig = figures.strip(notes, labels)
        whole = self.s.notes(line)
        wav, mid = self.files.write_outputs(whole, play, "piece", sample_rate=EXPORT_RATE)
        used = sorted({w for w in which if w})
        left_out = [j + 1 for j in range(len(wps)) if j + 1 not in used]
        return {"z": z, "detail": detail, "notes": whole, "figure": fig, "wav": wav, "midi": mid, "sections": len(z),
                "waypoint_sections": which, "labels": labels, "used": used, "left_out": left_out,
                "notice": left_out_notice(form, wps, used, left_out)}


def left_out_notice(form: str, waypoints, used: list[int], left_out: list[int]) -> str:
    """'' when the piece uses every waypoint; else a sentence naming the waypoints (1-based) the form used and
    those it left out, e.g. 'AABA uses waypoints 1 (A: Reel) and 2 (B: Jig); it left out waypoint 3 (Air).'"""
    if not left_out:
        return ""

    def names(numbers: list[int], letters: str = "") -> str:
        parts = [f"{n} ({letters[i] + ': ' if i < len(letters) else ''}{waypoints[n - 1]['title'] or 'untitled'})"
                 for i, n in enumerate(numbers)]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return ("waypoint " if len(parts) == 1 else "waypoints ") + joined

    letters = "AB" if form == "AABA" else ""
    uses = names(used, letters) if used else "none of the waypoints"
    return (f"{form} uses {uses}; it left out {names(left_out)}. Choose 'through' to walk through every waypoint, "
            "or clear the waypoints and add only the ones you want.")
