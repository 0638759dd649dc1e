"""Fit a melody's notes to given chords: beat notes moved to the nearest chord tone, passing notes resolved by step.

`fit_notes` is the last step of "Fit the melody to my chords": the steered melody keeps its rhythm and its
contour, and only pitches move. A note sounding on a beat (what vae.harmony.melody_fit counts) that is not a tone
of the chord there goes to the nearest chord tone that keeps the melody's direction into and out of it; a held
note that crosses a chord change takes the pitch that is a chord tone on most of its beats. A note between beats
that is not a chord tone is a passing or neighbour note: it must lead by step (at most a whole tone) into the
next note, else it becomes the scale tone a step from that note on the side it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vae.chords import MAJOR_STEPS, Chord
from vae.constants import MAX_PITCH, MIN_PITCH
from vae.harmony import chord_at, key_of
from vae.meter import Meter
from vae.tokenizer import Note

HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor and its leading tone, as vae.harmony's minor keys
REACH = 7  # semitones a beat note may move at most (a chord tone always lies within 3 of any pitch)
CONTOUR = 1.5  # cost, in semitones, of reversing the melody's step into or out of a note (half for a repeat)
STEP = 2  # a passing note leads into the next note by at most this many semitones


def _beats(n: Note, meter: Meter) -> list[int]:
    """The beats a note sounds on (as melody_fit counts them)."""
    first = -(-n.start // meter.beat_steps) * meter.beat_steps
    return list(range(first, n.end, meter.beat_steps))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _turn(now: int, was: int) -> float:
    """How much a step's direction changed: 0 kept, 0.5 flattened into (or out of) a repeated note, 1 reversed."""
    return 0.0 if now == was else 0.5 if 0 in (now, was) else 1.0


def _repeats(out: list[Note], original: list[int], i: int) -> bool:
    """Note i now repeats the pitch of a neighbour it did not repeat before the fit."""
    return any(out[j].pitch == out[i].pitch and original[j] != original[i] for j in (i - 1, i + 1))


def fit_notes(notes: Iterable, chords: Sequence[tuple[int, int, Chord]], meter: str | Meter = "4/4",
              key: tuple[int, bool] | None = None) -> list[Note]:
    """notes (Note(pitch, start, end) on the 16th grid, one voice) over chords [(start, end, Chord)] -> the same
    rhythm with beat notes on chord tones and passing notes resolving by step, sorted by start.

    key: (tonic 0..11, minor) of the melody; None finds it (vae.harmony.key_of). A note already on a chord tone,
    and a note on no chord's span, keeps its pitch. Pure: the input is not changed."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    out = sorted((Note(*n) for n in notes), key=lambda n: (n.start, n.pitch))
    if not out or not chords:
        return out
    tonic, minor = key if key is not None else key_of(out)
    scale = {(tonic + s) % 12 for s in (HARMONIC_MINOR if minor else MAJOR_STEPS)}
    original = [n.pitch for n in out]

    # Beat notes, in order: the previous note is already placed, the next one not yet (its original pitch).
    for i, n in enumerate(out):
        beats = [c for b in _beats(n, meter) if (c := chord_at(chords, b)) is not None]
        if not beats or all(n.pitch % 12 in c.pitch_classes for c in beats):
            continue
        prev = out[i - 1].pitch if i else None
        nxt = original[i + 1] if i + 1 < len(out) else None
        into = _sign(n.pitch - prev) if prev is not None else 0
        out_of = _sign(nxt - n.pitch) if nxt is not None else 0

        def cost(p: int, n=n, beats=beats, prev=prev, nxt=nxt, into=into, out_of=out_of) -> tuple:
            missed = sum(p % 12 not in c.pitch_classes for c in beats)
            turn = _turn(_sign(p - prev), into) if prev is not None else 0.0
            turn += _turn(_sign(nxt - p), out_of) if nxt is not None else 0.0
            return missed, abs(p - n.pitch) + CONTOUR * turn + 0.1 * (p % 12 not in scale), p > n.pitch

        best = min(range(max(n.pitch - REACH, MIN_PITCH), min(n.pitch + REACH, MAX_PITCH) + 1), key=cost)
        out[i] = n._replace(pitch=best)

    # Notes between beats: a non-chord tone leads by step into the note after it; one the fit left repeating a
    # moved neighbour (it moved by step before) passes between them on a scale tone.
    for i in range(len(out) - 1):
        n, nxt = out[i], out[i + 1]
        if _beats(n, meter):
            continue
        if i and _repeats(out, original, i):
            lo, hi = sorted((out[i - 1].pitch, nxt.pitch))
            between = [p for p in range(lo + 1, hi) if p % 12 in scale]
            if between:
                out[i] = n = n._replace(pitch=min(between, key=lambda p: abs(p - n.pitch)))
        c = chord_at(chords, n.start)
        if c is None or n.pitch % 12 in c.pitch_classes or abs(nxt.pitch - n.pitch) <= STEP:
            continue
        side = _sign(n.pitch - nxt.pitch) or 1  # approach from where the note lay
        steps = [p for p in (nxt.pitch + side, nxt.pitch + 2 * side) if p % 12 in scale]
        out[i] = n._replace(pitch=min(max(steps[0] if steps else nxt.pitch + side, MIN_PITCH), MAX_PITCH))
    return out


def fit_as_played(notes: Iterable, played: Iterable, chords: Sequence[tuple[int, int, Chord]],
                  meter: str | Meter = "4/4") -> list[Note]:
    """fit_notes for a melody heard through a key setting: `notes` as the model holds them and `played` the same
    notes as heard (vae.scales.apply_key: transposed, snapped to a scale; same count and order), fitted to `chords`
    as heard, then moved back to the model's key (each note keeps the offset the key setting gave it)."""
    notes = sorted((Note(*n) for n in notes), key=lambda n: (n.start, n.pitch))
    played = sorted((Note(*n) for n in played), key=lambda n: (n.start, n.pitch))
    if len(notes) != len(played):
        raise ValueError("played must be the same notes as notes, as heard")
    fitted = fit_notes(played, chords, meter)
    return [n._replace(pitch=f.pitch - (p.pitch - n.pitch)) for n, p, f in zip(notes, played, fitted, strict=True)]
