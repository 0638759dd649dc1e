"""What each explorer action does, without Gradio: per-user state in, rendered melody and figures out.

The UI module wires these to components; tests and benchmarks call them directly. State is one
explorer.session.Session per browser (gr.State), never changed in place; the services object is shared
and read-only.
"""

from __future__ import annotations

import math
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.errors import UserError
from explorer.latent import generation
from explorer.latent.space import LatentSpace, join_sections
from explorer.media import figures
from explorer.media.audio import ACCOMP_PROGRAMS, render, write_wav
from explorer.media.storage import RenderStore
from explorer.serve.drag import Drags
from explorer.session import editor, history
from explorer.session.regenerate import regenerate as regenerate_melody
from explorer.session.sharecode import decode_z, encode_z
from explorer.session.state import Session, new_state
from vae.attributes import compute_attributes
from vae.chords import Chord, chord_name, parse_progression
from vae.controls import WORDS, corpus_std
from vae.corpus import COLLECTION_LABELS
from vae.errors import MusicReadError
from vae.fidelity import DETAIL_FOLLOW, fit_detail, nonzero, note_f1, round_detail
from vae.format import DEFAULT_FORMAT
from vae.harmony import backing as chord_backing
from vae.harmony import chord_line, dance_pattern, harmonise, melody_fit, spans_from_bars
from vae.meter import Meter, backing_notes
from vae.midi_export import concat_sections, notes_to_midi, write_midi_bytes
from vae.music import estimate_key
from vae.scales import apply_key
from vae.tokenizer import Note
from vae.voice import VoiceLimits, range_and_leap, within

INSTRUMENTS = {"Piano": 0, "Electric piano": 4, "Harpsichord": 6, "Celesta": 8, "Vibraphone": 11, "Marimba": 12,
               "Church organ": 19, "Accordion": 21, "Nylon guitar": 24, "Violin": 40, "Cello": 42, "Strings": 48,
               "Trumpet": 56, "Clarinet": 71, "Flute": 73, "Recorder": 74, "Pan flute": 75, "Ocarina": 79,
               "Square lead": 80, "Fiddle": 110, "Bagpipe": 109}
# The backing menu: a drone, the tonic chord each bar, or the harmoniser's chords (vae.harmony: one a bar, or two
# where the melody's harmony moves) in a pattern; "dance" is vae.harmony.dance_pattern of the melody's meter.
CHORD_BACKINGS = {"Chords: block": "block", "Chords: broken": "broken", "Chords: bass and chord": "bass-chord",
                  "Chords: waltz / jig (follows the meter)": "dance"}
ACCOMPANIMENTS = {"None": None, "Drone": "drone", "Tonic chord": "chord", **CHORD_BACKINGS}
# Every render's WAV (the player, the melody's download, /decode): 22.05 kHz mono keeps all below 11 kHz (a
# melody's fundamentals and its first harmonics) at half the synthesis cost and file size of 44.1 kHz (bench:
# the http section's levers). Blends, composed pieces and the starred export are rendered at EXPORT_RATE.
PREVIEW_RATE = 22050
EXPORT_RATE = 44100
FIT_DRIFT_WEIGHT = 0.05  # melody_fit given up per SD the attributes drift on average: the chords lead, the sliders hold
ABC_SECONDS = 5.0  # a typed ABC tune parses in milliseconds; a parse still running after this is stopped
SLIDER_RANGE = 3.0  # sliders span +-3 standard deviations; a melody may lie further out on a direction


@dataclass
class Playback:
    """How a melody is decoded and played: instrument (a menu name), tempo (quarter notes/min), temperature,
    seed, backing, and gm_program: any General MIDI program 0-127, which wins over the menu name when set."""

    instrument: str = "Piano"
    tempo: float = 120.0
    temperature: float = 0.0
    seed: int = 0
    accompaniment: str = "None"
    gm_program: int | None = None
    count_in: bool = False  # one bar of clicks before the melody in the audio (not in the MIDI file)
    key: str | None = None  # transpose to this tonic (vae.scales.KEYS), None = as decoded
    scale: str | None = None  # snap notes to this scale (vae.scales.SCALES) on the key's tonic, None = off
    progression: str = ""  # the composer's own chords ("Am F C G", "| D | G A |", "I vi IV V7 in G"); "" = harmonise

    @property
    def program(self) -> int:
        return self.gm_program if self.gm_program is not None else INSTRUMENTS.get(self.instrument, 0)


@dataclass
class Rendered:
    """Everything the current-melody panel shows after a change."""

    tokens: np.ndarray
    notes: list[Note]
    sliders: list[float]
    figure: object
    wav_path: str
    midi_path: str
    originality: dict
    originality_md: str
    share_code: str
    map_xy: tuple[float, float]
    title: str
    timings_ms: dict = field(default_factory=dict)
    key: str = ""  # the melody's key as played, e.g. "D major (from G major)"
    chords: list = field(default_factory=list)  # a chord backing's chords: [(start step, end step, "Am7")], else []
    chord_line: str = ""  # the same as a musician writes them, bars apart: "C | Am | F G | C"


def quantise(z: np.ndarray) -> np.ndarray:
    """z rounded through float16, so the compact share link restores exactly the melody that was heard."""
    return np.asarray(z, dtype=np.float16).astype(np.float32)


