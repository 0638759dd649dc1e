"""Music helpers used across the project, each defined once: pitch names, key profiles and key finding."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# One spelling for every display: sharps for the black keys' names in note names, flats for keys (what a
# musician writes: "Eb major", not "D# major"), both from these two tables.
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

# Krumhansl-Kessler probe-tone profiles, tonic first (Krumhansl 1990).
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def pitch_name(pitch: int) -> str:
    """MIDI pitch -> scientific name, e.g. 60 -> 'C4', 63 -> 'Eb4'."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def key_name(tonic: int, minor: bool) -> str:
    """'A minor' / 'Eb major'; 'unknown' for tonic -1."""
    return f"{NOTE_NAMES[tonic]} {'minor' if minor else 'major'}" if tonic >= 0 else "unknown"


def key_profiles() -> np.ndarray:
    """The 24 rotated key profiles [24, 12]: rows 0..11 major on C..B, rows 12..23 minor on C..B."""
    major = np.stack([np.roll(KK_MAJOR, k) for k in range(12)])
    minor = np.stack([np.roll(KK_MINOR, k) for k in range(12)])
    return np.concatenate([major, minor])


def key_correlations(hist: np.ndarray) -> np.ndarray:
    """Pearson correlation of each histogram [N, 12] with the 24 key profiles -> [N, 24]; NaN for empty rows."""
    h = np.asarray(hist, dtype=np.float64)
    hc = h - h.mean(axis=1, keepdims=True)
    hn = np.linalg.norm(hc, axis=1, keepdims=True)
    p = key_profiles()
    pc = p - p.mean(axis=1, keepdims=True)
    pc /= np.linalg.norm(pc, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (hc / hn) @ pc.T


def estimate_keys(hist: np.ndarray) -> dict[str, np.ndarray]:
    """Krumhansl-Schmuckler key finding on pitch-class histograms [N, 12].

    Returns tonic [N] (0 = C; -1 when the histogram is empty or flat), minor [N] bool, minorness [N]
    (best minor correlation minus best major correlation: > 0 sounds minor; NaN when undefined) and
    name [N] like "A minor". The K: fields of the ABC corpus are unreliable, so mode comes from notes.
    """
    corr = key_correlations(hist)
    valid = np.isfinite(corr).all(axis=1)
    safe = np.where(valid[:, None], corr, 0.0)
    best = safe.argmax(axis=1)
    minorness = np.where(valid, safe[:, 12:].max(axis=1) - safe[:, :12].max(axis=1), np.nan)
    tonic = np.where(valid, best % 12, -1)
    minor = valid & (best >= 12)
    names = np.array([key_name(t, m) for t, m in zip(tonic.tolist(), minor.tolist(), strict=True)])
    return {"tonic": tonic, "minor": minor, "minorness": minorness.astype(np.float32), "name": names}


# The melody's own tonic decides between keys whose profiles fit about as well: a G major pentatonic tune
# (G A B D E) has no 4th or 7th, and the profiles alone may hear D major in it (a D-A drone under a G tune).
# Weights fitted on 900 corpus tunes and their first four bars (against the K: tonic) and on generated
# pentatonic melodies; bench/backing_key.md measures them on another sample.
KEY_CLOSE = 0.2  # keys within this profile correlation of the best are close enough for the tonic's evidence
TRIAD_WEIGHT = 2.0  # correlation a key gains per share of the melody's duration on its tonic triad
DOWNBEAT_WEIGHT = 0.2  # ... per share of the duration of notes struck on a bar line that is on its tonic
FINAL_WEIGHT = 0.2  # ... when the melody's last note is its tonic, held a quarter or more or struck on a bar line


def key_evidence(notes: Iterable, bar_steps: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A note list's (profile correlations [24], tonic evidence [24]) for the keys in key_profiles' order, on a
    grid of `bar_steps` sixteenths a bar. Evidence is what the melody does to establish a key's tonic
    (TRIAD_WEIGHT, DOWNBEAT_WEIGHT, FINAL_WEIGHT). Correlations are NaN for silence or a flat histogram."""
    from vae.constants import STEPS_PER_QUARTER

    notes = list(notes)
    hist, down = np.zeros(12), np.zeros(12)
    for n in notes:
        hist[n.pitch % 12] += max(n.end - n.start, 1)
        if n.start % bar_steps == 0:
            down[n.pitch % 12] += max(n.end - n.start, 1)
    corr = key_correlations(hist[None])[0]
    if not notes:
        return corr, np.zeros(24)
    tonic = np.arange(24) % 12
    third = np.where(np.arange(24) >= 12, 3, 4)
    share = hist / hist.sum()
    triad = share[tonic] + share[(tonic + third) % 12] + share[(tonic + 7) % 12]
    last = max(notes, key=lambda n: (n.start, n.end))
    held = last.end - last.start >= STEPS_PER_QUARTER or last.start % bar_steps == 0
    final = (tonic == last.pitch % 12) & held
    on_bar = down[tonic] / max(down.sum(), 1e-9)
    return corr, TRIAD_WEIGHT * triad + DOWNBEAT_WEIGHT * on_bar + FINAL_WEIGHT * final


def estimate_key(notes: Iterable, bar_steps: int = 16) -> tuple[int, str]:
    """Key of one note list (objects with pitch, start, end; `bar_steps` sixteenths a bar): (tonic pitch class
    0..11, "major" or "minor"); (0, "major") for silence or a flat histogram.

    Krumhansl-Schmuckler key finding, with the melody's own tonic deciding among the keys within KEY_CLOSE
    of the best fit (key_evidence): the key whose tonic triad the melody sounds most, whose tonic it strikes
    on bar lines and ends on, wins. (estimate_keys, on histograms alone, is what the Mood attribute measures.)"""
    corr, evidence = key_evidence(notes, bar_steps)
    if not np.isfinite(corr).all():
        return 0, "major"
    best = int(np.argmax(np.where(corr >= corr.max() - KEY_CLOSE, corr + evidence, -np.inf)))
    return best % 12, "minor" if best >= 12 else "major"


def snap(quarters: float, steps_per_quarter: int) -> int:
    """A time in quarter notes -> the nearest grid step (the one rounding rule of the ABC and MusicXML readers)."""
    return int(round(quarters * steps_per_quarter))


ONSET_BASE = 200  # relative note-on codes ONSET_BASE +- 87 stay clear of the hold and note-off tokens


def relative_onsets(tokens: np.ndarray) -> np.ndarray:
    """The transposition-invariant form of windows [N, T] (int16): each note-on becomes ONSET_BASE + its
    interval from the window's first note-on; hold and note-off stay as they are. The split's duplicate
    check compares whole windows in this form; the copy check hashes every bar of it (explorer.originality)."""
    t = np.atleast_2d(np.asarray(tokens)).astype(np.int16)
    from vae.constants import FIRST_NOTE_ON

    is_on = t >= FIRST_NOTE_ON
    first = t[np.arange(len(t)), is_on.argmax(axis=1)]
    return np.where(is_on, t - first[:, None] + ONSET_BASE, t).astype(np.int16)
