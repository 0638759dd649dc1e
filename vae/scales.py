"""Keys and scales for a melody: transpose to any key, snap notes to a scale (so a melody fits a song in progress).

Both act on note lists (pitch, start, end) after decoding, like a tempo or an instrument: the latent z and
every slider are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from vae.constants import MAX_PITCH, MIN_PITCH
from vae.music import NOTE_NAMES, estimate_key, key_name
from vae.tokenizer import Note

# Semitones above the tonic of each scale a musician asks for by name.
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10),
          "mixolydian": (0, 2, 4, 5, 7, 9, 10), "major pentatonic": (0, 2, 4, 7, 9),
          "minor pentatonic": (0, 3, 5, 7, 10), "blues": (0, 3, 5, 6, 7, 10)}
KEYS = tuple(NOTE_NAMES)  # tonic names, C .. B (flats for the black keys, as keys are written)


def tonic_of(name: str) -> int:
    """'Eb' -> 3; ValueError for a name that is not one of KEYS."""
    if name not in KEYS:
        raise ValueError(f"key must be one of {', '.join(KEYS)}, not {name!r}")
    return KEYS.index(name)


def shift_into_range(notes: list[Note], semitones: int) -> list[Note]:
    """Notes moved by `semitones`, then by whole octaves back toward the middle if any left the piano range."""
    if not notes:
        return []
    lo, hi = min(n.pitch for n in notes) + semitones, max(n.pitch for n in notes) + semitones
    while lo < MIN_PITCH and hi + 12 <= MAX_PITCH:
        semitones, lo, hi = semitones + 12, lo + 12, hi + 12
    while hi > MAX_PITCH and lo - 12 >= MIN_PITCH:
        semitones, lo, hi = semitones - 12, lo - 12, hi - 12
    return [Note(min(max(n.pitch + semitones, MIN_PITCH), MAX_PITCH), n.start, n.end) for n in notes]


def transpose_to(notes: Iterable, tonic: int) -> tuple[list[Note], int]:
    """Transpose a melody so its detected key's tonic becomes `tonic` (0 = C), mode kept, by the smaller
    interval (-6..+5 semitones). Returns (notes, semitones moved)."""
    notes = [Note(*n) for n in notes]
    if not notes:
        return [], 0
    now, _ = estimate_key(notes)
    shift = (tonic - now) % 12
    shift = shift - 12 if shift > 5 else shift
    return shift_into_range(notes, shift), shift


def snap_to_scale(notes: Iterable, tonic: int, scale: str) -> list[Note]:
    """Every pitch moved to the nearest pitch of `scale` on `tonic` (a tie goes to the pitch below);
    notes already in the scale are untouched."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    allowed = {(tonic + s) % 12 for s in SCALES[scale]}
    out = []
    for n in (Note(*m) for m in notes):
        for d in (0, -1, 1, -2, 2, -3, 3):
            p = n.pitch + d
            if p % 12 in allowed and MIN_PITCH <= p <= MAX_PITCH:
                out.append(Note(p, n.start, n.end))
                break
        else:  # unreachable for these scales (no gap wider than 3 semitones), kept for safety
            out.append(n)
    return out


def apply_key(notes: Iterable, key: str | None = None, scale: str | None = None) -> tuple[list[Note], str]:
    """The key-and-scale setting applied to a melody: transpose to `key` (None = as it is), then snap to
    `scale` (None = off) on the key's tonic. Returns (notes, a description like 'D major (from G major)')."""
    notes = [Note(*n) for n in notes]
    if not notes:
        return [], "no key (silent)"
    tonic, mode = estimate_key(notes)
    found = key_name(tonic, mode == "minor")
    if key:
        notes, _ = transpose_to(notes, tonic_of(key))
        tonic = tonic_of(key)
    if scale:
        notes = snap_to_scale(notes, tonic, scale)
        what = f"{KEYS[tonic]} {scale}"
    else:
        what = key_name(tonic, mode == "minor")
    return notes, what if what == found else f"{what} (from {found})"
