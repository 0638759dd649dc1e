"""FluidSynth rendering: audible, the right length and pitch, one synth per process, clear errors."""

from __future__ import annotations

import io
import sys
import threading
import wave

import numpy as np
import pytest

pytest.importorskip("fluidsynth")

from explorer.media import audio  # noqa: E402
from explorer.media.audio import (  # noqa: E402
    AudioUnavailableError,
    check_audio,
    find_soundfont,
    get_synth,
    render,
    wav_bytes,
    write_wav,
)
from vae.music import estimate_key
from vae.tokenizer import Note  # noqa: E402

SR = 44100
TUNE = [Note(69, 0, 4), Note(71, 4, 8), Note(72, 8, 12), Note(74, 12, 14), Note(76, 14, 16), Note(72, 20, 32)]


def loudest_hz(samples: np.ndarray, sr: int = SR) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sr)[np.argmax(spectrum)])


def semitones(f1: float, f2: float) -> float:
    return abs(12 * np.log2(f1 / f2))


def test_render_is_audible_int16_and_as_long_as_the_music():
    out = render(TUNE, tempo=120)
    expected = 32 * (60 / 120 / 4) * SR + audio.TAIL_SECONDS * SR  # 2 s of music + tail
    assert out.dtype == np.int16 and out.ndim == 1
    assert abs(len(out) - expected) <= 64
    assert np.abs(out).max() > 1000
    assert np.abs(out[: SR // 2]).max() > 1000  # sound from the first note on, no leading silence


@pytest.mark.parametrize("pitch", [69, 72, 76])
def test_loudest_frequency_is_the_note_played(pitch):
    single = render([Note(pitch, 0, 8)])
    assert semitones(loudest_hz(single), 440 * 2 ** ((pitch - 69) / 12)) < 1
    repeated = render([Note(pitch, s, s + 3) for s in range(0, 32, 4)], tempo=100)
    assert semitones(loudest_hz(repeated), loudest_hz(single)) < 1


def test_tempo_and_count_in_change_the_length():
    slow, fast = render(TUNE, tempo=60), render(TUNE, tempo=240)
    assert abs((len(slow) - len(fast)) - (8.0 - 2.0) * SR) <= 128  # 32 steps: 8 s at 60, 2 s at 240
    counted = render(TUNE, tempo=120, count_in=True)
    assert abs(len(counted) - len(render(TUNE, tempo=120)) - 2.0 * SR) <= 128  # one 4/4 bar at 120 bpm
    assert np.abs(counted[: SR // 4]).max() > 300  # the first click sounds before the melody


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=float) ** 2)))


def test_stereo_output_and_metronome():
    plain = render(TUNE).astype(float)
    clicks = render(TUNE, metronome=True).astype(float) - plain  # the melody cancels out, the clicks stay
    assert len(clicks) == len(plain)
    beat = SR // 2  # a quarter note at 120 bpm; TUNE lasts 32 steps = 8 beats
    for k in range(8):
        onset = k * beat
        assert rms(clicks[onset : onset + 1500]) > 1000, k  # a click at every beat onset ...
        assert rms(clicks[onset + 8000 : onset + 12000]) < 50, k  # ... short, and nothing between the beats
    assert rms(clicks[8 * beat :]) < 50  # no click after the music ends (only the tail is left)
    # the first beat of each bar is accented with another wood block: its pitch differs from the other beats'
    pitch = [loudest_hz(clicks[k * beat : k * beat + 4000]) for k in range(8)]
    assert semitones(pitch[0], pitch[4]) < 0.5 and all(semitones(pitch[0], p) > 2 for p in pitch[1:4] + pitch[5:])
    stereo = render(TUNE, stereo=True, metronome=True)
    assert stereo.shape == (len(plain), 2) and stereo.dtype == np.int16
    for ch in (0, 1):  # both channels carry the clicks
        assert rms(stereo[: 1500, ch].astype(float) - plain[:1500]) > 500


