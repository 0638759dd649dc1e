"""Damaged files stay small work: a note-off lost to a damaged delta time (or a cut) does not turn a melody into
a thousand bars of one held note, whose windows all went to the page's window menu (bench/slow_spots.md)."""

from __future__ import annotations

import pytest

from bench.slow_spots import DAMAGED_BYTES, performance_midi
from vae.midi_import import MAX_NOTE_STEPS, extract_melodies


def test_a_note_off_a_thousand_bars_late_ends_the_note_and_keeps_the_window_menu_short():
    found = extract_melodies(performance_midi(lost_off=200)[:DAMAGED_BYTES])
    best = found.best
    assert all(n.end - n.start <= MAX_NOTE_STEPS for c in found.candidates for n in c.notes)
    assert best.bars < 40 and len(best.window_labels) < 40  # 1,171 bars and 1,168 windows before
    assert all(len(c.windows) < 200 for c in found.candidates)
    assert "truncated" in " ".join(found.warnings)


@pytest.mark.parametrize("cut", [DAMAGED_BYTES, 40_000])
def test_the_same_file_cut_but_undamaged_reads_its_music_up_to_the_cut(cut):
    found = extract_melodies(performance_midi()[:cut])
    assert found.best.bars > cut / 600  # about 540 bytes a bar: the music before the cut is all there
    assert len(found.best.windows) == len(found.best.window_labels) >= found.best.bars - 4