class Handlers:
    """The explorer's actions over shared services; files go to a private temporary folder."""

    def __init__(self, services: LatentSpace, soundfont: str | Path | None = None, out_dir: Path | None = None):
        self.s = services
        self.soundfont = soundfont
        self.store = RenderStore(out_dir)
        self.out_dir = self.store.folder
        self.labels = self.s.direction_labels()
        self.sample_rate = PREVIEW_RATE
        self.map_max_points = figures.MAP_POINTS_MAX  # more tunes than this: the map draws a density and a sample
        self._map_figures: dict = {}  # (colouring, map_max_points) -> the map's figure without its markers
        self.drags = Drags(self, SLIDER_RANGE)  # slider drags heard as they move (explorer.serve.drag)
        self.detail_follow = DETAIL_FOLLOW  # how an upload's detail follows a slider move (bench.slider_uploads)

    # --- history -----------------------------------------------------------------------------------
    def go_to(self, state: Session, entry_id: int, play: Playback) -> tuple[Session, Rendered]:
        """Show history entry `entry_id` again (explorer.session.history)."""
        try:
            state = history.go_to(state, int(entry_id))
        except (KeyError, TypeError, ValueError):
            raise UserError("That melody is no longer in the history.") from None
        return state, self.render(state, play)

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
        """Star (or unstar) the current melody and optionally name it; a name also becomes its title."""
        if history.current(state) is None:
            raise UserError("Load or create a melody first.")
        name = None if name is None else " ".join(str(name).split())[:80]
        state = history.edit(state, state.cursor, starred=bool(on), name=name)
        return state.but(title=name) if name else state

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
        wav, mid = self.write_outputs(concat_sections(sections, steps), play, "starred", meter=meter,
                                      sample_rate=EXPORT_RATE)
        zpath = self._path("starred", ".zip")
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
            for i, (e, notes) in enumerate(zip(entries, sections, strict=True)):
                safe = re.sub(r"[^\w\- ]+", "", e.name or e.title)[:40].strip() or "melody"
                back, program, track = self.backing(notes, play, e.meter)
                data = write_midi_bytes(notes, tempo=play.tempo, program=play.program,
                                        meter=e.meter, backing=back, backing_program=program, backing_name=track,
                                        chords=chord_events(self.chords(notes, play, e.meter)))
                zf.writestr(f"{i + 1:02d} {safe}.mid", data)
        return {"midi": mid, "zip": str(zpath), "wav": wav, "count": len(entries)}

    # --- files -----------------------------------------------------------------------------------
    def _path(self, stem: str, suffix: str) -> Path:
        return self.store.path(stem, suffix)

    def write_outputs(self, notes: list[Note], play: Playback, stem: str = "melody", meter: str = "4/4",
                      sample_rate: int | None = None) -> tuple[str, str]:
        """MIDI and WAV files of notes in their meter -> (wav path, midi path). The backing, when chosen, is
        in both: mixed into the audio, and its own track in the MIDI file. The WAV is at `sample_rate`
        (default self.sample_rate: the preview rate of every render; exports ask for EXPORT_RATE)."""
        chords = self.chords(notes, play, meter)
        return (self.write_audio(notes, play, stem, meter, sample_rate, chords),
                self.write_midi(notes, play, stem, meter, chords))

    def write_audio(self, notes: list[Note], play: Playback, stem: str = "melody", meter: str = "4/4",
                    sample_rate: int | None = None, chords: list | None = None) -> str:
        """The WAV file of notes (with the backing mixed in, when chosen: `chords` are a chord backing's, None
        harmonises here) -> its path."""
        rate = sample_rate or self.sample_rate
        back, program, _ = self.backing(notes, play, meter, chords)
        audio = render(notes, tempo=play.tempo, program=play.program, soundfont=self.soundfont, meter=Meter.parse(meter),
                       count_in=play.count_in, sample_rate=rate, backing=back, backing_program=program)
        wav = self._path(stem, ".wav")
        write_wav(wav, audio, rate)
        return str(wav)

    def write_midi(self, notes: list[Note], play: Playback, stem: str = "melody", meter: str = "4/4",
                   chords: list | None = None) -> str:
        """The MIDI file of notes (the backing, when chosen, as its own track; a chord backing's symbols as text
        events: `chords` as write_audio's) -> its path."""
        if chords is None:
            chords = self.chords(notes, play, meter)
        back, program, track = self.backing(notes, play, meter, chords)
        mid = self._path(stem, ".mid")
        notes_to_midi(notes, mid, tempo=play.tempo, program=play.program, meter=Meter.parse(meter), backing=back,
                      backing_program=program, backing_name=track, chords=chord_events(chords))
        return str(mid)

    # --- harmony -----------------------------------------------------------------------------------
    def chords(self, notes: list[Note], play: Playback, meter: str = "4/4") -> list[tuple[int, int, Chord]]:
        """The chords a chord backing plays under `notes` (as played: key and scale applied), [] for any other
        backing. Each window of the format (a blend's step, a piece's section) is harmonised on its own, in its
        own key and `meter` (vae.harmony.harmonise); the chords run to the end of the bar of the last note."""
        if not notes or not (play.progression.strip() or ACCOMPANIMENTS.get(play.accompaniment) in CHORD_BACKINGS.values()):
            return []
        steps, m = self.s.format.window_steps, Meter.parse(meter)
        last = max(n.end for n in notes)
        end = -(-last // m.bar_steps) * m.bar_steps
        if play.progression.strip():  # the composer's chords, bar by bar from the top of every window
            bars = parse_progression(play.progression)
            return [(s + start, min(e + start, end), c) for start in range(0, last, steps)
                    for s, e, c in spans_from_bars(bars, m, steps) if s + start < end]
        out = []
        for start in range(0, last, steps):
            section = [Note(n.pitch, n.start - start, n.end - start) for n in notes if start <= n.start < start + steps]
            if section:
                out += [(s + start, min(e + start, end), c) for s, e, c in
                        harmonise(section, self.s.format.steps_per_bar, self.s.format.bars, meter=m) if s + start < end]
        return out

    def backing(self, notes: list[Note], play: Playback, meter: str = "4/4",
                chords: list | None = None) -> tuple[list[Note], int, str]:
        """The chosen backing under `notes`: (its notes, its General MIDI program, its MIDI track's name); ([], 0, "")
        for none. A chord backing plays `chords` (None: self.chords) just under the melody's lowest note."""
        kind = ACCOMPANIMENTS.get(play.accompaniment)
        if play.progression.strip() and kind not in CHORD_BACKINGS.values():
            kind = "block"  # typed chords are heard even before a chord backing is picked
        if not kind or not notes:
            return [], 0, ""
        m = Meter.parse(meter)
        if kind in CHORD_BACKINGS.values():
            chords = self.chords(notes, play, meter) if chords is None else chords
            pattern = dance_pattern(m) if kind == "dance" else kind
            return (chord_backing(chords, pattern, m, melody_low=min(n.pitch for n in notes)), ACCOMP_PROGRAMS["chords"],
                    "Chords")
        tonic, mode = estimate_key(notes)
        return backing_notes(notes, kind, tonic, mode == "minor", m), ACCOMP_PROGRAMS[kind], f"Backing ({kind})"

    # --- the current melody ----------------------------------------------------------------------
    def render(self, state: Session, play: Playback, preview: bool = False) -> Rendered:
        """Decode state.z and produce piano roll, audio, MIDI, originality check, share code and map position.

        preview: only what a drag needs to be heard and seen (piano roll and audio); `finish` adds the rest
        once the slider is let go. Its MIDI path, originality, share code and map position are empty."""
        t0 = time.perf_counter()
        tokens = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        t1 = time.perf_counter()
        notes, key = apply_key(self.s.notes(tokens), play.key, play.scale)
        th = time.perf_counter()
        chords = self.chords(notes, play, state.meter)
        harmony_ms = (time.perf_counter() - th) * 1e3
        ghost = self.s.notes(state.origin_tokens) if state.origin_tokens is not None else None
        if ghost is not None and (play.key or play.scale):
            ghost = apply_key(ghost, play.key, play.scale)[0]
        fig = figures.piano_roll(notes, len(tokens), ghost=ghost, meter=state.meter, chords=named(chords))
        t2 = time.perf_counter()
        wav = self.write_audio(notes, play, meter=state.meter, chords=chords)
        t3 = time.perf_counter()
        timings = {"decode": (t1 - t0) * 1e3, "harmony": harmony_ms, "figure": (t2 - t1) * 1e3 - harmony_ms,
                   "audio": (t3 - t2) * 1e3}
        if preview:
            timings["total"] = (t3 - t0) * 1e3
            return Rendered(tokens, notes, [], fig, wav, "", {}, "", "", (math.nan, math.nan), shown_title(state), timings,
                            key, named(chords), chord_line(chords, state.meter))
        r = self._panel(state, play, tokens, notes, wav, chords)
        r.figure, r.key = fig, key
        r.timings_ms = {**timings, **r.timings_ms, "total": (time.perf_counter() - t0) * 1e3}
        return r

    def finish(self, state: Session, play: Playback) -> Rendered:
        """The rest of a preview's panel (MIDI, originality, share code, map position, slider values) for the
        melody a drag left playing (state.preview: its tokens and audio file); no decode, no new audio."""
        if state.preview is None:
            raise ValueError("finish() needs a preview render to finish")
        tokens, wav = state.preview["tokens"], state.preview["wav"]
        notes, key = apply_key(self.s.notes(tokens), play.key, play.scale)
        r = self._panel(state, play, tokens, notes, wav, self.chords(notes, play, state.meter))
        r.key = key
        return r

    def _panel(self, state: Session, play: Playback, tokens: np.ndarray, notes: list[Note], wav: str,
               chords: list) -> Rendered:
        """Everything but the piano roll and the audio: MIDI, originality, map position, sliders, share code (and
        the chords of a chord backing)."""
        t0 = time.perf_counter()
        mid = self.write_midi(notes, play, meter=state.meter, chords=chords)
        t1 = time.perf_counter()
        orig = self.s.originality(tokens)
        t2 = time.perf_counter()
        xy = self.s.place(state.z)
        values = state.sliders if state.sliders is not None else self.s.sliders_of(state.z)
        sliders = [round(float(np.clip(v, -SLIDER_RANGE, SLIDER_RANGE)), 2) for v in values]
        code = encode_z(state.z, play.temperature, play.seed, play.tempo, play.program, play.accompaniment,
                        shown_title(state), play.key, play.scale, detail=state.detail)
        t3 = time.perf_counter()
        timings = {"midi": (t1 - t0) * 1e3, "originality": (t2 - t1) * 1e3, "rest": (t3 - t2) * 1e3}
        own = state.origin_tune if state.origin_z is not None and np.array_equal(state.z, state.origin_z) else None
        return Rendered(tokens, notes, sliders, None, wav, mid, orig, originality_markdown(orig, len(notes), own), code,
                        xy, shown_title(state), timings, chords=named(chords), chord_line=chord_line(chords, state.meter))

    def set_z(self, state: Session | None, z: np.ndarray, title: str, origin_tokens: np.ndarray | None = None,
              as_origin: bool = True, origin_tune: int | None = None, meter: str = "4/4",
              detail: np.ndarray | None = None) -> Session:
        """Make z (with its per-bar detail, None for none: vae.fidelity) the current melody; with as_origin it
        also becomes what "reset" returns to, in `meter` (a variation keeps the meter of the melody it came
        from)."""
        z = quantise(z)
        detail = None if detail is None or not np.any(detail) else round_detail(detail)
        state = (state or new_state()).but(z=z, detail=detail, title=title, sliders=None, move="", made_by="",
                                           move_from=None)
        if as_origin:
            state = state.but(origin_z=z, origin_detail=detail, origin_tokens=origin_tokens, origin_tune=origin_tune,
                              transform_base=None, meter=str(Meter.parse(meter)))
        return state

    def load_window(self, state: Session, window: int, play: Playback) -> tuple[Session, Rendered]:
        """Load corpus window `window` (its posterior mean) as the current melody."""
        if not 0 <= window < len(self.s.corpus.tokens):
            raise UserError(f"there is no corpus melody number {window}")
        w = self.s.window(window)
        title = describe_window(w)
        state = self.set_z(state, w["mu"], title, w["tokens"], origin_tune=w["tune"], meter=w["meter"])
        return state, self.render(state, play)

    def load_tune(self, state: Session, tune: int, play: Playback) -> tuple[Session, Rendered]:
        """Load the window that tune `tune`'s map point stands for (LatentSpace.tune_window)."""
        if not 0 <= int(tune) < len(self.s.tune_window) or self.s.tune_window[int(tune)] < 0:
            raise UserError(f"tune {tune} has no 4-bar window")
        return self.load_window(state, int(self.s.tune_window[int(tune)]), play)

    def set_sliders(self, state: Session, values: list[float], play: Playback,
                    preview: bool = False) -> tuple[Session, Rendered]:
        """Set the 16 slider coordinates of the current melody (the rest of z is kept) and render (a preview
        while a slider is dragged: `render`; the session then holds it in `preview` for `finish`). A melody's
        per-bar detail fades with the distance moved from the values it had (vae.fidelity.DetailFollow), so a
        zero move keeps an upload note for note and a large one leaves it to z."""
        from explorer.session.slider_move import page_slider_move

        # A slider the user did not touch still shows its rounded (and clipped) value: its exact one is kept, so
        # moving one slider moves z along that direction only. An upload's detail fades as the sliders move away
        # (self.detail_follow): fitted to hold the upload's own notes, kept whole it would pull the moved melody
        # back toward them. The same function serves the API's slider moves.
        current = state.sliders if state.sliders is not None else self.s.sliders_of(state.z)
        t0 = time.perf_counter()
        values, z, detail = page_slider_move(self, state.z, state.detail, values, current)
        steer_ms = (time.perf_counter() - t0) * 1e3
        moved = np.nonzero(np.abs(values - current) > 1e-6)[0]
        move = f"slider:{int(moved[0])}" if len(moved) == 1 else "sliders"
        # a run of moves of one slider is one history entry: its words give the change since the run began
        start = state.move_from if state.move == move and state.move_from is not None else current
        state = state.but(z=z, detail=detail, sliders=values, transform_base=None, preview=None, move=move,
                          move_from=start, made_by=self.slider_words(start, values))
        r = self.render(state, play, preview=preview)
        if preview:
            state = state.but(preview={"tokens": r.tokens, "wav": r.wav_path})
        r.timings_ms = {"steer": steer_ms, **r.timings_ms, "total": r.timings_ms["total"] + steer_ms}
        return state, r

    def slider_words(self, before: np.ndarray, after: np.ndarray) -> str:
        """A slider move in a musician's words: 'Notes +1.2', or 'Notes +1.2, Range -0.5' for several."""
        parts = [f"{self.labels[k]['label'].split(':')[0].split(' (')[0]} {float(after[k] - before[k]):+.1f}"
                 for k in np.nonzero(np.abs(np.asarray(after) - np.asarray(before)) > 1e-6)[0]]
        return ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")

    def reset(self, state: Session, play: Playback) -> tuple[Session, Rendered]:
        state = state.but(z=state.origin_z, detail=state.origin_detail, sliders=None, transform_base=None,
                          transform_key="", move="", made_by="Reset to the original", move_from=None)
        return state, self.render(state, play)

    def random(self, state: Session, play: Playback, seed: int) -> tuple[Session, Rendered]:
        """A new melody from the prior (N(0, I))."""
        z, _ = self.s.sample(1, max(play.temperature, 0.0), seed)
        state = self.set_z(state, z[0], f"Random melody (seed {seed})")
        return state, self.render(state, play)

    def similar(self, state: Session, play: Playback, similarity: float, seed: int) -> tuple[Session, Rendered]:
        """A variation of the current melody (Magenta.js `similar`: 1 = identical, 0 = unrelated)."""
        z, _ = self.s.similar(state.z, 1, similarity, play.temperature, seed)
        # A variation of an upload keeps its detail in proportion: at similarity 1 it is the upload itself.
        detail = None if state.detail is None else float(np.clip(similarity, 0.0, 1.0)) * state.detail
        state = self.set_z(state, z[0], variation_title(state.title), as_origin=False, detail=detail)
        return state, self.render(state, play)

    def regenerate(self, state: Session, locked_bars, rhythm_lock: bool, play: Playback,
                   seed: int) -> tuple[Session, dict]:
        """Four new melodies that keep the current melody's locked bars (0-based indices) note for note, and with
        rhythm_lock its every onset and duration (explorer.session.regenerate). The melody is the one heard (state.z with
        its detail, at the playback's temperature and seed). The alternatives go into state.regenerated (z,
        tokens) for take_alternative; returns the state and {"figure", "notes", "tokens", "title"}."""
        if state.z is None:
            raise UserError("Load or create a melody first.")
        tokens = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        out = regenerate_melody(self.s, state.z, tokens, sorted({int(b) for b in locked_bars}), n=4,
                                rhythm_lock=bool(rhythm_lock), seed=int(seed))
        alts = out.alternatives
        kept = [int(b) + 1 for b in np.flatnonzero(out.locked_bars)]
        what = ([_bars_word(kept)] if kept else []) + (["the rhythm"] if rhythm_lock else [])
        title = f"Regenerated ({' and '.join(what)} kept)" if what else "Regenerated"
        notes = [a.notes for a in alts]
        fig = figures.strip(notes, [f"Take {i + 1}" for i in range(len(alts))], total_steps=len(tokens))
        state = state.but(regenerated=tuple((a.z, a.tokens) for a in alts), regenerated_title=title)
        return state, {"figure": fig, "notes": notes, "tokens": [a.tokens for a in alts], "title": title,
                       "seconds": out.seconds}

    def take_alternative(self, state: Session, k: int, play: Playback) -> tuple[Session, Rendered]:
        """Make regenerated alternative k (0-based) the current melody. Its z decodes to its tokens only with the
        locks forced, so where its greedy decoding differs a per-bar detail is fitted at that z (vae.fidelity) to
        bring the alternative back as it was offered; render plays it (at temperature 0)."""
        if not state.regenerated:
            raise UserError("Press Regenerate first: there are no alternatives to take yet.")
        if not 0 <= int(k) < len(state.regenerated):
            raise UserError(f"There are {len(state.regenerated)} alternatives: take 1 to {len(state.regenerated)}.")
        z, tokens = state.regenerated[int(k)]
        z = quantise(z)
        detail = None
        if not np.array_equal(self.s.decode(z), tokens):
            found, out, _ = fit_detail(self.s.model, tokens[None], z[None])
            detail = nonzero(found[0]) if np.array_equal(out[0], tokens) else None
            if detail is None:  # no detail at this z brings it back whole: fit z and detail together, as an upload
                fit = self.s.fit_melody(tokens)
                z, detail = fit["z"], fit["detail"]
        state = self.set_z(state, z, state.regenerated_title or "Regenerated", as_origin=False, detail=detail)
        return state, self.render(state, play)

    def from_share_code(self, state: Session, code: str, play: Playback) -> tuple[Session, Rendered, Playback]:
        """Restore the melody and playback settings carried by a share link."""
        d = decode_z(code)
        if len(d["z"]) != self.s.latent_dim:
            raise UserError("this link was made with another model and cannot be restored here")
        inst = next((k for k, v in INSTRUMENTS.items() if v == d["program"]), None)
        play = Playback(inst or play.instrument, d["tempo"], d["temperature"], d["seed"], d["backing"],
                        gm_program=None if inst else d["program"], key=d["key"], scale=d["scale"])
        if d["detail"] is not None and d["detail"].shape != tuple(self.s.detail_shape):
            raise UserError("this link was made with another model and cannot be restored here")
        state = self.set_z(state, d["z"], d["title"] or "Shared melody", detail=d["detail"])
        return state, self.render(state, play), play

    def welcome_window(self) -> int:
        """The melody shown first: the opening of the first lively 4/4 or 6/8 O'Neill tune (deterministic)."""
        c = self.s.corpus
        for t, meta in enumerate(c.tunes):
            if meta["collection"] == "oneills" and meta["meter"] in ("4/4", "6/8", "2/2") and meta["windows"]:
                row = int(np.nonzero(c.tune == t)[0][0])
                if int((c.tokens[row] >= 2).sum()) >= 14:
                    return row
        return 0

    # --- map ---------------------------------------------------------------------------------------
    def map_figure(self, color_by: str = "collection", current: tuple[float, float] | None = None,
                   extra: dict[str, tuple[float, float]] | None = None) -> object:
        """The corpus map coloured by `color_by`, with the star at `current` and `extra` markers. The tunes' part
        is built once per colouring and shared (no rebuild per page load); the markers are added."""
        key = (color_by, self.map_max_points)
        base = self._map_figures.get(key)
        if base is None:
            d = self.map_data
            values = None if color_by == "collection" else d.get(f"attr_{color_by}")
            base = figures.corpus_map(d["x"], d["y"], d["collection"], self._map_hover, d["tune"], values, color_by,
                                      max_points=self.map_max_points)
            self._map_figures[key] = base
        return {"data": base["data"] + figures.map_markers(current, extra), "layout": base["layout"]}

    @property
    def map_data(self) -> dict:
        if not hasattr(self, "_map_data"):
            self._map_data = self.s.map_figure_data()
            d = self._map_data
            self._map_hover = np.array([f"{t}<br>{COLLECTION_LABELS.get(c, c)} · {m} · {k}" for t, c, m, k in
                                        zip(d["title"], d["collection"], d["meter"], d["key"], strict=True)])
        return self._map_data

    # --- upload ------------------------------------------------------------------------------------
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
            cands.append({"label": c.label, "name": c.label.rsplit(" (bar", 1)[0],
                          "windows": np.asarray(c.windows, dtype=np.int64), "starts": np.asarray(c.window_starts).tolist(),
                          "window_labels": c.window_labels, "score": float(c.score)})
        if not cands:
            raise MusicReadError("The file has notes, but no melody long enough for a 4-bar window.")
        return (state or new_state()).but(upload={"name": Path(path).name, "candidates": cands, "tempo": mel.tempo,
                                                  "warnings": list(mel.warnings), "meter": mel.time_signature})

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
        cand = {"label": f"{name} ({_count(len(tune.notes), 'note')})", "name": name, "windows": windows, "starts": starts,
                "window_labels": labels, "score": 1.0}
        warnings = [] if tune.total_steps >= steps else [
            f"The tune is shorter than 4 bars ({tune.total_steps} sixteenths): the rest of the window is silence."]
        return (state or new_state()).but(upload={"name": name, "candidates": [cand], "tempo": None,
                                                  "warnings": warnings, "meter": str(m)})

    # --- note editor -------------------------------------------------------------------------------
    def edit_notes(self, state: Session, gesture: str) -> Session:
        """Apply one gesture of the note editor ('click|step,pitch|t' or 'span|first,last,pitch|t', explorer.session.editor)
        to the session's draft melody."""
        kind, nums = editor.parse_gesture(gesture)
        steps = self.s.format.window_steps
        draft = editor.click(state.draft, *nums, steps) if kind == "click" else editor.span(state.draft, *nums, steps)
        return state.but(draft=tuple(draft))

    def draft_from_current(self, state: Session, play: Playback) -> Session:
        """Put the current melody, as it plays (key and scale applied), into the note editor."""
        if state.z is None:
            raise UserError("Load or create a melody first.")
        tokens = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        notes = apply_key(self.s.notes(tokens), play.key, play.scale)[0]
        return state.but(draft=tuple(editor.sorted_notes(n for n in notes if 0 <= n.start < len(tokens))))

    def editor_figure(self, state: Session) -> dict:
        """The note editor's grid with the draft's notes (explorer.figures.note_editor)."""
        low, high = editor.view_range(state.draft)
        return figures.note_editor(state.draft, self.s.format.window_steps, low, high)

    def read_notes(self, state: Session) -> Session:
        """The note editor's draft -> state.upload with one candidate and one window, so it is fitted and explored
        exactly like an uploaded MIDI file (choose_upload)."""
        if not state.draft:
            raise UserError("Draw some notes first: click cells of the grid (or start from the current melody).")
        steps = self.s.format.window_steps
        tokens = self.s.model.tokenizer.encode(list(state.draft), steps)[None].astype(np.int64)
        cand = {"label": f"Your notes ({_count(len(state.draft), 'note')})", "name": "Your notes", "windows": tokens,
                "starts": [0], "window_labels": [Meter().span(0, steps)], "score": 1.0}
        return state.but(upload={"name": "Your notes", "candidates": [cand], "tempo": None, "warnings": [],
                                 "meter": "4/4"})

    def choose_upload(self, state: Session, cand: int, window: int, play: Playback,
                      progress=None) -> tuple[Session, Rendered, dict]:
        """Load window `window` of candidate `cand` of the upload: returns state, render and an info dict
        (extracted notes, neighbours, map position). progress(frac) follows the fit (vae.fidelity)."""
        up = state.upload
        if not up:
            raise UserError("Upload a MIDI file first.")
        cand = min(max(int(cand), 0), len(up["candidates"]) - 1)
        c = up["candidates"][cand]
        window = min(max(int(window), 0), len(c["windows"]) - 1)
        tokens = c["windows"][window]
        # The z every slider starts from, and the detail z cannot say: fitted to the window, so the model plays
        # the upload back as itself.
        fit = self.s.fit_melody(tokens, progress=progress)
        name = up["name"] if c["name"] == up["name"] else f"{up['name']} · {c['name']}"
        title = f"{name} · {c['window_labels'][window]}"
        state = self.set_z(state, fit["z"], title, tokens, meter=up.get("meter", "4/4"), detail=fit["detail"])
        state = state.but(made_by=f"Upload {name} · {c['window_labels'][window]}")
        r = self.render(state, play)
        extracted = self.s.notes(tokens)
        wav, mid = self.write_outputs(extracted, play, "extracted", meter=state.meter)
        info = {"extracted": extracted, "extracted_wav": wav, "extracted_midi": mid,
                "fidelity": {"encoder": fit["f1_encoder"], "z": fit["f1_z"], "fitted": float(note_f1(tokens, r.tokens)[0]),
                             "detail": state.detail is not None},
                "neighbours": self.s.neighbours(state.z, 10), "map_xy": r.map_xy, "candidate": cand, "window": window}
        return state, r, info

    # --- blends ------------------------------------------------------------------------------------
    def set_slot(self, state: Session, slot: str) -> Session:
        """Remember the current melody in slot A/B/C/D (for blends and grids)."""
        if state.z is None:
            raise UserError("Load or create a melody first.")
        return state.but(slots={**state.slots, slot: {"z": state.z, "title": state.title, "detail": state.detail}})

    def blend(self, state: Session, steps: int, play: Playback) -> dict:
        """Interpolate slot A -> slot B in `steps` steps: z's, notes per step, a strip figure, whole-blend files."""
        slots = state.slots
        if "A" not in slots or "B" not in slots:
            raise UserError("Set melody A and melody B first (load a melody, then press 'Use as A' / 'Use as B').")
        z = self.s.interpolate(slots["A"]["z"], slots["B"]["z"], int(steps))
        detail = blend_details([slots["A"].get("detail"), slots["B"].get("detail")], self.s.detail_shape,
                               lambda d: self.s.interpolate(d[0], d[1], int(steps)))
        tokens = self.s.decode(z, play.temperature, play.seed, detail)
        notes = [self.s.notes(t) for t in tokens]
        labels = ["A"] + [f"{i}" for i in range(1, len(z) - 1)] + ["B"]
        fig = figures.strip(notes, labels)
        whole = self.s.notes(join_sections(tokens))
        wav, mid = self.write_outputs(whole, play, "blend", sample_rate=EXPORT_RATE)
        return {"z": z, "detail": detail, "tokens": tokens, "notes": notes, "figure": fig, "wav": wav, "midi": mid}

    def grid_point(self, state: Session, x: float, y: float, play: Playback) -> tuple[Session, Rendered]:
        """Beat-Blender style: the melody at (x, y) in [0, 1]^2 between corners A (top-left), B, C, D."""
        slots = state.slots
        missing = [s for s in "ABCD" if s not in slots]
        if missing:
            raise UserError(f"Set corners {', '.join(missing)} first.")
        z = generation.grid_point(np.stack([slots[s]["z"] for s in "ABCD"]), float(x), float(y))
        detail = blend_details([slots[s].get("detail") for s in "ABCD"], self.s.detail_shape,
                               lambda d: generation.grid_point(d, float(x), float(y))[None])
        state = self.set_z(state, z, f"Grid blend at ({x:.2f}, {y:.2f})", as_origin=False,
                           detail=None if detail is None else detail[0])
        return state, self.render(state, play)

    # --- attributes and styles ---------------------------------------------------------------------
    @staticmethod
    def _known(name: str, names: list[str], what: str) -> None:
        if name not in names:
            raise UserError(f"There is no {what} called {str(name)[:40]!r}; choose from {', '.join(names)}.")

    def _transform(self, state: Session, key: str, move, play: Playback,
                   words: str = "") -> tuple[Session, Rendered, np.ndarray]:
        """Apply move(base_z) -> z. Moves stack: a new move (another attribute or style: `key`) starts from the
        current melody, so it keeps what earlier moves did; changing the amount of the same move again starts
        from where that move began, so its amounts don't accumulate. Reset still returns to the origin."""
        same = state.transform_base is not None and state.transform_key == key
        base = state.transform_base if same else state.z
        state = state.but(transform_base=base, transform_key=key, z=quantise(move(base, state.detail)), sliders=None,
                          move=key, made_by=words, move_from=None)
        return state, self.render(state, play), base

    def push(self, state: Session, attribute: str, amount: float, play: Playback,
             limits: VoiceLimits | None = None) -> tuple[Session, Rendered, dict]:
        """Move the melody along an attribute vector from where the transform started, within a voice's limits
        when given (vae.voice); report the change and whether the result is singable."""
        self._known(attribute, self.s.attribute_names, "attribute")
        name = WORDS[attribute][0] if attribute in WORDS else attribute
        state, r, base = self._transform(state, f"attribute:{attribute}",
                                         lambda z, d: self.s.push_attribute(z, attribute, float(amount), d, limits),
                                         play, f"{name} {float(amount):+.1f} (push)")
        before = self.s.attributes_of(self.s.decode(base, play.temperature, play.seed, state.detail))
        after = self.s.attributes_of(r.tokens)
        span, leap = range_and_leap(r.tokens)
        return state, r, {"attribute": attribute, "before": before.get(attribute), "after": after.get(attribute),
                          "range": int(span[0]), "leap": int(leap[0]),
                          "singable": None if limits is None else bool(within(r.tokens, limits)[0])}

    def move_style(self, state: Session, to_style: str, amount: float, play: Playback) -> tuple[Session, Rendered, dict]:
        """Move the melody from its nearest style toward `to_style` by `amount` in [0, 1]; report probabilities."""
        self._known(to_style, self.s.style_names, "style")
        state, r, base = self._transform(state, f"style:{to_style}",
                                         lambda z, d: self.s.move_to_style(z, to_style, float(amount), d), play,
                                         f"Toward {COLLECTION_LABELS.get(to_style, to_style)}"
                                         + ("" if float(amount) >= 1 else f" ({float(amount):.0%})"))
        return state, r, {"before": self.s.style_of(base), "after": self.s.style_of(state.z)}

    def fit_to_chords(self, state: Session, play: Playback, candidates: int = 24,
                      seed: int = 0) -> tuple[Session, Rendered, dict]:
        """Steer the melody over the composer's chords (play.progression): candidates near z (variations at a few
        similarities, decoded as played) are scored by the share of strong-beat melody on chord tones
        (vae.harmony.melody_fit) minus how far their attributes move from the melody's (in corpus SDs, so the
        sliders' settings hold); the best is kept when it fits better than the melody already does."""
        if not play.progression.strip():
            raise UserError("Type your chords first (e.g. 'Am F C G'), then fit the melody to them.")
        if state.z is None:
            raise UserError("Load or create a melody first.")
        parse_progression(play.progression)  # a sentence for a bad line before any work
        per = max(candidates // 3, 1)
        zs = [state.z[None]] + [self.s.similar(state.z, per, sim, 0.0, seed + i)[0]
                                for i, sim in enumerate((0.95, 0.85, 0.7))]
        z = np.concatenate(zs).astype(np.float32)
        heard = self.s.decode(state.z, 0.0, None, state.detail)  # the melody as heard now: row 0
        tokens = np.concatenate([np.atleast_2d(heard), np.atleast_2d(self.s.decode(z[1:], 0.0, None))])
        std = self.s.sliders.attr_std or corpus_std(self.s.attrs)
        attrs = compute_attributes(tokens)
        names = [a for a in std if a in attrs]
        drift = np.nansum([np.abs(attrs[a] - attrs[a][0]) / std[a] for a in names], axis=0) / max(len(names), 1)
        fits = np.array([melody_fit(n, self.chords(n, play, state.meter), state.meter) if n else 0.0
                         for n in (apply_key(self.s.notes(t), play.key, play.scale)[0] for t in tokens)])
        score = fits - FIT_DRIFT_WEIGHT * drift
        best = int(np.argmax(score))
        info = {"before": float(fits[0]), "after": float(fits[best]), "candidates": len(z), "changed": best != 0}
        if best == 0:
            return state, self.render(state, play), info
        state = self.set_z(state, z[best], state.title, as_origin=False)
        state = state.but(move="chords", made_by="Fit to your chords")
        return state, self.render(state, play), info

    def draw_in_style(self, state: Session, style: str, n: int, play: Playback, seed: int) -> dict:
        """n new melodies from one collection's distribution: z's, notes and a strip figure."""
        self._known(style, self.s.style_names, "style")
        z, tokens = self.s.sample_in_style(style, int(n), max(play.temperature, 0.0), seed)
        notes = [self.s.notes(t) for t in tokens]
        return {"z": z, "tokens": tokens, "notes": notes,
                "figure": figures.strip(notes, [f"{i + 1}" for i in range(len(notes))])}

    # --- compose -----------------------------------------------------------------------------------
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
        sections_n = generation.sections_for_bars(int(bars), self.s.format.bars)
        if form == "through" and sections_n < len(wps):
            raise UserError(f"{len(wps)} waypoints need at least {len(wps) * self.s.format.bars} bars (a 4-bar "
                            f"section each); make the piece longer or remove a waypoint.")
        try:
            z, line, detail = self.s.compose(np.stack([w["z"] for w in wps]), int(bars), play.temperature, play.seed,
                                             form, stack_details([w.get("detail") for w in wps], self.s.detail_shape))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        sections = line.reshape(len(z), -1)
        notes = [self.s.notes(t) for t in sections]
        which = [next((j + 1 for j, w in enumerate(wps) if np.allclose(zz, w["z"], atol=1e-6)), None) for zz in z]
        labels = [f"bars {4 * i + 1}-{4 * i + 4}" + (f" (waypoint {w})" if w else "") for i, w in enumerate(which)]
        fig = figures.strip(notes, labels)
        whole = self.s.notes(line)
        wav, mid = self.write_outputs(whole, play, "piece", sample_rate=EXPORT_RATE)
        return {"z": z, "detail": detail, "notes": whole, "figure": fig, "wav": wav, "midi": mid, "sections": len(z),
                "waypoint_sections": which, "labels": labels}


def named(chords: list[tuple[int, int, Chord]]) -> list[tuple[int, int, str]]:
    """Chord spans with their symbols: [(0, 16, Chord(9, 'min7'))] -> [(0, 16, 'Am7')]."""
    return [(int(s), int(e), chord_name(c)) for s, e, c in chords]


def chord_events(chords: list[tuple[int, int, Chord]]) -> list[tuple[int, str]]:
    """A MIDI file's chord symbols: (start step, symbol) of each chord span."""
    return [(s, name) for s, _, name in named(chords)]


def stack_details(details: list, shape: tuple[int, int]) -> np.ndarray | None:
    """Several melodies' details (None = none) as one array [N, U, C] with zeros for none; None when none has one."""
    if all(d is None for d in details):
        return None
    return np.stack([np.zeros(shape, np.float32) if d is None else np.asarray(d, np.float32) for d in details])


def blend_details(details: list, shape: tuple[int, int], path) -> np.ndarray | None:
    """The details [K, U, C] of a blend's points: path(flat [n, U*C]) -> [K, U*C] applied to the endpoints'
    details (zeros for none), the same path as their z takes; None when no endpoint has a detail."""
    return generation.along_path(stack_details(details, shape), path)


def detail_row(details: np.ndarray | None, i: int) -> np.ndarray | None:
    """Row i of a blend's or piece's details, None when there are none or that row is zero."""
    return None if details is None else nonzero(details[i])


def variation_title(title: str) -> str:
    """'Variation of: X', then 'Variation 2 of: X', ... (not 'Variation of: Variation of: X')."""
    m = re.match(r"Variation (?:(\d+) )?of: (.*)", title, re.S)
    if not m:
        return f"Variation of: {title}"
    return f"Variation {int(m.group(1) or 1) + 1} of: {m.group(2)}"


def _bars_word(bars: list[int]) -> str:
    """1-based bar numbers as a musician says them: [1] -> 'bar 1', [1, 2] -> 'bars 1-2', [1, 3] -> 'bars 1, 3'."""
    if len(bars) == 1:
        return f"bar {bars[0]}"
    if bars == list(range(bars[0], bars[-1] + 1)):
        return f"bars {bars[0]}-{bars[-1]}"
    return "bars " + ", ".join(map(str, bars))


def describe_window(w: dict) -> str:
    """'Title — Collection · 6/8 · bars 5-10' (the bars of its own meter that the window touches). The key is
    not in it: the title line names the key the melody is played in, once."""
    coll = COLLECTION_LABELS.get(w["collection"], w["collection"])
    m = Meter.parse(w["meter"])
    start = (w["start_bar"] - 1) * m.bar_steps
    return f"{w['title']} — {coll} · {w['meter']} · {m.span(start, DEFAULT_FORMAT.window_steps)}"


def shown_title(state: Session) -> str:
    """The title line's name of the melody: its source's title, marked 'after …' once a control (a slider, a push,
    a style move: state.move) has moved it away from what was loaded: it is no longer that tune. Melodies the app
    made (a blend, a variation) keep their own titles."""
    edited = bool(state.move) and state.origin_z is not None and state.z is not None and not (
        np.array_equal(state.z, state.origin_z) and history.same_detail(state.detail, state.origin_detail))
    return f"after {state.title}" if edited and state.title and not state.title.startswith("after ") else state.title


def originality_markdown(o: dict, num_notes: int, own_tune: int | None = None) -> str:
    """One line a composer reads under the melody: is it new, or a copy of a training tune?

    `own_tune` is the corpus tune the melody was loaded from: matching it is expected, not a warning.
    """
    if not num_notes:
        return "This melody is silent."
    if own_tune is not None and o.get("tune") == own_tune:
        return (f"This is the model's rendering of a corpus tune (*{o['title']}*): move a slider to make it your own. "
                f"Copy check: {_count(round(o['bars'], 1), 'bar')} shared with it.")
    if o.get("likely_copy"):
        return (f"⚠️ **Likely copy**: {_count(round(o['bars'], 1), 'bar')} ({_count(o['notes'], 'note')}) match "
                f"*{o['title']}* "
                f"({COLLECTION_LABELS.get(o['collection'], o['collection'])}) from the training set.")
    if o.get("steps", 0) and o.get("title"):
        return (f"✅ Original: the longest run shared with a training tune is {_count(round(o['bars'], 1), 'bar')} "
                f"({_count(o['notes'], 'note')}, closest: *{o['title']}*).")
    return "✅ Original: no run shared with the training tunes."


def _count(n: float, noun: str) -> str:
    """'1 note', '3 notes', '1.5 bars': a number and its noun, singular only for exactly one."""
    return f"{n:g} {noun}" + ("" if n == 1 else "s")


def neighbours_rows(neigh: list[dict]) -> list[list]:
    """Neighbour dicts -> table rows: rank, title, collection, meter, bars, similarity (closer than this share
    of random corpus pairs, as a percentage) and the latent distance itself."""
    return [[i + 1, n["title"], COLLECTION_LABELS.get(n["collection"], n["collection"]), n["meter"],
             f"{n['start_bar']}-{n['start_bar'] + 3}", f"{100 * n['similarity']:.1f}%", round(n["distance"], 2)]
            for i, n in enumerate(neigh)]


def default_threads() -> None:
    """Serving single requests is fastest with one torch thread (measured); set once at start-up."""
    import torch

    torch.set_num_threads(int(os.environ.get("MELODY_TORCH_THREADS", 1)))
