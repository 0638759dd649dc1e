"""Your own melody in: a MIDI file, typed ABC or the note editor's draft, fitted and loaded as the current melody."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from explorer.errors import UserError
from explorer.media import figures
from explorer.media.files import Playback
from explorer.session import editor
from explorer.session.melody import MelodyActions, Rendered
from explorer.session.state import Candidate, Session, Upload, new_state
from explorer.session.words import (
    count,
)
from vae.errors import MusicReadError
from vae.fidelity import note_f1
from vae.meter import Meter
from vae.scales import apply_key

ABC_SECONDS = 5.0  # a typed ABC tune parses in milliseconds; a parse still running after this is stopped


class UploadActions(MelodyActions):
    """Reading uploads, ABC and drawn notes into the session, and loading one of their windows."""

    def upload(self, state: Session, path: str) -> Session:
        """Read a MIDI file into state.upload (candidates best first). Raises MusicReadError with one sentence."""
        from vae.midi_import import extract_melodies

        if not path:
            raise UserError("Choose a MIDI file first.")
        mel = extract_melodies(Path(path))
        cands = []
        for c in mel.candidates:
            if not len(c.windows):
                continue
            cands.append(Candidate(c.label, c.label.rsplit(" (bar", 1)[0], np.asarray(c.windows, dtype=np.int64),
                                   np.asarray(c.window_starts).tolist(), c.window_labels, float(c.score)))
        if not cands:
            raise MusicReadError("The file has notes, but no melody long enough for a 4-bar window.")
        return (state or new_state()).but(upload=Upload(Path(path).name, tuple(cands), mel.tempo, tuple(mel.warnings),
                                                        mel.time_signature))

    def read_abc(self, state: Session, text: str) -> Session:
        """Typed or pasted ABC -> state.upload with one candidate (the tune) and its 4-bar windows from each
        bar line, so it is encoded, fitted and explored exactly like an uploaded MIDI file."""
        from vae.abc_reader import read_abc_text
        from vae.bounded import bounded
        from vae.windows import bar_starts, clip_notes

        tune = bounded(ABC_SECONDS, "the ABC text", read_abc_text, text)
        steps = self.s.format.window_steps
        m = Meter.parse(tune.meter if tune.meter not in ("", "none") else "4/4")
        starts = [b for b in bar_starts(tune, m.bar_steps) if b < max(tune.total_steps - steps // 2, 1)] or [0]
        tok = self.s.model.tokenizer
        windows = np.stack([tok.encode(clip_notes(tune.notes, b, steps), steps) for b in starts]).astype(np.int64)
        labels = [m.span(b - starts[0], steps) for b in starts]
        name = tune.title if tune.title != "abc 1" else "Your ABC tune"
        cand = Candidate(f"{name} ({count(len(tune.notes), 'note')})", name, windows, starts, labels, 1.0)
        warnings = () if tune.total_steps >= steps else (
            f"The tune is shorter than 4 bars ({tune.total_steps} sixteenths): the rest of the window is silence.",)
        return (state or new_state()).but(upload=Upload(name, (cand,), None, warnings, str(m)))

    def edit_notes(self, state: Session, gesture: str) -> Session:
        """Apply one gesture of the note editor ('click|step,pitch|t' or 'span|first,last,pitch|t', explorer.session.editor)
        to the session's draft melody."""
        kind, nums = editor.parse_gesture(gesture)
        steps = self.s.format.window_steps
        draft = editor.click(state.draft, *nums, steps) if kind == "click" else editor.span(state.draft, *nums, steps)
        return state.but(draft=tuple(draft))

    def set_draft(self, state: Session, text: str) -> Session:
        """The note editor's draft as the page holds it (JSON [[pitch, start, end], ...]: editor.notes_text); '' clears
        it."""
        return state.but(draft=tuple(editor.parse_notes(text, self.s.format.window_steps)) if text else ())

    def draft_from_current(self, state: Session, play: Playback) -> Session:
        """Put the current melody, as it plays (key and scale applied), into the note editor."""
        if state.z is None:
            raise UserError("Load or create a melody first.")
        tokens = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        notes = apply_key(self.s.notes(tokens), play.key, play.scale)[0]
        return state.but(draft=tuple(editor.sorted_notes(n for n in notes if 0 <= n.start < len(tokens))))

    def editor_figure(self, state: Session) -> dict:
        """The note editor's grid with the draft's notes (explorer.media.figures.note_editor). layout.meta holds
        what the page's editor script draws from: the notes, the window's steps, a bar's steps and a revision
        (a new figure from the server replaces what was drawn in the page)."""
        low, high = editor.view_range(state.draft)
        steps = self.s.format.window_steps
        fig = figures.note_editor(state.draft, steps, low, high)
        fig["layout"]["meta"] = {"notes": [list(n) for n in editor.sorted_notes(state.draft)], "steps": steps,
                                 "bar": Meter().bar_steps, "click_steps": editor.CLICK_STEPS, "rev": time.monotonic_ns()}
        return fig

    def read_drawn_notes(self, state: Session, text: str) -> Session:
        """The notes drawn in the page, sent once ("Use these notes": editor.notes_text's JSON) -> the session's
        draft and state.upload, as read_notes. UserError for notes the editor could not have drawn."""
        return self.read_notes(state.but(draft=tuple(editor.parse_notes(text, self.s.format.window_steps))))

    def read_notes(self, state: Session) -> Session:
        """The note editor's draft -> state.upload with one candidate and one window, so it is fitted and explored
        exactly like an uploaded MIDI file (choose_upload)."""
        if not state.draft:
            raise UserError("Draw some notes first: click cells of the grid (or start from the current melody).")
        steps = self.s.format.window_steps
        tokens = self.s.model.tokenizer.encode(list(state.draft), steps)[None].astype(np.int64)
        cand = Candidate(f"Your notes ({count(len(state.draft), 'note')})", "Your notes", tokens, [0],
                         [Meter().span(0, steps)], 1.0)
        return state.but(upload=Upload("Your notes", (cand,), None, (), "4/4"))

    def choose_upload(self, state: Session, cand: int, window: int, play: Playback,
                      progress=None) -> tuple[Session, Rendered, dict]:
        """Load window `window` of candidate `cand` of the upload: returns state, render and an info dict
        (extracted notes, neighbours, map position). progress(frac) follows the fit (vae.fidelity)."""
        up = state.upload
        if not up:
            raise UserError("Upload a MIDI file first.")
        cand = min(max(int(cand), 0), len(up.candidates) - 1)
        c = up.candidates[cand]
        window = min(max(int(window), 0), len(c.windows) - 1)
        tokens = c.windows[window]
        # The z every slider starts from, and the detail z cannot say: fitted to the window, so the model plays
        # the upload back as itself.
        fit = self.s.fit_melody(tokens, progress=progress)
        name = up.name if c.name == up.name else f"{up.name} · {c.name}"
        title = f"{name} · {c.window_labels[window]}"
        state = self.set_z(state, fit["z"], title, tokens, meter=up.meter, detail=fit["detail"])
        state = state.but(made_by=f"Upload {name} · {c.window_labels[window]}")
        state, r = self.shown(state, play)
        extracted = self.s.notes(tokens)
        wav, mid = self.files.write_outputs(extracted, play, "extracted", meter=state.meter)
        info = {"extracted": extracted, "extracted_wav": wav, "extracted_midi": mid,
                "fidelity": {"encoder": fit["f1_encoder"], "z": fit["f1_z"], "fitted": float(note_f1(tokens, r.tokens)[0]),
                             "detail": state.detail is not None},
                "neighbours": self.s.neighbours(state.z, 10), "map_xy": r.map_xy, "candidate": cand, "window": window}
        return state.but(neighbours=tuple(n["window"] for n in info["neighbours"])), r, info
