"""A melody's MIDI file (its backing track and chord symbols too) written straight to bytes: the very bytes
vae.midi_export.notes_to_midi writes through pretty_midi and mido, at about a tenth of the CPU.

Every render writes one (a /decode call, a slider move), and on a busy server pretty_midi's ~1-2 ms of Python a
file is time every other request waits for the GIL. This module repeats what pretty_midi's writer does for the
files notes_to_midi makes: the same tick rounding, the same event order (its comparator, applied the same way),
mido's running status and end-of-track. Anything outside that (a note before 0, a value MIDI cannot carry, a
symbol outside Latin-1) is left to notes_to_midi itself, so its errors are unchanged; tests compare the bytes.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Iterable, Sequence

from vae.constants import STEPS_PER_QUARTER
from vae.meter import BACKING_VELOCITY, Meter
from vae.midi_export import TICKS_PER_BEAT, notes_to_midi
from vae.tokenizer import Note

# pretty_midi's sort scores for events on the same tick ("text" is not among them: it ties with everything there)
_SCORE = {"set_tempo": 1 << 16, "time_signature": 2 << 16, "program_change": 6 << 16, "note_on": 10 << 16}
_CHANNELS = [c for c in range(16) if c != 9]  # pretty_midi's channel for its n-th non-drum instrument


def notes_midi_bytes(notes: Iterable[Note], tempo: float = 120.0, program: int = 0, name: str = "Melody",
                     meter: Meter | str = "4/4", backing: Iterable[Note] = (), backing_program: int = 0,
                     backing_name: str = "Backing", chords: Iterable[tuple[int, str]] = ()) -> bytes:
    """The .mid file's bytes of notes_to_midi(notes, ...) with these arguments (velocities from the meter's accents)."""
    kwargs = dict(tempo=tempo, program=program, name=name, meter=meter, backing=list(backing),
                  backing_program=backing_program, backing_name=backing_name, chords=list(chords))
    notes = [Note(*n) for n in notes]
    fast = _fast(notes, **kwargs)
    if fast is not None:
        return fast
    import io

    buf = io.BytesIO()
    notes_to_midi(notes, **kwargs).write(buf)
    return buf.getvalue()


def _fast(notes: list[Note], tempo, program, name, meter, backing, backing_program, backing_name,
          chords) -> bytes | None:
    """The bytes, or None where notes_to_midi should speak for itself (an error, or a case not repeated here)."""
    meter = meter if isinstance(meter, Meter) else Meter.parse(meter)
    tempo = float(tempo)
    if not (tempo > 0 and 0 <= program <= 127 and 0 <= backing_program <= 127 and 1 <= meter.num <= 255
            and meter.den in (1, 2, 4, 8, 16, 32, 64)):
        return None
    tick_scale = 60.0 / (tempo * TICKS_PER_BEAT)  # pretty_midi's seconds per tick
    per_step = 60.0 / tempo / STEPS_PER_QUARTER
    tempo_us = int(6e7 / (60. / (tick_scale * TICKS_PER_BEAT)))
    if not 0 <= tempo_us <= 0xFFFFFF:
        return None

    def tick(seconds: float) -> int:  # pretty_midi's time_to_tick while its tempo map is one tempo from tick 0
        return int(round(seconds / tick_scale)) if seconds > 0 else 0

    tracks = [(notes, program, name, meter.velocities)]
    if backing:
        tracks.append(([Note(*n) for n in backing], backing_program, backing_name, BACKING_VELOCITY))
    out = []
    for k, (part, prog, title, velocity) in enumerate(tracks):
        played = [n for n in sorted(part) if n.end > n.start]
        if any(n.start < 0 or not 0 <= n.pitch <= 127 for n in played):
            return None
        if callable(velocity):
            import numpy as np

            vels = [int(v) for v in velocity(np.array([n.start for n in played], np.int64))] if played else []
        else:
            vels = [int(velocity)] * len(played)
        if any(not 0 <= v <= 127 for v in vels):
            return None
        channel = _CHANNELS[k % len(_CHANNELS)]
        events = ([(0, "track_name", title)] if title else []) + [(0, "program_change", prog, 0)]
        for n, v in zip(played, vels, strict=True):
            events += [(tick(n.start * per_step), "note_on", int(n.pitch), v),
                       (tick(n.end * per_step), "note_on", int(n.pitch), 0)]
        events = _sorted(events)
        for i in range(len(events) - 1):  # pretty_midi's pass: a note off before a note on of the same key and tick
            a, b = events[i], events[i + 1]
            if a[0] == b[0] and a[1] == b[1] == "note_on" and a[2] == b[2] and a[3] != 0 and b[3] == 0:
                events[i], events[i + 1] = b, a
        out.append(_track(events, channel))
    meta = [(0, "set_tempo", tempo_us), (0, "time_signature", meter.num, meter.den)]
    for start, symbol in chords:
        meta.append((tick(float(start) * per_step), "text", str(symbol)))
    try:
        head = _track(_sorted(meta), 0)
    except UnicodeEncodeError:
        return None
    chunks = [struct.pack(">4sLhhh", b"MThd", 6, 1, 1 + len(out), TICKS_PER_BEAT), head, *out]
    return b"".join(chunks)


def _compare(a: tuple, b: tuple) -> int:
    """pretty_midi's event_compare on (tick, type, ...) tuples."""
    if a[0] == b[0] and a[1] in _SCORE and b[1] in _SCORE:
        return _score(a) - _score(b)
    return a[0] - b[0]


def _score(e: tuple) -> int:
    return _SCORE[e[1]] + (e[2] * 256 + e[3] if e[1] == "note_on" else 0)


def _sorted(events: Sequence[tuple]) -> list[tuple]:
    return sorted(events, key=functools.cmp_to_key(_compare))


def _varlen(value: int) -> bytes:
    """A MIDI variable-length quantity (mido's encode_variable_int)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple], channel: int) -> bytes:
    """An MTrk chunk: events at absolute ticks as delta times, with running status and mido's end of track (one
    tick after the last event)."""
    data = bytearray()
    running, last = None, 0
    for e in events:
        data += _varlen(e[0] - last)
        last = e[0]
        kind = e[1]
        if kind in ("note_on", "program_change"):
            status = (0x90 if kind == "note_on" else 0xC0) | channel
            if status != running:
                data.append(status)
            running = status
            data += bytes(e[2:4]) if kind == "note_on" else bytes((e[2],))
            continue
        running = None
        if kind == "set_tempo":
            data += bytes((0xFF, 0x51, 3, e[2] >> 16, e[2] >> 8 & 0xFF, e[2] & 0xFF))
        elif kind == "time_signature":
            data += bytes((0xFF, 0x58, 4, e[2], int(math.log(e[3], 2)), 24, 8))
        else:  # text or track_name, in mido's charset (Latin-1)
            text = e[2].encode("latin1")
            data += bytes((0xFF, 0x01 if kind == "text" else 0x03)) + _varlen(len(text)) + text
    data += b"\x01\xff\x2f\x00"  # end of track, one tick after the last event
    return b"MTrk" + struct.pack(">L", len(data)) + bytes(data)
