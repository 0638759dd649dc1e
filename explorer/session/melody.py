"""The current melody and the Sliders screen: render a session's melody, move its sliders, vary and
regenerate it, restore it from a share link. Session in, (Session, result) out."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from explorer.errors import UserError
from explorer.latent.space import LatentSpace
from explorer.media import figures
from explorer.media.files import INSTRUMENTS, MelodyFiles, Playback, named
from explorer.session import history
from explorer.session.regenerate import regenerate as regenerate_melody
from explorer.session.sharecode import decode_z, encode_z
from explorer.session.slider_move import SLIDER_RANGE, locked_slider_move, page_slider_move, quantise
from explorer.session.state import Locks, Preview, Session, new_state
from explorer.session.words import (
    bars_word,
    originality_markdown,
    shown_title,
    variation_title,
)
from vae.chord_fit import fit_as_played
from vae.chords import parse_progression
from vae.fidelity import fit_detail, nonzero, round_detail
from vae.harmony import chord_line, melody_fit, progression_fit
from vae.meter import Meter
from vae.scales import apply_key
from vae.tokenizer import Note

RANDOM_CANDIDATES = 8  # draws a Random over typed chords picks from (bench/chord_fit.md: the Random rows)


def progression_note(play: Playback, steps: int, meter: str = "4/4") -> str:
    """One sentence on how the typed chords (play.progression) are laid over a melody of `steps` 16ths, '' when
    none are typed or they fill it bar for bar (vae.harmony.progression_fit: a longer line is cut, a shorter one
    repeats from the top, as spans_from_bars lays them)."""
    return progression_fit(parse_progression(play.progression), meter, steps) if play.progression.strip() else ""


@dataclass(frozen=True)
class Rendered:
    """Everything the current-melody panel shows after a change; built complete once (a changed copy is made with
    dataclasses.replace), so a render handed to one screen or cached by a drag is never changed under it."""

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
    chord_note: str = ""  # how typed chords longer or shorter than the melody are laid over it (progression_note)


class MelodyActions:
    """The actions on the current melody over the shared latent space; the base of every screen's actions
    (explorer.session.handlers.Handlers builds it)."""

    s: LatentSpace  # shared and read-only
    files: MelodyFiles  # where the melody's WAV and MIDI files go
    labels: list[dict]  # the sliders' directions (LatentSpace.direction_labels)
    detail_follow: object  # how an upload's detail follows a slider move (vae.fidelity.DetailFollow)

    @property
    def slider_count(self) -> int:
        """The sliders the page shows, a slider move takes and the API accepts: one per direction (labels)."""
        return len(self.labels)

    def render(self, state: Session, play: Playback, preview: bool = False,
               tokens: np.ndarray | None = None) -> Rendered:
        """Decode state.z and produce piano roll, audio, MIDI, originality check, share code and map position.

        preview: only what a drag needs to be heard and seen (piano roll and audio); `finish` adds the rest
        once the slider is let go. Its MIDI path, originality, share code and map position are empty.
        tokens: the melody [T] to show instead of state.z's decoding (a slider move with bars locked)."""
        t0 = time.perf_counter()
        if tokens is None:
            tokens = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        t1 = time.perf_counter()
        notes, key = apply_key(self.s.notes(tokens), play.key, play.scale)
        th = time.perf_counter()
        chords = self.files.chords(notes, play, state.meter)
        harmony_ms = (time.perf_counter() - th) * 1e3
        ghost = self.s.notes(state.origin_tokens) if state.origin_tokens is not None else None
        if ghost is not None and (play.key or play.scale):
            ghost = apply_key(ghost, play.key, play.scale)[0]
        fig = figures.piano_roll(notes, len(tokens), ghost=ghost, meter=state.meter, chords=named(chords),
                                 locked_bars=state.locks.bars, lock_steps=self.s.format.steps_per_bar)
        t2 = time.perf_counter()
        wav = self.files.write_audio(notes, play, meter=state.meter, chords=chords)
        t3 = time.perf_counter()
        timings = {"decode": (t1 - t0) * 1e3, "harmony": harmony_ms, "figure": (t2 - t1) * 1e3 - harmony_ms,
                   "audio": (t3 - t2) * 1e3}
        if preview:
            timings["total"] = (t3 - t0) * 1e3
            return Rendered(tokens, notes, [], fig, wav, "", {}, "", "", (math.nan, math.nan), shown_title(state), timings,
                            key, named(chords), chord_line(chords, state.meter))
        r = self._panel(state, play, tokens, notes, wav, chords, key)
        return replace(r, figure=fig,
                       timings_ms={**timings, **r.timings_ms, "total": (time.perf_counter() - t0) * 1e3})

    def shown(self, state: Session, play: Playback, tokens: np.ndarray | None = None) -> tuple[Session, Rendered]:
        """The session's melody rendered (render; tokens: the melody to show instead of state.z's decoding) and the
        session with that melody recorded as one the user reached (explorer.session.history.reached): every action
        that brings a melody to the player ends here, so a script calling the actions gets the page's history."""
        r = self.render(state, play, tokens=tokens)
        return history.reached(state), r

    def release(self, state: Session, play: Playback) -> tuple[Session, Rendered]:
        """The melody a drag left playing (state.preview), once the slider is let go: its panel completed (finish)
        and the session with it recorded in the history, the drag's frames before it not."""
        r = self.finish(state, play)
        return history.reached(state), r

    def finish(self, state: Session, play: Playback) -> Rendered:
        """The rest of a preview's panel (MIDI, originality, share code, map position, slider values) for the
        melody a drag left playing (state.preview: its tokens and audio file); no decode, no new audio."""
        if state.preview is None:
            raise ValueError("finish() needs a preview render to finish")
        tokens, wav = state.preview.tokens, state.preview.wav
        notes, key = apply_key(self.s.notes(tokens), play.key, play.scale)
        return self._panel(state, play, tokens, notes, wav, self.files.chords(notes, play, state.meter), key)

    def _panel(self, state: Session, play: Playback, tokens: np.ndarray, notes: list[Note], wav: str,
               chords: list, key: str = "") -> Rendered:
        """Everything but the piano roll and the audio: MIDI, originality, map position, sliders, share code (and
        the chords of a chord backing); key: the melody's key as played (Rendered.key)."""
        t0 = time.perf_counter()
        mid = self.files.write_midi(notes, play, meter=state.meter, chords=chords)
        t1 = time.perf_counter()
        orig = self.s.originality(tokens)
        t2 = time.perf_counter()
        xy = self.s.place(state.z)
        values = state.sliders if state.sliders is not None else self.s.sliders_of(state.z)
        sliders = [round(float(np.clip(v, -SLIDER_RANGE, SLIDER_RANGE)), 2) for v in values]
        code = self.share_code(state, play)
        t3 = time.perf_counter()
        timings = {"midi": (t1 - t0) * 1e3, "originality": (t2 - t1) * 1e3, "rest": (t3 - t2) * 1e3}
        own = state.origin_tune if state.origin_z is not None and np.array_equal(state.z, state.origin_z) else None
        return Rendered(tokens, notes, sliders, None, wav, mid, orig, originality_markdown(orig, len(notes), own), code,
                        xy, shown_title(state), timings, key, named(chords), chord_line(chords, state.meter),
                        progression_note(play, len(tokens), state.meter))

    def share_code(self, state: Session, play: Playback) -> str:
        """The share link's code of the session's melody as the page shows and plays it: z (and its detail), the
        title, meter and slider positions, and every playback setting (explorer.session.sharecode)."""
        return encode_z(state.z, play.temperature, play.seed, play.tempo, play.program, play.accompaniment,
                        shown_title(state), play.key, play.scale, detail=state.detail, meter=state.meter,
                        sliders=state.sliders, chords=play.progression, loop=state.loop, count_in=play.count_in,
                        locked_bars=state.locks.bars, rhythm_lock=state.locks.rhythm, pitch_lock=state.locks.pitches)

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

    def set_sliders(self, state: Session, values: list[float], play: Playback,
                    preview: bool = False, locked_bars=None) -> tuple[Session, Rendered]:
        """Set the 16 slider coordinates of the current melody (the rest of z is kept) and render (a preview
        while a slider is dragged: `render`; the session then holds it in `preview` for `release`, and the history
        has it only then; any other move is recorded at once: explorer.session.history.reached). A melody's
        per-bar detail fades with the distance moved from the values it had (vae.fidelity.DetailFollow), so a
        zero move keeps an upload note for note and a large one leaves it to z.

        locked_bars: bars (0-based indices, or a bool mask [bars]) the move leaves token for token as heard, so it
        acts on the others only (explorer.session.slider_move.locked_slider_move); None or none locked: every bar
        moves, as without the argument. Raises UserError when every bar is locked or a lock names a bar the
        melody does not have."""
        # A slider the user did not touch still shows its rounded (and clipped) value: its exact one is kept, so
        # moving one slider moves z along that direction only. An upload's detail fades as the sliders move away
        # (self.detail_follow): fitted to hold the upload's own notes, kept whole it would pull the moved melody
        # back toward them. The same function serves the API's slider moves.
        current = state.sliders if state.sliders is not None else self.s.sliders_of(state.z)
        t0 = time.perf_counter()
        held = None
        if locked_bars is not None and len(locked_bars) > 0:
            heard = self.s.decode(state.z, play.temperature, play.seed, state.detail)
            values, z, detail, held = locked_slider_move(self, state.z, state.detail, values, current, heard,
                                                         locked_bars, play.temperature, play.seed)
        else:
            # a drag's frames settle too (a Mood raise on a minor tune made on its notes), so the release keeps
            # the melody the drag played
            values, z, detail = page_slider_move(self, state.z, state.detail, values, current, meter=state.meter)
        steer_ms = (time.perf_counter() - t0) * 1e3
        moved = np.nonzero(np.abs(values - current) > 1e-6)[0]
        move = f"slider:{int(moved[0])}" if len(moved) == 1 else "sliders"
        # a run of moves of one slider is one history entry: its words give the change since the run began
        start = state.move_from if state.move == move and state.move_from is not None else current
        state = state.but(z=z, detail=detail, sliders=values, transform_base=None, preview=None, move=move,
                          move_from=start, made_by=self.slider_words(start, values))
        r = self.render(state, play, preview=preview, tokens=held)
        state = state.but(preview=Preview(r.tokens, r.wav_path)) if preview else history.reached(state)
        return state, replace(r, timings_ms={"steer": steer_ms, **r.timings_ms,
                                             "total": r.timings_ms["total"] + steer_ms})

    def slider_words(self, before: np.ndarray, after: np.ndarray) -> str:
        """A slider move in a musician's words: 'Notes +1.2', or 'Notes +1.2, Range -0.5' for several."""
        parts = [f"{self.slider_name(k)} {float(after[k] - before[k]):+.1f}"
                 for k in np.nonzero(np.abs(np.asarray(after) - np.asarray(before)) > 1e-6)[0]]
        return ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")

    def slider_name(self, k: int) -> str:
        """Slider k's name in a sentence: 'Mood' for 'Mood: major ← → minor', 'Direction 12' for a free one."""
        return self.labels[k]["label"].split(":")[0].split(" (")[0]

    def reset(self, state: Session, play: Playback) -> tuple[Session, Rendered]:
        state = state.but(z=state.origin_z, detail=state.origin_detail, sliders=None, transform_base=None,
                          transform_key="", move="", made_by="Reset to the original", move_from=None)
        return self.shown(state, play)

    def random(self, state: Session, play: Playback, seed: int,
               candidates: int = RANDOM_CANDIDATES) -> tuple[Session, Rendered]:
        """A new melody from the prior (the training windows' Gaussian). Over the composer's chords
        (play.progression) it is drawn over them: `candidates` draws (the first is the one drawn without chords)
        each get their beat notes moved onto the chords as heard (vae.chord_fit, rhythm and contour kept, as "Fit
        the melody to my chords" does), and the draw that fits best with the fewest notes moved is kept, held note
        for note by the model (hold_notes)."""
        if not play.progression.strip():
            z, _ = self.s.sample(1, max(play.temperature, 0.0), seed)
            state = self.set_z(state, z[0], f"Random melody (seed {seed})")
            return self.shown(state, play)
        parse_progression(play.progression)  # a sentence for a bad line before any work
        z, tokens = self.s.sample(max(int(candidates), 1), 0.0, seed)
        meter = "4/4"  # a new melody's meter (set_z)
        best, key = None, None
        for k, t in enumerate(tokens):
            notes = self.s.notes(t)
            played = apply_key(notes, play.key, play.scale)[0]
            if not played:
                continue
            chords = self.files.chords(played, play, meter)
            moved = fit_as_played(notes, played, chords, meter)
            heard = apply_key(moved, play.key, play.scale)[0]
            changed = sum(a.pitch != b.pitch for a, b in zip(notes, moved, strict=True)) / len(notes)
            score = (melody_fit(heard, chords, meter), -changed)
            if key is None or score > key:
                best, key = (k, moved), score
        if best is None:  # every draw silent: the plain draw, as without chords
            state = self.set_z(state, z[0], f"Random melody (seed {seed})")
            return self.shown(state, play)
        k, moved = best
        z_best, detail = self.hold_notes(self.s.model.tokenizer.encode(moved, tokens.shape[1]), z[k])
        state = self.set_z(state, z_best, f"Random melody over your chords (seed {seed})", detail=detail)
        return self.shown(state, play)

    def hold_notes(self, tokens: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """A melody [T] the model should play note for note, from near z [Z]: (z, None) when z alone decodes it;
        else a per-bar detail fitted at z (vae.fidelity); else z and detail fitted together, as for an upload."""
        z = quantise(z)
        if np.array_equal(self.s.decode(z), tokens):
            return z, None
        found, out, _ = fit_detail(self.s.model, tokens[None], z[None])
        if np.array_equal(out[0], tokens):
            return z, nonzero(round_detail(found[0]))
        fit = self.s.fit_melody(tokens)
        return quantise(fit["z"]), nonzero(None if fit["detail"] is None else round_detail(fit["detail"]))

    def similar(self, state: Session, play: Playback, similarity: float, seed: int) -> tuple[Session, Rendered]:
        """A variation of the current melody (Magenta.js `similar`: 1 = identical, 0 = unrelated)."""
        z, _ = self.s.similar(state.z, 1, similarity, play.temperature, seed)
        # A variation of an upload keeps its detail in proportion: at similarity 1 it is the upload itself.
        detail = None if state.detail is None else float(np.clip(similarity, 0.0, 1.0)) * state.detail
        state = self.set_z(state, z[0], variation_title(state.title), as_origin=False, detail=detail)
        return self.shown(state, play)

    def regenerate(self, state: Session, locked_bars, rhythm_lock: bool, play: Playback,
                   seed: int, pitch_lock: bool = False) -> tuple[Session, dict]:
        """Four new melodies that keep the current melody's locked bars (0-based indices) note for note, with
        rhythm_lock its every onset and duration, with pitch_lock its pitches in order on a new rhythm
        (explorer.session.regenerate). The melody is the one heard (state.z with
        its detail, at the playback's temperature and seed). The alternatives go into state.regenerated (z,
        tokens) for take_alternative; returns the state and {"figure", "notes", "tokens", "title", "audio" (a WAV
        path per alternative, as it will sound once taken)}."""
        if state.z is None:
            raise UserError("Load or create a melody first.")
        tokens = self.s.decode(state.z, play.temperature, play.seed, state.detail)
        out = regenerate_melody(self.s, state.z, tokens, sorted({int(b) for b in locked_bars}), n=4,
                                rhythm_lock=bool(rhythm_lock), seed=int(seed), pitch_lock=bool(pitch_lock))
        alts = out.alternatives
        kept = [int(b) + 1 for b in np.flatnonzero(out.locked_bars)]
        what = (([bars_word(kept)] if kept else []) + (["the rhythm"] if rhythm_lock else [])
                + (["the pitches"] if pitch_lock else []))
        title = f"Regenerated ({' and '.join(what)} kept)" if what else "Regenerated"
        notes = [a.notes for a in alts]
        fig = figures.strip(notes, [f"Take {i + 1}" for i in range(len(alts))], total_steps=len(tokens))
        # each alternative as it will sound once taken (key, backing, tempo and sound of the page), to hear first
        audio = [self.files.write_audio(apply_key(n, play.key, play.scale)[0], play, stem=f"take-{i + 1}",
                                        meter=state.meter) for i, n in enumerate(notes)]
        state = state.but(regenerated=tuple((a.z, a.tokens) for a in alts), regenerated_title=title)
        return state, {"figure": fig, "notes": notes, "tokens": [a.tokens for a in alts], "title": title,
                       "audio": audio, "seconds": out.seconds}

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
        return self.shown(state, play)

    def from_share_code(self, state: Session, code: str, play: Playback) -> tuple[Session, Rendered, Playback]:
        """Restore the melody (title, meter, slider positions, locks) and playback settings (loop in the session)
        carried by a share link."""
        d = decode_z(code)
        if len(d["z"]) != self.s.latent_dim:
            raise UserError("this link was made with another model and cannot be restored here")
        inst = next((k for k, v in INSTRUMENTS.items() if v == d["program"]), None)
        play = Playback(inst or play.instrument, d["tempo"], d["temperature"], d["seed"], d["backing"],
                        gm_program=None if inst else d["program"], key=d["key"], scale=d["scale"],
                        count_in=d["count_in"], progression=d["chords"])
        if d["detail"] is not None and d["detail"].shape != tuple(self.s.detail_shape):
            raise UserError("this link was made with another model and cannot be restored here")
        state = self.set_z(state, d["z"], d["title"] or "Shared melody", meter=d["meter"], detail=d["detail"])
        # the sliders where the user set them (a steered move lands near them: z alone would show other values)
        sliders = d["sliders"] if d["sliders"] is not None and len(d["sliders"]) == self.slider_count else None
        if any(b >= self.s.format.bars for b in d["locked_bars"]):
            raise UserError(f"this link locks bar {max(d['locked_bars']) + 1}, but its melody has "
                            f"{self.s.format.bars} bars")
        state = state.but(sliders=sliders, loop=d["loop"],
                          locks=Locks(d["locked_bars"], d["rhythm_lock"], d["pitch_lock"]))
        return (*self.shown(state, play), play)
