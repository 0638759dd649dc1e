"""Write melodies (notes or tokens on the 16th grid) as standard MIDI files that any DAW opens.

The file has a named melody track ("Melody"), the melody's time signature (4/4 unless given), a constant
tempo, velocities from the meter's accent pattern (downbeat, beat, between beats) and, when a backing is
chosen, the backing as its own track (the harmoniser's chords: a "Chords" track, each chord's symbol a text
event at its start, which DAWs show on the timeline). 480 ticks per beat make every 16th step a whole number of ticks:
reading it back with vae.midi_import gives exactly the same tokens.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.constants import STEPS_PER_QUARTER
from vae.meter import BACKING_VELOCITY, Meter
from vae.tokenizer import MelodyTokenizer, Note

TICKS_PER_BEAT = 480  # divisible by 4: 120 ticks a 16th step


def concat_sections(sections: Sequence[Sequence[Note]], section_steps: int) -> list[Note]:
    """One longer piece from several note lists, section k shifted by k * section_steps (a model's window:
    MelodyFormat.window_steps)."""
    return [Note(n.pitch, n.start + k * section_steps, n.end + k * section_steps)
            for k, notes in enumerate(sections) for n in (Note(*m) for m in notes)]


@dataclass(frozen=True)
class Track:
    """One part of a MIDI file (tracks_to_midi): its notes on the 16th grid and how they sound."""

    notes: Sequence[Note]
    program: int = 0  # General MIDI program (0 = piano); a drum track's kit
    name: str = ""  # the track's name ("": the track has none)
    # one velocity for every note, one per note (in the order of `notes`), or a function of the notes' start
    # steps [n] -> velocities [n] (a meter's accents: Meter.velocities)
    velocity: int | Sequence[int] | Callable[[np.ndarray], np.ndarray] = 80
    drums: bool = False  # General MIDI's percussion channel (10): pitches are drum sounds


def tracks_to_midi(tracks: Iterable[Track], path: str | Path | None = None, tempo: float = 120.0,
                   meter: Meter | str = "4/4", chords: Iterable[tuple[int, str]] = (),
                   lyrics: Iterable[int] = ()):
    """Tracks -> pretty_midi.PrettyMIDI (one MIDI track each, in order, after the tempo track), also written to
    `path` if given. `tempo` in quarter notes per minute; `chords` (start step, symbol like "Am7") become text
    events; `lyrics` are the start steps of sung syllables ("la"). Notes that end where they start are left out.
    """
    import pretty_midi

    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    tracks = list(tracks)
    for t in tracks:
        if not 0 <= t.program <= 127:
            raise ValueError(f"program {t.program} outside 0..127")
    if tempo <= 0:
        raise ValueError(f"tempo {tempo} must be positive")
    pm = pretty_midi.PrettyMIDI(resolution=TICKS_PER_BEAT, initial_tempo=float(tempo))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(meter.num, meter.den, 0.0))
    seconds_per_step = 60.0 / tempo / STEPS_PER_QUARTER
    for t in tracks:
        inst = pretty_midi.Instrument(program=t.program, is_drum=t.drums, name=t.name)
        notes = [Note(*m) for m in t.notes]
        if callable(t.velocity) or np.ndim(t.velocity) == 0:
            pairs = [(n, 0) for n in sorted(notes) if n.end > n.start]
            starts = np.array([n.start for n, _ in pairs], np.int64)
            vels = (t.velocity(starts) if callable(t.velocity) else np.full(len(pairs), int(t.velocity))) if pairs else []
        else:
            pairs = sorted((n, int(v)) for n, v in zip(notes, t.velocity, strict=True) if n.end > n.start)
            vels = [v for _, v in pairs]
        for (n, _), v in zip(pairs, vels, strict=True):
            inst.notes.append(pretty_midi.Note(int(v), int(n.pitch), n.start * seconds_per_step, n.end * seconds_per_step))
        pm.instruments.append(inst)
    for start, symbol in chords:
        pm.text_events.append(pretty_midi.Text(str(symbol), float(start) * seconds_per_step))
    for start in lyrics:
        pm.lyrics.append(pretty_midi.Lyric("la", float(start) * seconds_per_step))
    if path is not None:
        pm.write(str(path))
    return pm


def notes_to_midi(notes: Iterable[Note], path: str | Path | None = None, tempo: float = 120.0, program: int = 0,
                  velocity: int | None = None, name: str = "Melody", meter: Meter | str = "4/4",
                  backing: Iterable[Note] = (), backing_program: int = 0, backing_name: str = "Backing",
                  chords: Iterable[tuple[int, str]] = ()):
    """Notes (pitch, start step, end step) -> pretty_midi.PrettyMIDI, also written to `path` if given.

    `tempo` is in quarter notes per minute, `program` a General MIDI program (0 = piano). `velocity`
    None follows the meter's accents; a number is used for every note. `backing` notes go to a second
    track (program `backing_program`); `chords` (start step, symbol like "Am7") become text events. A longer
    piece is simply notes with larger steps (concat_sections); more parts: tracks_to_midi.
    """
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    for p in (program, backing_program):
        if not 0 <= p <= 127:
            raise ValueError(f"program {p} outside 0..127")
    tracks = [Track(list(notes), program, name, meter.velocities if velocity is None else int(velocity))]
    backing = list(backing)
    if backing:
        tracks.append(Track(backing, backing_program, backing_name, BACKING_VELOCITY))
    return tracks_to_midi(tracks, path, tempo, meter, chords)


def tokens_to_notes(tokens: np.ndarray | Sequence[int]) -> list[Note]:
    """Tokens [steps] -> notes, or windows [n, steps] -> one piece with the windows one after another."""
    arr = np.asarray(tokens)
    tok = MelodyTokenizer()
    if arr.ndim == 1:
        return tok.decode(arr)
    return concat_sections([tok.decode(row) for row in arr], arr.shape[1])


def tokens_to_midi(tokens: np.ndarray | Sequence[int], path: str | Path | None = None, **kwargs):
    """Tokens [steps] or windows [n, steps] -> pretty_midi.PrettyMIDI (kwargs as notes_to_midi)."""
    return notes_to_midi(tokens_to_notes(tokens), path, **kwargs)


def write_midi_bytes(notes: Iterable[Note], **kwargs) -> bytes:
    """The bytes of a .mid file for these notes (kwargs as notes_to_midi), for downloads and HTTP."""
    buf = io.BytesIO()
    notes_to_midi(notes, **kwargs).write(buf)
    return buf.getvalue()
