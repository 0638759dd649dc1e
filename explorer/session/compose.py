"""The Compose screen: waypoints, a longer piece through them in a form, and one section of it drawn anew."""

from __future__ import annotations

import numpy as np

from explorer.errors import UserError
from explorer.latent import generation
from explorer.latent.generation import detail_row, stack_details
from explorer.latent.space import join_sections
from explorer.media import figures
from explorer.media.files import EXPORT_RATE, Playback
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.regenerate import regenerate as regenerate_melody
from explorer.session.state import Piece, Session, Waypoint
from vae.chord_fit import fit_notes
from vae.chords import parse_progression

PIECE_METER = "4/4"  # the meter a piece is written and heard in (_piece_files), so its chords' bars too


class ComposeActions(MelodyActions):
    """Waypoints and pieces."""

    def add_waypoint(self, state: Session) -> Session:
        if state.z is None:
            raise UserError("Load or create a melody first.")
        return state.but(waypoints=(*state.waypoints, Waypoint(state.z, state.title, state.detail)))

    def clear_waypoints(self, state: Session) -> Session:
        return state.but(waypoints=())

    def compose_kept(self, state: Session, bars: int, play: Playback, form: str = "through") -> tuple[Session, dict]:
        """compose, the piece kept in the session (state.piece: what regenerate_section redraws a section of)."""
        piece = self.compose(state, bars, play, form)
        return state.but(piece=kept(piece)), piece

    def compose(self, state: Session, bars: int, play: Playback, form: str = "through") -> dict:
        """A longer piece through the waypoints in a form: figure, notes, WAV and MIDI; every waypoint is a
        section of its own when the piece has room (a 4-bar section each), and the reply names which. "z", "detail",
        "tokens" (the sections as played [sections, T]) and "labels" are what state.piece keeps (kept) for
        regenerate_section.

        Over the composer's chords (play.progression) the piece is drawn over them: the typed line runs from the
        top of every section, as the piece's backing plays it (MelodyFiles.chords), and each section's beat notes
        are moved onto its chords (fit_sections_to_chords), so what is fitted is what is heard. "chord_note" says
        how a line longer or shorter than a section is laid over it ('' when it fills one bar for bar)."""
        # a bad chord line's sentence comes before any work
        progression = parse_progression(play.progression) if play.progression.strip() else None
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
            z, line, detail = self.s.compose(np.stack([w.z for w in wps]), int(bars), play.temperature, play.seed,
                                             form, stack_details([w.detail for w in wps], self.s.detail_shape))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        sections = line.reshape(len(z), -1)
        which = [next((j + 1 for j, w in enumerate(wps) if np.allclose(zz, w.z, atol=1e-6)), None) for zz in z]
        if progression:
            z, detail, sections = self.fit_sections_to_chords(z, detail, sections, play)
        labels = [f"bars {per * i + 1}-{per * i + per}" + (f" (waypoint {w})" if w else "") for i, w in enumerate(which)]
        used = sorted({w for w in which if w})
        left_out = [j + 1 for j in range(len(wps)) if j + 1 not in used]
        return {"z": z, "detail": detail, "tokens": sections, **self._piece_files(sections, labels, play),
                "sections": len(z), "waypoint_sections": which, "labels": labels, "used": used, "left_out": left_out,
                "notice": left_out_notice(form, wps, used, left_out),
                "chord_note": sections_chord_note(len(progression), per) if progression else ""}

    def fit_sections_to_chords(self, z: np.ndarray, detail: np.ndarray | None, sections: np.ndarray, play: Playback,
                      only: int | None = None, keep_bars=()) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """A piece's sections (z [S, Z], detail [S, U, C] or None, tokens [S, T]) with each section's melody fitted
        to the typed chords (play.progression) as its backing plays them, from the top of the section
        (MelodyFiles.chords), as Random fits its draws: beat notes moved to chord tones, rhythm and contour kept
        (vae.chord_fit), and the section held note for note by the model (hold_notes: z alone, a per-bar detail
        or a refit). only: fit that section (0-based) alone, its notes starting in keep_bars (0-based bars of it)
        as they were. A piece is heard as decoded (no key or scale setting), so its notes as held are its notes
        as heard. Returns new arrays (the sections joined again: join_sections); a section already on its
        chords keeps its z and detail."""
        z = np.array(z, np.float32)
        sections = np.array(sections, np.int64)
        steps, bar = sections.shape[1], self.s.format.steps_per_bar
        keep = {int(b) for b in keep_bars}
        new_detail = None if detail is None else np.array(detail, np.float32)
        for i in range(len(sections)) if only is None else [only]:
            notes = sorted(self.s.notes(sections[i]), key=lambda n: (n.start, n.pitch))
            if not notes:
                continue
            chords = self.files.chords(notes, play, PIECE_METER)
            moved = fit_notes(notes, chords, PIECE_METER)
            moved = [n if n.start // bar in keep else m for n, m in zip(notes, moved, strict=True)]
            if all(a.pitch == b.pitch for a, b in zip(notes, moved, strict=True)):
                continue
            tokens = self.s.model.tokenizer.encode(moved, steps)
            z[i], d_i = self.hold_notes(tokens, z[i])
            sections[i] = tokens
            if new_detail is None and d_i is not None:
                new_detail = np.zeros((len(sections), *self.s.detail_shape), np.float32)
            if new_detail is not None:
                new_detail[i] = 0.0 if d_i is None else d_i
        return z, new_detail, join_sections(sections).reshape(len(sections), -1)

    def _piece_files(self, sections: np.ndarray, labels: list[str], play: Playback) -> dict:
        """A piece's sections [S, T] heard and seen: {"notes" (the whole piece), "figure", "wav", "midi"}."""
        fig = figures.strip([self.s.notes(t) for t in sections], labels, self.s.format.window_steps)
        whole = self.s.notes(sections.reshape(-1))
        wav, mid = self.files.write_outputs(whole, play, "piece", sample_rate=EXPORT_RATE)
        return {"notes": whole, "figure": fig, "wav": wav, "midi": mid}

    def load_section(self, state: Session, section: int, play: Playback) -> tuple[Session, Rendered]:
        """Section `section` (1-based, clamped) of the composed piece (state.piece) as the current melody, as
        heard in the piece (its z and detail)."""
        piece = state.piece
        if piece is None:
            raise UserError("Compose a piece first.")
        i = min(max(int(section) - 1, 0), len(piece.z) - 1)
        state = self.set_z(state, piece.z[i], f"Composed piece, {piece.labels[i]}", detail=detail_row(piece.detail, i))
        return self.shown(state, play)

    def regenerate_section(self, state: Session, section: int, play: Playback, seed: int,
                           keep_bars=()) -> tuple[Session, dict]:
        """Section `section` (1-based) of the composed piece (state.piece) drawn anew, every other section note for
        note as it was: the likeliest new melody near the section's z that differs from it (Regenerate's method,
        explorer.session.regenerate; `seed` picks the draw), keeping the section's bars in keep_bars (0-based:
        "regenerate one bar" keeps the others) token for token. The chords stay where they were: a chord backing
        harmonises each section on its own, and typed chords run from the top of every section; over typed chords
        the new section's beat notes are moved onto them as compose's were (fit_sections_to_chords; the kept bars'
        notes as they were). The section's z and detail play it again (hold_notes), so loading it into the player
        brings it as heard. Returns the state (its piece updated) and compose's reply for the new piece (figure,
        notes, wav, midi, labels, tokens)."""
        piece = state.piece
        if piece is None:
            raise UserError("Compose a piece first.")
        n = len(piece.z)
        if not 1 <= int(section) <= n:
            raise UserError(f"The piece has {n} sections: choose one from 1 to {n}.")
        if play.progression.strip():
            parse_progression(play.progression)  # a bad line's sentence before any work
        i = int(section) - 1
        old = np.asarray(piece.tokens, np.int64)
        out = regenerate_melody(self.s, piece.z[i], old[i], sorted({int(b) for b in keep_bars}), n=1,
                                seed=int(seed))
        new = out.alternatives[0]
        z_i, detail_i = self.hold_notes(new.tokens, new.z)
        sections = old.copy()
        sections[i] = new.tokens
        # a section that now ends on a sounding note must not run on into the next one (join_sections); the
        # others' tokens stay as they were
        sections = join_sections(sections).reshape(n, -1)
        z = np.array(piece.z, np.float32)
        z[i] = z_i
        detail = piece.detail
        if detail is not None or detail_i is not None:
            detail = np.zeros((n, *self.s.detail_shape), np.float32) if detail is None else np.array(detail, np.float32)
            detail[i] = 0.0 if detail_i is None else detail_i
        if play.progression.strip():  # the new section over the typed chords, as compose drew the piece
            z, detail, sections = self.fit_sections_to_chords(z, detail, sections, play, only=i, keep_bars=keep_bars)
        per = self.s.format.bars
        labels = list(piece.labels)
        kept = [b + 1 for b in np.flatnonzero(out.locked_bars)]
        labels[i] = f"bars {per * i + 1}-{per * i + per} (new" + (
            f", bar{'s' if len(kept) > 1 else ''} {', '.join(map(str, (per * i + b for b in kept)))} kept)" if kept
            else ")")
        state = state.but(piece=Piece(z, detail, sections, tuple(labels)))
        return state, {"z": z, "detail": detail, "tokens": sections, "labels": labels, "section": i + 1,
                       **self._piece_files(sections, labels, play)}


def kept(piece: dict) -> Piece:
    """What a session keeps of compose's reply (Session.piece): z, detail, the sections as played (tokens), labels."""
    return Piece(piece["z"], piece["detail"], piece["tokens"], tuple(piece["labels"]))


def sections_chord_note(have: int, per: int) -> str:
    """One sentence on how a typed line of `have` bars is laid over a piece of `per`-bar sections, '' when it fills
    a section bar for bar: it runs from the top of every section (the backing plays it so), cut or repeated."""
    if have > per:
        cut = f"bar {have} is" if have - per == 1 else f"bars {per + 1}-{have} are"
        return (f"Your chords run {have} bars and each section of the piece {per}: every section plays the first {per} "
                f"from its top, and {cut} left out.")
    if have < per:
        return (f"Your chords run {have} {'bar' if have == 1 else 'bars'} and each section of the piece {per}: they "
                "repeat from the top to fill every section.")
    return ""


def left_out_notice(form: str, waypoints, used: list[int], left_out: list[int]) -> str:
    """'' when the piece uses every waypoint; else a sentence naming the waypoints (1-based) the form used and
    those it left out, e.g. 'AABA uses waypoints 1 (A: Reel) and 2 (B: Jig); it left out waypoint 3 (Air).'"""
    if not left_out:
        return ""

    def names(numbers: list[int], letters: str = "") -> str:
        parts = [f"{n} ({letters[i] + ': ' if i < len(letters) else ''}{waypoints[n - 1].title or 'untitled'})"
                 for i, n in enumerate(numbers)]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return ("waypoint " if len(parts) == 1 else "waypoints ") + joined

    letters = "AB" if form == "AABA" else ""
    uses = names(used, letters) if used else "none of the waypoints"
    return (f"{form} uses {uses}; it left out {names(left_out)}. Choose 'through' to walk through every waypoint, "
            "or clear the waypoints and add only the ones you want.")
