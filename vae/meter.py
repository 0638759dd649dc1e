"""A melody's meter on the 16th grid: bar length, beats, accents, bar numbers and the backing under it.

The model's windows are 64 sixteenths whatever the meter; a 6/8 jig's window spans 5 1/3 of its own
bars. Everything a user sees or exports (bar lines, bar numbers, the MIDI time signature, accents,
the backing's chord changes) follows the melody's meter, not the 16-step grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from vae.tokenizer import Note

_METER = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*$")
ACCENTS = (100, 84, 70)  # MIDI velocity on a downbeat, on another beat, between beats
BACKING_VELOCITY = 52


@dataclass(frozen=True)
class Meter:
    """A time signature whose bar is a whole number of sixteenths (2/4, 3/4, 6/8, 9/8, 5/4, 7/8, 2/2 ...)."""

    num: int = 4
    den: int = 4

    @classmethod
    def parse(cls, text: str | None) -> Meter:
        """'6/8' -> Meter(6, 8); 'C', 'none', '' or a bar that is not whole sixteenths -> 4/4."""
        m = _METER.match(text or "")
        if not m:
            return cls()
        num, den = int(m.group(1)), int(m.group(2))
        if num < 1 or den not in (1, 2, 4, 8, 16) or num * 16 % den:
            return cls()
        return cls(num, den)

    def __str__(self) -> str:
        return f"{self.num}/{self.den}"

    @property
    def bar_steps(self) -> int:
        return self.num * 16 // self.den

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8 (and 6/16 ...): beats of three eighths."""
        return self.den >= 8 and self.num % 3 == 0 and self.num > 3

    @property
    def beat_steps(self) -> int:
        return 3 * 16 // self.den if self.compound else max(16 // self.den, 1)

    def bar_of(self, step: int) -> int:
        """1-based bar number of a step counted from a bar line (the window's first bar is bar 1)."""
        return int(step) // self.bar_steps + 1

    def span(self, start: int, steps: int) -> str:
        """'bars 1-6' for the music from step `start` (a bar line) for `steps` steps: every bar it touches."""
        first = self.bar_of(start)
        last = self.bar_of(start + max(steps, 1) - 1)
        return f"bar {first}" if first == last else f"bars {first}-{last}"

    def velocities(self, starts) -> np.ndarray:
        """An accent pattern: MIDI velocity of notes starting at these steps (from a bar line)."""
        s = np.asarray(starts, np.int64)
        return np.where(s % self.bar_steps == 0, ACCENTS[0],
                        np.where(s % self.bar_steps % self.beat_steps == 0, ACCENTS[1], ACCENTS[2])).astype(np.int64)


BACKINGS = ("drone", "chord")


def backing_notes(notes: list[Note], kind: str | None, tonic: int, minor: bool, meter: Meter | None = None) -> list[Note]:
    """The backing under a melody: None -> []; "drone" (tonic and fifth held throughout) or "chord" (the key's
    tonic triad struck every bar of the meter), an octave below middle C."""
    if kind is None:
        return []
    if kind not in BACKINGS:
        raise ValueError(f"backing must be None, 'drone' or 'chord', not {kind!r}")
    meter = meter or Meter()
    last = max((n.end for n in notes), default=0)
    if last <= 0:
        return []
    root = 48 + int(tonic) % 12
    chord = [root, root + 7] if kind == "drone" else [root, root + (3 if minor else 4), root + 7]
    span = meter.bar_steps if kind == "chord" else last
    return [Note(p, s, min(s + span, last)) for s in range(0, last, span) for p in chord]

