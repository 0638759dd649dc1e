"""Two-way melody tokenizer: monophonic notes on a 16th grid <-> MusicVAE hold/off/note-on tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF, VOCAB_SIZE, pitch_to_token, token_to_pitch
from vae.music import pitch_name


class Note(NamedTuple):
    """One note on the step grid: MIDI pitch, first step, step after the last (end exclusive)."""

    pitch: int
    start: int
    end: int


class MelodyTokenizer:
    """Encode monophonic notes to a fixed-length token array and back.

    A note-on token starts a note at its step; HOLD continues the previous event (note or rest);
    NOTE_OFF ends the sounding note. Overlapping input is made monophonic: a later note cuts the
    sounding one, and of notes starting on the same step the highest wins.
    """

    vocab_size = VOCAB_SIZE

    def encode(self, notes: Iterable[Note], num_steps: int | None = None) -> np.ndarray:
        """Notes -> int64 tokens of length `num_steps` (default: up to the last note's end).

        Notes past `num_steps` are cut off; zero-length notes are ignored.
        """
        ordered = sorted((Note(*n) for n in notes), key=lambda n: (n.start, -n.pitch))
        if num_steps is None:
            num_steps = max((n.end for n in ordered), default=0)
        tokens = np.full(num_steps, HOLD, dtype=np.int64)
        last_start = -1
        for i, note in enumerate(ordered):
            if note.start == last_start or note.end <= note.start or note.start < 0:
                continue  # same onset as a higher note, or empty / negative
            if note.start >= num_steps:
                break
            last_start = note.start
            tokens[note.start] = pitch_to_token(note.pitch)
            nxt = next((m.start for m in ordered[i + 1 :] if m.start > note.start), None)
            end = min(note.end, num_steps)
            if end < num_steps and (nxt is None or end < nxt):
                tokens[end] = NOTE_OFF
        return tokens

    def decode(self, tokens: Sequence[int] | np.ndarray) -> list[Note]:
        """Tokens -> notes; a note still sounding at the end stops at len(tokens)."""
        notes: list[Note] = []
        pitch, start = None, 0
        for step, tok in enumerate(int(t) for t in tokens):
            if tok == HOLD:
                continue
            if pitch is not None:
                notes.append(Note(pitch, start, step))
                pitch = None
            if tok >= FIRST_NOTE_ON:
                pitch, start = token_to_pitch(tok), step
            elif tok != NOTE_OFF:
                raise ValueError(f"invalid token {tok} at step {step}")
        if pitch is not None:
            notes.append(Note(pitch, start, len(tokens)))
        return notes

    @staticmethod
    def describe(tokens: Sequence[int] | np.ndarray) -> list[str]:
        """Readable token names, e.g. ['C4', 'hold', 'off'] (for debugging and tests)."""
        out = []
        for t in tokens:
            t = int(t)
            if t == HOLD:
                out.append("hold")
            elif t == NOTE_OFF:
                out.append("off")
            else:
                out.append(pitch_name(token_to_pitch(t)))
        return out
