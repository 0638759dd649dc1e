"""A tune read from any source: its monophonic melody on the step grid plus metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from vae.tokenizer import Note


@dataclass
class Tune:
    """One melody with where it came from. Times are in 16th-note steps from the tune's start."""

    collection: str  # e.g. "essen", "oneills", or "midi" for user files
    title: str
    source: str  # file the tune came from, relative to its corpus root
    number: str  # tune number (ABC X:) or candidate/track id
    meter: str  # first time signature, e.g. "6/8", or "none"
    key: str  # key as written in the source (K: field), may be unreliable
    notes: list[Note]
    bar_lines: list[int]  # steps where bars start (0 for a full first bar)
    total_steps: int
    stats: dict[str, int] = field(default_factory=dict)  # e.g. {"collided_notes": 2, "triplets": 1}

    def meta(self) -> dict:
        """JSON-friendly metadata without the notes."""
        d = asdict(self)
        for k in ("notes", "bar_lines"):
            d.pop(k)
        return d


def bar_starts(tune: Tune, min_hop: int) -> list[int]:
    """Bar lines at least `min_hop` steps apart, greedily from the first (window start candidates)."""
    out: list[int] = []
    for b in sorted(set(tune.bar_lines)):
        if not out or b - out[-1] >= min_hop:
            out.append(b)
    return out
