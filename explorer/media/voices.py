"""Each note's sound rendered once and kept: a melody's audio is the sum of its notes' sounds.

FluidSynth's voices do not interact (no reverb or chorus here, no voice stealing at a melody's polyphony), and a
render moves every event to a 64-sample block, so a note's sound depends only on its channel's program, its key,
its velocity and its length in blocks. A render of a melody is then a mix of cached sounds (numpy adds) instead of
seconds of synthesis: on a server that renders one slider move after another, almost every note was heard before.
Mixed renders equal one-pass renders up to FluidSynth's dither (each sound carries its own, ±1-2 LSB) and the
quietest end of a release, cut where it falls to RELEASE_FLOOR (-78 dB).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

CACHE_BYTES = 64 * 2**20  # per synth pool (a soundfont at one rate): ~500 notes of 1.5 s at 22.05 kHz
RELEASE_FLOOR = 4  # a release is cut once a 1024-frame chunk stays within this many LSB of silence
RELEASE_MAX_S = 3.0  # ... or after this long (a sustained sound that never ends)

Key = tuple[int, int, int, int, int, int]  # (channel, bank, program, key, velocity, frames held)


class NoteSounds:
    """A bounded cache of note sounds (int16 stereo [frames, 2], from note-on to the end of its release), least
    recently used first out; `render(key)` makes a missing one."""

    def __init__(self, render: Callable[[Key], np.ndarray], max_bytes: int = CACHE_BYTES):
        self._render, self.max_bytes = render, int(max_bytes)
        self._sounds: OrderedDict[Key, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Key) -> np.ndarray:
        with self._lock:
            sound = self._sounds.get(key)
            if sound is not None:
                self._sounds.move_to_end(key)
                self.hits += 1
                return sound
            self.misses += 1
        sound = self._render(key)  # outside the lock: another thread may make the same one (same samples)
        sound.flags.writeable = False
        with self._lock:
            if key not in self._sounds:
                self._sounds[key] = sound
                self._bytes += sound.nbytes
            while self._bytes > self.max_bytes and len(self._sounds) > 1:
                _, old = self._sounds.popitem(last=False)
                self._bytes -= old.nbytes
        return sound

    @property
    def nbytes(self) -> int:
        return self._bytes

    def mix(self, notes: list[tuple[int, int, int, int, int]], total: int, programs: dict[int, int],
            bank_of: Callable[[int], int], stereo: bool = True) -> np.ndarray:
        """Notes (start frame, end frame, channel, key, velocity) -> int16 stereo [total, 2], each note's sound
        added at its start (starts and ends on 64-frame blocks, as FluidSynth applies events), clipped as
        FluidSynth clips; with stereo False, int16 mono [total]: the floor of the clipped channels' mean."""
        mix = np.zeros((total, 2), np.int32)
        for start, end, ch, key, vel in notes:
            if start >= total or not 0 <= key <= 127 or not 0 <= vel <= 127 or ch < 0:
                continue
            sound = self.get((ch, bank_of(ch), programs.get(ch, 0), key, vel, max(end - start, 0)))
            n = min(len(sound), total - start)
            mix[start:start + n] += sound[:n]
        np.clip(mix, -32768, 32767, out=mix)
        if stereo:
            return mix.astype(np.int16)
        # Downmixed in the int32 buffer, without an int16 stereo copy: (left + right) // 2 of the clipped
        # channels, the arithmetic shift being that floor; the sum of two int16s cannot overflow int32.
        left = mix[:, 0]
        left += mix[:, 1]
        left >>= 1
        return left.astype(np.int16)
