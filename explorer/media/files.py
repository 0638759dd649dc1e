"""A melody's files: its WAV and MIDI (with the chosen backing and its chords) in a render store, and
the playback settings they are made with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.media.audio import ACCOMP_PROGRAMS, render, write_wav
from explorer.media.midi_bytes import notes_midi_bytes
from explorer.media.storage import RenderStore
from vae.chords import Chord, chord_name, parse_progression
from vae.format import MelodyFormat
from vae.harmony import backing as chord_backing
from vae.harmony import dance_pattern, harmonise, spans_from_bars
from vae.meter import Meter, backing_notes
from vae.music import estimate_key
from vae.tokenizer import Note

INSTRUMENTS = {"Piano": 0, "Electric piano": 4, "Harpsichord": 6, "Celesta": 8, "Vibraphone": 11, "Marimba": 12,
               "Church organ": 19, "Accordion": 21, "Nylon guitar": 24, "Violin": 40, "Cello": 42, "Strings": 48,
               "Trumpet": 56, "Clarinet": 71, "Flute": 73, "Recorder": 74, "Pan flute": 75, "Ocarina": 79,
               "Square lead": 80, "Fiddle": 110, "Bagpipe": 109}
# The backing menu: a drone, the tonic chord each bar, or the harmoniser's chords (vae.harmony: one a bar, or two
# where the melody's harmony moves) in a pattern; "dance" is vae.harmony.dance_pattern of the melody's meter.
CHORD_BACKINGS = {"Chords: block": "block", "Chords: broken": "broken", "Chords: bass and chord": "bass-chord",
                  "Chords: waltz / jig (follows the meter)": "dance"}
ACCOMPANIMENTS = {"None": None, "Drone": "drone", "Tonic chord": "chord", **CHORD_BACKINGS}
# Every render's WAV (the player, the melody's download, /decode): 22.05 kHz mono keeps all below 11 kHz (a
# melody's fundamentals and its first harmonics) at half the synthesis cost and file size of 44.1 kHz (bench:
# the http section's levers). Blends, composed pieces and the starred export are rendered at EXPORT_RATE.
PREVIEW_RATE = 22050
EXPORT_RATE = 44100


@dataclass
class Playback:
    """How a melody is decoded and played: instrument (a menu name), tempo (quarter notes/min), temperature,
    seed, backing, and gm_program: any General MIDI program 0-127, which wins over the menu name when set."""

    instrument: str = "Piano"
    tempo: float = 120.0
    temperature: float = 0.0
    seed: int = 0
    accompaniment: str = "None"
    gm_program: int | None = None
    count_in: bool = False  # one bar of clicks before the melody in the audio (not in the MIDI file)
    key: str | None = None  # transpose to this tonic (vae.scales.KEYS), None = as decoded
    scale: str | None = None  # snap notes to this scale (vae.scales.SCALES) on the key's tonic, None = off
    progression: str = ""  # the composer's own chords ("Am F C G", "| D | G A |", "I vi IV V7 in G"); "" = harmonise

    @property
    def program(self) -> int:
        return self.gm_program if self.gm_program is not None else INSTRUMENTS.get(self.instrument, 0)


class MelodyFiles:
    """Writes melodies of one format as WAV and MIDI files into a render store; the WAV at sample_rate (the
    preview rate of every render, unless an export asks for EXPORT_RATE)."""

    def __init__(self, fmt: MelodyFormat, store: RenderStore, soundfont: str | Path | None = None,
                 sample_rate: int = PREVIEW_RATE):
        self.format, self.store, self.soundfont, self.sample_rate = fmt, store, soundfont, sample_rate

    def path(self, stem: str, suffix: str) -> Path:
        """A new file's path in the store (explorer.media.storage.RenderStore.path)."""
        return self.store.path(stem, suffix)

    def write_outputs(self, notes: list[Note], play: Playback, stem: str = "melody", meter: str = "4/4",
                      sample_rate: int | None = None) -> tuple[str, str]:
        """MIDI and WAV files of notes in their meter -> (wav path, midi path). The backing, when chosen, is
        in both: mixed into the audio, and its own track in the MIDI file. The WAV is at `sample_rate`
        (default self.sample_rate: the preview rate of every render; exports ask for EXPORT_RATE)."""
        chords = self.chords(notes, play, meter)
        return (self.write_audio(notes, play, stem, meter, sample_rate, chords),
                self.write_midi(notes, play, stem, meter, chords))

    def write_audio(self, notes: list[Note], play: Playback, stem: str = "melody", meter: str = "4/4",
                    sample_rate: int | None = None, chords: list | None = None) -> str:
        """The WAV file of notes (with the backing mixed in, when chosen: `chords` are a chord backing's, None
        harmonises here) -> its path."""
        rate = sample_rate or self.sample_rate
        back, program, _ = self.backing(notes, play, meter, chords)
        audio = render(notes, tempo=play.tempo, program=play.program, soundfont=self.soundfont, meter=Meter.parse(meter),
                       count_in=play.count_in, sample_rate=rate, backing=back, backing_program=program)
        wav = self.path(stem, ".wav")
        write_wav(wav, audio, rate)
        return str(wav)

    def write_midi(self, notes: list[Note], play: Playback, stem: str = "melody", meter: str = "4/4",
                   chords: list | None = None) -> str:
        """The MIDI file of notes (the backing, when chosen, as its own track; a chord backing's symbols as text
        events: `chords` as write_audio's) -> its path."""
        if chords is None:
            chords = self.chords(notes, play, meter)
        back, program, track = self.backing(notes, play, meter, chords)
        mid = self.path(stem, ".mid")
        mid.write_bytes(notes_midi_bytes(notes, tempo=play.tempo, program=play.program, meter=Meter.parse(meter),
                                         backing=back, backing_program=program, backing_name=track,
                                         chords=chord_events(chords)))  # vae.midi_export.notes_to_midi's bytes
        return str(mid)

    def chords(self, notes: list[Note], play: Playback, meter: str = "4/4") -> list[tuple[int, int, Chord]]:
        """The chords a chord backing plays under `notes` (as played: key and scale applied), [] for any other
        backing. Each window of the format (a blend's step, a piece's section) is harmonised on its own, in its
        own key and `meter` (vae.harmony.harmonise); the chords run to the end of the bar of the last note."""
        if not notes or not (play.progression.strip() or ACCOMPANIMENTS.get(play.accompaniment) in CHORD_BACKINGS.values()):
            return []
        steps, m = self.format.window_steps, Meter.parse(meter)
        last = max(n.end for n in notes)
        end = -(-last // m.bar_steps) * m.bar_steps
        if play.progression.strip():  # the composer's chords, bar by bar from the top of every window
            bars = parse_progression(play.progression)
            return [(s + start, min(e + start, end), c) for start in range(0, last, steps)
                    for s, e, c in spans_from_bars(bars, m, steps) if s + start < end]
        out = []
        for start in range(0, last, steps):
            section = [Note(n.pitch, n.start - start, n.end - start) for n in notes if start <= n.start < start + steps]
            if section:
                out += [(s + start, min(e + start, end), c) for s, e, c in
                        harmonise(section, self.format.steps_per_bar, self.format.bars, meter=m) if s + start < end]
        return out

    def backing(self, notes: list[Note], play: Playback, meter: str = "4/4",
                chords: list | None = None) -> tuple[list[Note], int, str]:
        """The chosen backing under `notes`: (its notes, its General MIDI program, its MIDI track's name); ([], 0, "")
        for none. A chord backing plays `chords` (None: self.chords) just under the melody's lowest note."""
        kind = ACCOMPANIMENTS.get(play.accompaniment)
        if play.progression.strip() and kind not in CHORD_BACKINGS.values():
            kind = "block"  # typed chords are heard even before a chord backing is picked
        if not kind or not notes:
            return [], 0, ""
        m = Meter.parse(meter)
        if kind in CHORD_BACKINGS.values():
            chords = self.chords(notes, play, meter) if chords is None else chords
            pattern = dance_pattern(m) if kind == "dance" else kind
            return (chord_backing(chords, pattern, m, melody_low=min(n.pitch for n in notes)), ACCOMP_PROGRAMS["chords"],
                    "Chords")
        tonic, mode = estimate_key(notes)
        return backing_notes(notes, kind, tonic, mode == "minor", m), ACCOMP_PROGRAMS[kind], f"Backing ({kind})"


def named(chords: list[tuple[int, int, Chord]]) -> list[tuple[int, int, str]]:
    """Chord spans with their symbols: [(0, 16, Chord(9, 'min7'))] -> [(0, 16, 'Am7')]."""
    return [(int(s), int(e), chord_name(c)) for s, e, c in chords]


def chord_events(chords: list[tuple[int, int, Chord]]) -> list[tuple[int, str]]:
    """A MIDI file's chord symbols: (start step, symbol) of each chord span."""
    return [(s, name) for s, _, name in named(chords)]
