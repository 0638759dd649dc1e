"""Renders as mixes of cached note sounds (explorer.media.voices): the same audio as FluidSynth's one pass, each note
synthesised once, the cache bounded."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fluidsynth")

from conftest import busy_train_window  # noqa: E402

from explorer.media import audio  # noqa: E402
from explorer.media.audio import SynthPool, find_soundfont  # noqa: E402
from explorer.media.voices import NoteSounds  # noqa: E402
from vae.tokenizer import MelodyTokenizer, Note  # noqa: E402

RATE = 22050


def _corpus_melody(corpus) -> list[Note]:
    """4 bars of a real tune (the small corpus's first busy training window), as the page plays it."""
    return MelodyTokenizer().decode(corpus.tokens[busy_train_window(corpus)])


def _sounding(notes: list[Note], sec_per_step: float) -> list[tuple[int, int, int, int, int]]:
    at = lambda step: int(round(step * sec_per_step * RATE))  # noqa: E731
    out = [(at(n.start), at(n.end), 0, n.pitch, 80 + 10 * (n.start % 4 == 0)) for n in notes]
    out += [(at(n.start), at(n.start + 4), 1, n.pitch - 24, 42) for n in notes[::3]]  # a backing on channel 1
    return out


def _events(sounding):
    return [e for s, end, ch, key, vel in sounding for e in ((s, 1, ch, key, vel), (end, 0, ch, key, 0))]


@pytest.mark.parametrize("tempo", [72.0, 120.0, 171.0])
def test_a_mix_of_note_sounds_is_the_one_pass_render_up_to_dither(tempo):
    rng = np.random.default_rng(int(tempo))
    notes = [Note(int(p), 4 * k, 4 * k + int(d)) for k, (p, d) in
             enumerate(zip(rng.integers(55, 84, 16), rng.choice([1, 2, 3, 4], 16), strict=True))]
    sounding = _sounding(notes, 60.0 / tempo / 4)
    total = max(e for _, e, *_ in sounding) + RATE // 2
    programs = {0: 0, 1: 24}
    pool = SynthPool(find_soundfont(), RATE, size=1)
    pool.render_events(_events(sounding), total, programs)  # every sample played once (FluidSynth's first play of a
    pool.render_events(_events(sounding), total, programs)  # sample ends differently; both paths then agree)
    one_pass = pool.render_events(_events(sounding), total, programs)
    mixed = pool.render_notes(sounding, total, programs)
    assert mixed.shape == one_pass.shape == (total, 2)
    diff = np.abs(mixed.astype(np.int32) - one_pass)
    assert np.abs(one_pass).max() > 1000  # real sound, not two silences
    assert diff.max() <= 12 and np.mean(diff > 4) < 0.01  # each sound's own dither (+-1-2 LSB) adds up, no more
    hits, misses = pool.sounds.hits, pool.sounds.misses
    again = pool.render_notes(sounding, total, programs)
    assert np.array_equal(again, mixed)  # the same audio from the cache ...
    assert pool.sounds.misses == misses and pool.sounds.hits == hits + len(sounding)  # ... with nothing synthesised


def test_a_note_sound_ends_with_its_release_and_depends_on_its_length():
    pool = SynthPool(find_soundfont(), RATE, size=1)
    short, long = pool.sounds.get((0, 0, 0, 60, 90, 64 * 40)), pool.sounds.get((0, 0, 0, 60, 90, 64 * 200))
    assert len(long) >= 64 * 200  # held longer, sounds longer: still held where the short one is in its release
    assert np.abs(long[9000:9600]).max() > 2 * np.abs(short[9000:9600]).max()
    assert 64 * 40 < len(short) < 64 * 40 + 3 * RATE  # a release after the note-off, cut once it is silent
    assert np.abs(short[-1024:]).max() <= 8 and np.abs(short[64 * 40:64 * 40 + 512]).max() > 100
    other = pool.sounds.get((0, 0, 0, 72, 90, 64 * 40))
    assert not np.array_equal(other[:2000], short[:2000])  # another key, another sound


def test_the_cache_keeps_its_byte_bound_and_drops_the_least_recently_used():
    made = []

    def render(key):
        made.append(key)
        return np.zeros((1000, 2), np.int16)  # 4,000 bytes each

    sounds = NoteSounds(render, max_bytes=10_000)
    for k in range(3):
        sounds.get((0, 0, 0, 60 + k, 90, 64))
    assert len(made) == 3 and sounds.nbytes <= 10_000  # the third pushed the first out
    sounds.get((0, 0, 0, 62, 90, 64))  # still there
    sounds.get((0, 0, 0, 61, 90, 64))  # still there, now the most recent
    sounds.get((0, 0, 0, 60, 90, 64))  # gone: made again, pushing out 62, the least recently used
    assert len(made) == 4 and sounds.nbytes <= 10_000
    sounds.get((0, 0, 0, 62, 90, 64))
    assert len(made) == 5


def test_a_corpus_tune_renders_the_same_through_the_page_path_twice(small_corpus):
    """render() (what every WAV on the page comes from) gives one audio for one melody, the second time from the
    cache: the first render of a sound is the one kept. (FluidSynth's drum kit is left out of the sample-for-sample
    comparison above: its one-pass renders of a click differ among themselves by up to ~4% at the attack.)"""
    tune = _corpus_melody(small_corpus)
    first = audio.render(tune, sample_rate=RATE, accompaniment="chord", count_in=True)
    second = audio.render(tune, sample_rate=RATE, accompaniment="chord", count_in=True)
    assert np.array_equal(first, second) and np.abs(first).max() > 1000



def _summed(sounds: dict, notes, total: int) -> np.ndarray:
    """The int32 sum [total, 2] of the notes' sounds (key -> int16 [frames, 2]) at their starts."""
    mix = np.zeros((total, 2), np.int32)
    for start, _, _, key, _ in notes:
        n = min(len(sounds[key]), total - start)
        mix[start:start + n] += sounds[key][:n]
    return mix


def _previous_mix(sounds: dict, notes, total: int, stereo: bool) -> np.ndarray:
    """NoteSounds.mix and render's downmix as they were: a clipped int16 copy of the int32 sum, then its channels'
    mean in another pass."""
    audio = np.clip(_summed(sounds, notes, total), -32768, 32767).astype(np.int16)
    return audio if stereo else ((audio[:, 0].astype(np.int32) + audio[:, 1]) // 2).astype(np.int16)


@pytest.mark.parametrize("stereo", [True, False])
def test_the_mix_is_bit_identical_to_the_previous_clip_and_downmix(stereo):
    """Clipping in place and downmixing in the mix's buffer give the samples the separate passes gave: loud notes
    on top of each other clip at both ends, and odd negative sums floor as // 2 does."""
    rng = np.random.default_rng(5)
    sounds = {key: rng.integers(-32768, 32768, (int(rng.integers(500, 3000)), 2)).astype(np.int16)
              for key in range(60, 72)}
    notes = [(int(s), int(s) + 640, 0, int(k), 100) for s, k in zip(rng.integers(0, 4000, 40),
                                                                     rng.integers(60, 72, 40), strict=True)]
    notes.append((4500, 4600, 0, 60, 100))  # runs past the end: cut at `total`
    total = 5000
    mixed = NoteSounds(lambda key: sounds[key[3]]).mix(notes, total, {0: 0}, lambda ch: 0, stereo=stereo)
    assert mixed.dtype == np.int16 and mixed.shape == ((total, 2) if stereo else (total,))
    assert np.array_equal(mixed, _previous_mix(sounds, notes, total, stereo))
    summed = _summed(sounds, notes, total)
    assert (summed > 32767).any() and (summed < -32768).any()  # clipping was exercised ...
    pair = np.clip(summed, -32768, 32767).sum(axis=1)
    assert ((pair % 2 == 1) & (pair < 0)).any()  # ... and the floor of odd negative sums


def test_a_mono_render_is_the_previous_downmix_of_the_stereo_one():
    """render()'s mono audio (mixed down in the mix's buffer) equals the stereo render's channels' mean floored,
    as render computed it before, sample for sample (both from the same cached note sounds)."""
    tune = [Note(69, 0, 4), Note(71, 4, 8), Note(72, 8, 12), Note(74, 12, 14), Note(76, 14, 16), Note(72, 20, 32)]
    kw = dict(sample_rate=RATE, accompaniment="chord", metronome=True, count_in=True)
    stereo = audio.render(tune, stereo=True, **kw)
    mono = audio.render(tune, **kw)
    assert mono.dtype == np.int16 and mono.shape == (len(stereo),) and np.abs(mono).max() > 1000
    assert np.array_equal(mono, ((stereo[:, 0].astype(np.int32) + stereo[:, 1]) // 2).astype(np.int16))
