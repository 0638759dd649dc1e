"""Regenerate's alternatives can be heard before one is taken: one WAV each, as it will sound once taken
(taking plays exactly the offered tokens: tests/test_handlers.py, on the shipped model)."""

import wave

import numpy as np

from explorer.media.files import Playback
from explorer.session.state import new_state

PLAY = Playback("Piano", 120.0, 1.0, 3, accompaniment="Chords: block")


def _frames(path: str) -> np.ndarray:
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same sound: equal length and correlation above 0.99 (a synthesiser reused from a pool can differ by a
    sample's rounding in its effects' tails)."""
    return len(a) == len(b) and a.std() > 0 and b.std() > 0 and np.corrcoef(a, b)[0, 1] > 0.99


def test_each_alternative_is_heard_as_its_offered_notes_with_the_pages_sound(h):
    st, _ = h.random(new_state(), PLAY, seed=3)
    st, out = h.regenerate(st, [0], False, PLAY, seed=5)
    assert len(out["audio"]) == len(out["tokens"]) == 4
    heard = [_frames(p) for p in out["audio"]]
    for k, tokens in enumerate(out["tokens"]):
        # the offered notes, rendered as the page renders a melody (same sound, tempo and backing)
        expected = h.files.write_audio(h.s.notes(tokens), PLAY, stem="expected", meter=st.meter)
        assert _same(heard[k], _frames(expected))
    differ = [k for k in range(1, 4) if not np.array_equal(out["tokens"][k], out["tokens"][0])]
    assert differ and any(not _same(heard[0], heard[k]) for k in differ)  # new notes, new sound
