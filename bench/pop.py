"""Pop-like multi-track MIDI files with a known sung line, for upload fidelity and melody-track tests.

Each file (seeded, varied) has a syncopated vocal line in phrases that repeat their rhythm (verse lower,
chorus higher, wide register), a countermelody that enters in the chorus, piano chords whose top voice
moves, bass and drums, and optionally lyrics on the vocal. Names can be kept, removed or made to lie,
and tracks are shuffled, so the vocal must be found from the music itself.

    make_pop_song(path, seed, names="none") -> PopSong (path, vocal track index, vocal notes)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.midi_export import Track, tracks_to_midi
from vae.tokenizer import Note

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])
PROGRESSIONS = [[0, 4, 5, 3], [5, 3, 0, 4], [0, 5, 3, 4], [0, 3, 4, 3], [0, 6, 5, 4]]  # scale degrees of roots
# One-bar vocal rhythms on the 16th grid (onset steps); many anticipate a beat (steps 3, 7, 11, 14).
RHYTHMS = [[0, 3, 6, 8, 10, 14], [2, 4, 7, 10, 12], [0, 2, 4, 7, 11, 14], [0, 6, 8, 11, 14], [1, 3, 6, 10, 12, 14],
           [0, 3, 4, 6, 8, 12], [2, 5, 8, 10, 13]]
NAME_MODES = ("named", "none", "lying")
COUNTER_KINDS = ("pad", "riff", "answer")


@dataclass
class PopSong:
    path: Path
    vocal_track: int  # index of the vocal's track in the file (0-based, the tempo track counts)
    vocal: list[Note]  # the sung line on the 16th grid
    meter: str
    counter: str  # the kind of countermelody (COUNTER_KINDS)


def _scale_pitch(tonic: int, scale: np.ndarray, degree: int) -> int:
    return tonic + 12 * (degree // 7) + int(scale[degree % 7])


def make_pop_song(path: Path | str, seed: int = 0, names: str = "none", lyrics: bool | None = None,
                  bars: int = 32, counter: str | None = None) -> PopSong:
    """Write one pop-like song to path (a type-1 MIDI file, 480 ticks per beat, vae.midi_export) and return what
    it holds."""
    if names not in NAME_MODES:
        raise ValueError(f"names must be one of {NAME_MODES}")
    rng = np.random.default_rng(seed)
    minor = bool(rng.random() < 0.35)
    scale = MINOR if minor else MAJOR
    tonic = 48 + int(rng.integers(0, 12))  # the key's tonic in octave 3
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    tempo = float(rng.integers(80, 132))
    lyrics = bool(rng.random() < 0.5) if lyrics is None else lyrics
    steps_bar = 16
    vocal: list[Note] = []
    counter_notes: list[Note] = []
    piano: list[Note] = []
    bass: list[Note] = []
    drums: list[Note] = []
    verse_rh = [RHYTHMS[int(i)] for i in rng.choice(len(RHYTHMS), 2, replace=False)]
    chorus_rh = [RHYTHMS[int(i)] for i in rng.choice(len(RHYTHMS), 2, replace=False)]
    counter_kind = str(rng.choice(COUNTER_KINDS)) if counter is None else counter
    riff_steps = [0, 2, 4, 6, 8, 10, 12, 14] if rng.random() < 0.5 else [0, 3, 6, 8, 10, 12]
    riff_degrees = [int(d) for d in rng.choice([0, 2, 4, 7], size=len(riff_steps))]
    verse_centre = 7 + int(rng.integers(0, 3))  # scale degree (octave 3 + ...) around G4..B4 for a low tonic
    for bar in range(bars):
        section = "chorus" if (bar // 8) % 2 == 1 else "verse"
        root = prog[bar % 4]
        chord = [root, root + 2, root + 4]
        t0 = bar * steps_bar
        # vocal: phrase of 2 bars, the second bar of each 4 ends early (a breath)
        rh = (chorus_rh if section == "chorus" else verse_rh)[bar % 2]
        centre = verse_centre + (4 if section == "chorus" else 0)
        onsets = [s for s in rh if not (bar % 4 == 3 and s >= 8)]
        for k, s in enumerate(onsets):
            on_beat = s % 4 == 0
            if on_beat or rng.random() < 0.5:  # chord tones on the beats, scale steps between
                deg = chord[int(rng.integers(3))] + 7 * round((centre - chord[0]) / 7)
            else:
                deg = centre + int(rng.integers(-3, 4))
            if rng.random() < 0.15:
                deg += int(rng.choice([-7, 7]))  # an octave leap: a wide register
            deg = int(np.clip(deg, 2, 15))  # about G3..A5 for a C tonic: a singer's range
            nxt = onsets[k + 1] if k + 1 < len(onsets) else min(16, s + int(rng.choice([2, 4, 6])))
            end = nxt if rng.random() < 0.8 else max(s + 1, nxt - 1)
            vocal.append(Note(_scale_pitch(tonic, scale, deg), t0 + s, t0 + end))
        # the countermelody: long notes above the vocal in the chorus (pad), a one-bar ostinato through the
        # whole song (riff), or fills in the vocal's gaps (answer)
        if counter_kind == "pad" and section == "chorus":
            for s in (0, 8):
                deg = chord[int(rng.integers(3))] + 14
                counter_notes.append(Note(_scale_pitch(tonic, scale, deg), t0 + s, t0 + s + 7))
        elif counter_kind == "riff":
            for s, d in zip(riff_steps, riff_degrees, strict=True):
                counter_notes.append(Note(_scale_pitch(tonic, scale, root + d + 7), t0 + s, t0 + s + 2))
        elif counter_kind == "answer" and bar % 4 == 3:
            for s in (8, 10, 12, 14):
                counter_notes.append(Note(_scale_pitch(tonic, scale, chord[int(rng.integers(3))] + 7), t0 + s, t0 + s + 2))
        # piano: chords on 1 and the and-of-2, the top voice rising through inversions
        inv = bar % 3
        voiced = sorted(_scale_pitch(tonic, scale, d + (7 if i < inv else 0)) + 12 for i, d in enumerate(chord))
        for s, d in ((0, 6), (6, 4), (10, 6)):
            piano.extend(Note(p, t0 + s, t0 + s + d) for p in voiced)
        r = _scale_pitch(tonic, scale, root) - 12
        bass.extend(Note(r if k % 2 == 0 else r + 7, t0 + s, t0 + s + 3) for k, s in enumerate((0, 4, 8, 12)))
        for s in range(0, 16, 2):
            drums.append(Note(42, t0 + s, t0 + s + 1))
            if s in (0, 8):
                drums.append(Note(36, t0 + s, t0 + s + 1))
            if s in (4, 12):
                drums.append(Note(38, t0 + s, t0 + s + 1))

    true_names = {"vocal": "Lead Vocal", "counter": "Strings", "piano": "Piano", "bass": "Bass", "drums": "Drums"}
    lie = {"vocal": "Strings", "counter": "Melody", "piano": "Lead", "bass": "Bass", "drums": "Drums"}
    programs = {"vocal": int(rng.choice([0, 4, 73, 80, 54])), "counter": 48, "piano": 0, "bass": 33, "drums": 0}
    parts = {"vocal": vocal, "counter": counter_notes, "piano": piano, "bass": bass, "drums": drums}
    order = list(parts)
    rng.shuffle(order)
    tracks = []
    for part in order:
        velocities = [int(np.clip(rng.normal(84 if (n.start % 4 == 0) else 70, 8), 30, 127)) for n in parts[part]]
        tracks.append(Track(parts[part], programs[part], {"named": true_names, "lying": lie}.get(names, {}).get(part, ""),
                            velocities, drums=part == "drums"))
    path = Path(path)
    tracks_to_midi(tracks, path, tempo, lyrics=[n.start for n in vocal] if lyrics else ())
    vocal_track = 1 + order.index("vocal")  # after the tempo track
    return PopSong(path, vocal_track, vocal, "4/4", counter_kind)