def test_drone_adds_the_tonic_under_the_melody():
    tune = [Note(76, s, s + 4) for s in range(0, 64, 4)]  # E5 only: its key is ambiguous, so give C
    plain = render(tune, accompaniment=None)
    drone = render(tune, accompaniment="drone", key_pitch_class=0)

    def band(x, hz):
        spectrum = np.abs(np.fft.rfft(x.astype(float)))
        freqs = np.fft.rfftfreq(len(x), 1 / SR)
        return spectrum[(freqs > hz * 0.97) & (freqs < hz * 1.03)].sum()

    def hz(pitch):
        return 440 * 2 ** ((pitch - 69) / 12)

    c3 = 130.81
    assert band(drone, c3) > 5 * band(plain, c3)
    assert band(drone, hz(55)) > 5 * band(plain, hz(55)) and band(drone, hz(52)) < 3 * band(plain, hz(52))  # fifth, no third
    # "chord" strikes the key's tonic triad below the melody: the major third in C major, the minor one in A minor
    c_major = [Note(p, 4 * k, 4 * k + 4) for k, p in enumerate([72, 74, 76, 77, 79, 81, 83, 84, 79, 76, 72])]
    a_minor = [Note(p, 4 * k, 4 * k + 4) for k, p in enumerate([69, 72, 76, 81, 80, 81, 76, 72, 74, 72, 71, 69])]
    for tune, triad, wrong_third in ((c_major, (48, 52, 55), 51), (a_minor, (57, 60, 64), 61)):
        plain, chord = render(tune), render(tune, accompaniment="chord")
        assert len(chord) == len(plain)
        gain = {p: band(chord, hz(p)) / band(plain, hz(p)) for p in (*triad, wrong_third)}
        assert all(gain[p] > 8 for p in triad) and gain[wrong_third] < gain[triad[1]] / 3, gain
        # struck again at every bar line (2 s at 120 bpm), not held
        backing = chord.astype(float) - plain
        for bar in (2 * SR, 4 * SR):
            assert rms(backing[bar : bar + 2000]) > 2 * rms(backing[bar - 6000 : bar - 2000])
    with pytest.raises(ValueError):
        render(TUNE, accompaniment="orchestra")


def test_given_backing_notes_are_played_under_the_melody_to_their_end():
    from vae.chords import Chord
    from vae.harmony import backing as chord_backing

    tune = [Note(76, 0, 8), Note(79, 8, 16)]  # one bar; the chords run on to the end of the second
    back = chord_backing([(0, 16, Chord(0)), (16, 32, Chord(9, "min"))], "block")
    plain, chords = render(tune), render(tune, backing=back, backing_program=24)
    alone = render(tune, backing=[])  # no backing: the melody alone (to within a first note's release)
    assert len(alone) == len(plain) and rms(alone.astype(float) - plain) < 0.02 * rms(plain.astype(float))
    assert len(chords) == len(plain) + 16 * (60 / 120 / 4) * SR  # one bar longer: the backing's last bar
    spectrum = np.abs(np.fft.rfft(chords[2 * SR:].astype(float)))
    freqs = np.fft.rfftfreq(len(chords) - 2 * SR, 1 / SR)

    def band(pitch):
        hz = 440 * 2 ** ((pitch - 69) / 12)
        return spectrum[(freqs > hz * 0.97) & (freqs < hz * 1.03)].sum()

    assert band(57) > 3 * band(55)  # the second bar sounds A minor's A, not C major's G
    piano = render(tune, backing=back, backing_program=0)  # its own program
    assert rms(piano[2 * SR:].astype(float) - chords[2 * SR:]) > 100
    with pytest.raises(ValueError):
        render(tune, backing=back, backing_program=128)


@pytest.mark.parametrize("notes, kwargs", [(TUNE, {"tempo": 0}), (TUNE, {"program": 128}),
                                           ([Note(60, 0, 16 * 400)], {"tempo": 120})])  # 400 bars: 13 minutes
def test_bad_arguments_are_refused(notes, kwargs):
    with pytest.raises(ValueError):
        render(notes, **kwargs)


@pytest.mark.parametrize("notes, key", [
    ([Note(p, 4 * k, 4 * k + 4) for k, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])], (0, "major")),
    ([Note(p, 4 * k, 4 * k + 4) for k, p in enumerate([57, 60, 64, 69, 68, 69, 64, 60, 62, 60, 59, 57])], (9, "minor")),
    ([Note(p + 7, 4 * k, 4 * k + 4) for k, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])], (7, "major")),
])
def test_estimate_key(notes, key):
    assert estimate_key(notes) == key


