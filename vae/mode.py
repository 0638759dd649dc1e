"""More minor, on the notes: a major tune toward its parallel minor, a minor tune darker with its key and tonic kept.

What "more minor" means for a tune already in minor: darker, as the modes darken (Dorian -> Aeolian ->
Phrygian), with its tonic and minor key kept. One step lowers by a semitone the degrees that brighten a minor
key, wherever the melody has them: first to the natural minor (a major 3rd, a raised 6th and a raised 7th
lowered), then the Phrygian 2nd (DARKER_STEPS). A step that would lose the tonic or the minor key (by
vae.music.estimate_key), or leave a melody the Mood attribute no longer hears as minor (Mood <= 0, or below
where it began when it began there), is tried in parts
(the 3rd and 6th alone, the 7th alone) and otherwise skipped; so a tune never turns major. A major tune's first
step is its parallel minor (3rd, 6th and 7th lowered) where that keeps its tonic. Rhythm, octaves and every
other note stay as they are.

The Mood attribute is a key-finding score (best minor minus best major key correlation, vae.attributes), not a
darkness scale: the 3rd and 6th raise it, while the natural 7th and the Phrygian 2nd bring a minor tune's notes
nearer its relative major's scale and may lower it (bench/minor_mode.md measures both).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from vae.constants import MIN_PITCH
from vae.music import estimate_key, estimate_keys
from vae.tokenizer import Note

# (what a step does in words, its forms: the whole step first, then parts of it), darkest last
PARALLEL_MINOR = ("the parallel minor", ({4: 3, 9: 8, 11: 10},))
DARKER_STEPS = (("the natural minor", ({4: 3, 9: 8, 11: 10}, {4: 3, 9: 8}, {11: 10})),
                ("the Phrygian 2nd", ({2: 1},)))


def mood(notes: Iterable) -> float:
    """The Mood attribute of a note list (vae.attributes' minorness: best minor minus best major key correlation
    of the duration histogram; > 0 sounds minor); NaN for silence."""
    hist = np.zeros((1, 12))
    for n in notes:
        hist[0, n.pitch % 12] += max(n.end - n.start, 1)
    return float(estimate_keys(hist)["minorness"][0])


def lower_degrees(notes: Iterable, tonic: int, moves: dict[int, int]) -> list[Note]:
    """Every note `d` semitones above the tonic (any octave) moved to `moves[d]` above it; the rest as they are."""
    out = []
    for n in (Note(*m) for m in notes):
        d = (n.pitch - tonic) % 12
        p = n.pitch - (d - moves[d]) if d in moves else n.pitch
        out.append(Note(p if p >= MIN_PITCH else p + 12, n.start, n.end))
    return out


def more_minor(notes: Iterable, steps: int, bar_steps: int = 16) -> tuple[list[Note], list[str]]:
    """The melody `steps` steps more minor (see the module's docstring): (notes, the steps taken in words, e.g.
    ['the natural minor', 'the Phrygian 2nd']). A step the melody has no degree for, or that would lose its
    tonic or minor key, is passed over for the next; fewer steps, or none, are taken where none is left."""
    notes = [Note(*n) for n in notes]
    if not notes or steps <= 0:
        return notes, []
    tonic, _ = estimate_key(notes, bar_steps)
    taken: list[str] = []
    floor = min(mood(notes), 0.0)  # the Mood attribute still hears minor (or no less than it did)

    def keeps(moved: list[Note]) -> bool:
        return moved != notes and estimate_key(moved, bar_steps) == (tonic, "minor") and mood(moved) > floor

    for words, forms in ((PARALLEL_MINOR, *DARKER_STEPS) if estimate_key(notes, bar_steps)[1] == "major"
                         else DARKER_STEPS):
        if steps <= 0:
            break
        moved = next((m for m in (lower_degrees(notes, tonic, f) for f in forms) if keeps(m)), None)
        if moved is None:
            if words == PARALLEL_MINOR[0]:
                break  # a major tune that cannot take its parallel minor is left as it is
            continue
        notes, steps = moved, steps - 1
        taken.append(words)
    return notes, taken
