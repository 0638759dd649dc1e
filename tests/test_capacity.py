"""What the capacity work changed must not change what users get: renders sample for sample as pyfluidsynth's own
calls make them, MIDI files byte for byte as vae.midi_export writes them."""

from __future__ import annotations

import io

import numpy as np
import pytest

from explorer.media import audio
from explorer.media.midi_bytes import notes_midi_bytes
from vae.midi_export import notes_to_midi
from vae.midi_import import extract_melodies
from vae.tokenizer import Note


def _reference_render(fs, sfid: int, events, total: int, programs: dict[int, int]) -> np.ndarray:
    """The render through pyfluidsynth's own methods (get_samples, noteon, ...), as explorer.media.audio did before."""
    block = audio._BLOCK
    events = [((s + block // 2) // block * block, on, ch, key, vel) for s, on, ch, key, vel in events]
    padded = -(-total // block) * block
    for ch in range(16):
        fs.all_sounds_off(ch)
        fs.cc(ch, 121, 0)
    fs.get_samples(block)
    for ch, prog in programs.items():
        if fs.program_select(ch, sfid, 128 if ch == audio.DRUM_CHANNEL else 0, prog) < 0:
            fs.program_select(ch, sfid, 128 if ch == audio.DRUM_CHANNEL else 0, 0)
    chunks, pos = [], 0
    for sample, is_on, ch, key, vel in sorted(events, key=lambda e: (e[0], e[1])):
        sample = min(sample, padded)
        if sample > pos:
            chunks.append(fs.get_samples(sample - pos))
            pos = sample
        if is_on:
            fs.noteon(ch, key, vel)
        else:
            fs.noteoff(ch, key)
    if padded > pos:
        chunks.append(fs.get_samples(padded - pos))
    return np.concatenate(chunks).reshape(-1, 2)[:total]


def _melodies(rng: np.random.Generator, n: int) -> list[list[Note]]:
    out = []
    for _ in range(n):
        starts = np.sort(rng.choice(64, int(rng.integers(3, 20)), replace=False))
        out.append([Note(int(rng.integers(40, 90)), int(s), int(s + rng.integers(1, 12))) for s in starts])
    return out


@pytest.mark.parametrize("rate", [22050, 44100])
def test_renders_equal_pyfluidsynths_own_sample_for_sample(rate):
    """Synth keeps the GIL for short calls and writes into one array: the samples are those pyfluidsynth's calls
    give on a synth that rendered the same things before (long stretches, drums, a backing, an unknown program)."""
    import fluidsynth

    sf = audio.find_soundfont()
    ours = audio.Synth(sf, rate)
    ref = fluidsynth.Synth(gain=1.5, samplerate=float(rate), **{"synth.reverb.active": 0, "synth.chorus.active": 0})
    sfid = ref.sfload(str(sf))
    rng = np.random.default_rng(3)
    for k, notes in enumerate(_melodies(rng, 8)):
        sec = 60.0 / float(rng.uniform(50, 200)) / 4
        events = [(int(n.start * sec * rate), 1, 0, n.pitch, 90) for n in notes]
        events += [(int(n.end * sec * rate), 0, 0, n.pitch, 0) for n in notes]
        events += [(int(s * rate * sec), on, ch, key, 60) for s, on, ch, key in
                   ((0, 1, 1, 45), (40, 0, 1, 45), (4, 1, 9, 76), (5, 0, 9, 76))]
        programs = {0: int(rng.integers(0, 128)), 1: 24 if k % 2 else 127, 9: 0}
        total = int(70 * sec * rate) + rate // 2
        got = ours.render_events(events, total, programs)
        want = _reference_render(ref, sfid, events, total, programs)
        assert got.shape == want.shape == (total, 2)
        assert np.array_equal(got, want), k
    ref.delete()


def _reference_midi(notes, **kwargs) -> bytes:
    buf = io.BytesIO()
    notes_to_midi(notes, **kwargs).write(buf)
    return buf.getvalue()


@pytest.mark.parametrize("seed", range(6))
def test_midi_bytes_are_notes_to_midis(seed):
    """The direct writer gives notes_to_midi's bytes: any meter and tempo, zero-length and repeated notes, a backing
    track, chord symbols out of order, over 64 events (where Python's sort merges runs)."""
    rng = np.random.default_rng(seed)
    for k in range(40):
        notes = [Note(int(rng.integers(0, 128)), int(s), int(s + rng.integers(-1, 9)))
                 for s in rng.integers(0, 300, int(rng.integers(0, 70)))]
        notes += notes[:2]
        backing = [Note(int(rng.integers(30, 70)), int(s), int(s + rng.integers(1, 16)))
                   for s in rng.integers(0, 300, int(rng.integers(0, 40)))] if k % 2 else []
        chords = [(int(s), str(rng.choice(["Am", "C", "F#m7", "Bb", "G7sus4", "E/G#"])))
                  for s in rng.integers(0, 300, int(rng.integers(0, 10)))]
        kwargs = dict(tempo=float(rng.choice([120.0, 97.3, 40.0, 300.0, 33.3333])), program=int(rng.integers(0, 128)),
                      meter=str(rng.choice(["4/4", "3/4", "6/8", "5/4", "7/8", "2/2", "12/8"])), backing=backing,
                      backing_program=int(rng.integers(0, 128)),
                      backing_name=str(rng.choice(["Chords", "Backing (drone)", ""])), chords=chords)
        assert notes_midi_bytes(notes, **kwargs) == _reference_midi(notes, **kwargs), (seed, k)


@pytest.mark.parametrize("kwargs", [dict(program=128), dict(tempo=0.0), dict(tempo=1.0),
                                    dict(chords=[(0, "B♭")]), dict(notes=[Note(60, -4, 4)]),
                                    dict(notes=[Note(128, 0, 4)])])
def test_midi_bytes_leave_odd_cases_to_notes_to_midi(kwargs):
    """Where the fast path stops (bad values, a note before 0, a symbol outside Latin-1), notes_to_midi answers:
    the same bytes, or the same error."""
    kwargs = dict(kwargs)
    notes = kwargs.pop("notes", [Note(60, 0, 4), Note(62, 4, 8)])
    try:
        want = _reference_midi(notes, **kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever notes_to_midi raises, the writer raises too
        with pytest.raises(type(exc)):
            notes_midi_bytes(notes, **kwargs)
    else:
        assert notes_midi_bytes(notes, **kwargs) == want


def test_written_midi_reads_back():
    """A file of the direct writer reads back as its melody, tempo, meter and program (vae.midi_import)."""
    notes = [Note(60, 0, 4), Note(64, 4, 6), Note(67, 6, 8), Note(72, 12, 16)]
    found = extract_melodies(notes_midi_bytes(notes, tempo=100.0, program=73, meter="3/4", chords=[(0, "C")]))
    assert [tuple(n) for n in found.best.notes] == [tuple(n) for n in notes]
    assert (found.best.program, found.best.name, found.time_signature) == (73, "Melody", "3/4")
    assert found.tempo == pytest.approx(100.0, abs=0.01)


def test_api_decode_runs_in_its_own_wider_concurrency_group(tiny_services):
    """Gradio's /decode lets DECODE_CONCURRENCY calls in at once (their decodes batch), apart from the page's events."""
    from explorer import ui
    from explorer.ui.api_tab import DECODE_CONCURRENCY

    demo = ui.build_ui(tiny_services, concurrency=2)
    fn = next(f for f in demo.fns.values() if f.api_name == "decode")
    assert (fn.concurrency_limit, fn.concurrency_id) == (DECODE_CONCURRENCY, "api-decode")
    assert DECODE_CONCURRENCY > 2
    assert next(f for f in demo.fns.values() if f.api_name == "encode").concurrency_limit == "default"
