"""Write melodies (notes or tokens on the 16th grid) as standard MIDI files that any DAW opens.

The file has one named track ("Melody"), a 4/4 time signature and a constant tempo, at 480 ticks per
beat so every 16th step is a whole number of ticks: reading it back with vae.midi_import gives exactly
the same tokens.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from vae.constants import STEPS_PER_QUARTER
from vae.tokenizer import MelodyTokenizer, Note

TICKS_PER_BEAT = 480  # divisible by 4: 120 ticks a 16th step


def concat_sections(sections: Sequence[Sequence[Note]], section_steps: int = 64) -> list[Note]:
    """One longer piece from several note lists, section k shifted by k * section_steps."""
    return [Note(n.pitch, n.start + k * section_steps, n.end + k * section_steps)
            for k, notes in enumerate(sections) for n in (Note(*m) for m in notes)]


def notes_to_midi(notes: Iterable[Note], path: str | Path | None = None, tempo: float = 120.0, program: int = 0,
                  velocity: int = 90, name: str = "Melody", time_signature: tuple[int, int] = (4, 4)):
    """Notes (pitch, start step, end step) -> pretty_midi.PrettyMIDI, also written to `path` if given.

    `tempo` is in quarter notes per minute, `program` a General MIDI program (0 = piano). A longer
    piece is simply notes with larger steps (see concat_sections).
    """
    import pretty_midi

    if not 0 <= program <= 127:
        raise ValueError(f"program {program} outside 0..127")
    if tempo <= 0:
        raise ValueError(f"tempo {tempo} must be positive")
    pm = pretty_midi.PrettyMIDI(resolution=TICKS_PER_BEAT, initial_tempo=float(tempo))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(time_signature[0], time_signature[1], 0.0))
    inst = pretty_midi.Instrument(program=program, name=name)
    seconds_per_step = 60.0 / tempo / STEPS_PER_QUARTER
    for n in sorted(Note(*m) for m in notes):
        if n.end > n.start:
            inst.notes.append(pretty_midi.Note(int(velocity), int(n.pitch), n.start * seconds_per_step,
                                               n.end * seconds_per_step))
    pm.instruments.append(inst)
    if path is not None:
        pm.write(str(path))
    return pm


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
