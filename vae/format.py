"""The melody format: the shape of the data, stored in every checkpoint and read wherever a size is needed."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vae.constants import FIRST_NOTE_ON, HOLD, MAX_PITCH, MIN_PITCH, NOTE_OFF, STEPS_PER_BAR, VOCAB_SIZE


@dataclass(frozen=True)
class MelodyFormat:
    """A window is `bars` bars of `steps_per_bar` steps (a 16th grid in 4/4), one token per step."""

    steps_per_bar: int = STEPS_PER_BAR
    bars: int = 4
    vocab_size: int = VOCAB_SIZE
    hold: int = HOLD
    note_off: int = NOTE_OFF
    first_note_on: int = FIRST_NOTE_ON
    min_pitch: int = MIN_PITCH
    max_pitch: int = MAX_PITCH

    @property
    def window_steps(self) -> int:
        return self.steps_per_bar * self.bars

    def bar_of(self, step: int) -> int:
        """1-based 16-step bar number of a step."""
        return int(step) // self.steps_per_bar + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_meta(cls, meta: dict) -> MelodyFormat:
        """The format a checkpoint records (older checkpoints: derived from the model's settings)."""
        if isinstance(meta.get("melody_format"), dict):
            return cls(**meta["melody_format"])
        m = meta.get("model", {})
        spb = int(m.get("bar_steps", STEPS_PER_BAR))
        return cls(steps_per_bar=spb, bars=int(m.get("seq_len", 4 * spb)) // spb)


DEFAULT_FORMAT = MelodyFormat()