def test_synth_is_loaded_once_and_reused():
    first = get_synth()
    render(TUNE)
    render(TUNE, program=40)
    assert get_synth() is first
    assert sum(1 for key in audio._synths if key[1] == SR) == 1


def test_same_input_same_audio_and_concurrent_renders_agree():
    render(TUNE, accompaniment="chord")  # FluidSynth's first use of a sample differs slightly
    render([Note(60, 0, 64)], program=40, accompaniment="drone")  # ends sounding: must not leak into the next
    reference = render(TUNE, accompaniment="chord")
    results: list[np.ndarray] = []

    def work():
        results.append(render(TUNE, accompaniment="chord"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    # Concurrent renders run on the pool's other synths (explorer.media.audio.SynthPool), whose first use of a sample
    # ends its release slightly differently (under 1.5% of full scale); otherwise equal up to dither noise
    for r in results:
        assert r.shape == reference.shape and np.abs(r.astype(int) - reference).max() < 500
        assert np.mean(np.abs(r.astype(int) - reference) > 8) < 0.05  # and nearly every sample within dither
    assert np.abs(render(TUNE, accompaniment="chord").astype(int) - reference).max() <= 8  # one after another


def test_wav_bytes_and_write_wav(tmp_path):
    mono, stereo = render(TUNE), render(TUNE, stereo=True)
    for data, channels in ((mono, 1), (stereo, 2)):
        with wave.open(io.BytesIO(wav_bytes(data, SR))) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (channels, 2, SR, len(data))
            back = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        assert np.array_equal(back, data.reshape(-1))
    path = write_wav(tmp_path / "tune.wav", mono)
    assert path.stat().st_size == 44 + 2 * len(mono)
    with pytest.raises(ValueError):
        wav_bytes(mono.astype(np.float32))


def test_soundfont_resolution(tmp_path, monkeypatch):
    assert check_audio() == find_soundfont() and find_soundfont().suffix.lower() == ".sf2"
    with pytest.raises(AudioUnavailableError, match="does not exist"):
        find_soundfont(tmp_path / "missing.sf2")
    mine = tmp_path / "Mine.sf2"
    mine.write_bytes(b"RIFF")
    monkeypatch.setattr(audio, "SOUNDFONT_DIR", tmp_path)
    assert find_soundfont() == mine  # a user's soundfont in soundfonts/ wins over the defaults
    assert find_soundfont(mine) == mine


def test_missing_fluidsynth_gives_install_instructions(monkeypatch):
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # makes `import fluidsynth` fail
    monkeypatch.setattr(audio, "_synths", {})
    with pytest.raises(AudioUnavailableError) as info:
        check_audio()
    assert "libfluidsynth3" in str(info.value) and "pip install pyfluidsynth" in str(info.value)


def test_a_broken_soundfont_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"not a soundfont")
    monkeypatch.setattr(audio, "_synths", {})
    with pytest.raises(AudioUnavailableError, match="could not load"):
        check_audio(bad)


def test_a_render_while_another_runs_gets_its_own_synth_and_sounds_the_same():
    """The synth pool: a render that overlaps another runs on a synth of its own (one synth behind a lock capped
    the server's renders at one core), up to the pool's size, and sounds as a render alone."""
    from explorer.media.audio import SynthPool, find_soundfont

    pool = SynthPool(find_soundfont(), 22050, size=2)
    events = [(0, 1, 0, 60, 90), (8000, 0, 0, 60, 0), (8000, 1, 0, 64, 90), (16000, 0, 0, 64, 0)]
    alone = pool.render_events(events, 20000, {0: 0})
    busy = pool._take()  # a render in progress holds the first synth
    overlapping = pool.render_events(events, 20000, {0: 0})
    assert pool._made == 2  # so this one made a second synth instead of waiting
    pool._give(busy)
    for _ in range(3):
        again = pool.render_events(events, 20000, {0: 0})
    assert pool._made == 2  # never more than the pool's size
    # the same sound (a new synth's first note from a sample ends its release slightly differently: < 1.5%)
    for got in (overlapping, again):
        assert got.shape == alone.shape and np.abs(got.astype(np.int32) - alone.astype(np.int32)).max() < 500
