"""Typed errors for reading music: each carries one sentence a musician can understand."""


class MusicReadError(Exception):
    """Base class: a file or tune could not be turned into a melody. str(e) is the user-facing sentence."""

    reason = "unreadable"


class TuneParseError(MusicReadError):
    """A tune in a corpus file could not be parsed."""

    reason = "parse error"


class EmptyTuneError(MusicReadError):
    """A tune has no pitched notes."""

    reason = "no notes"


class MidiReadError(MusicReadError):
    """A MIDI file is corrupt, truncated, too big or not MIDI at all."""

    reason = "unreadable MIDI"


class NoMelodyError(MusicReadError):
    """A MIDI file was read but holds no usable melody (only drums, no notes, too short...)."""

    reason = "no melody"


class CheckpointError(Exception):
    """A checkpoint is missing, corrupt, truncated or does not match the code."""
