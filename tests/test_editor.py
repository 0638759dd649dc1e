"""The note editor: clicks add and remove notes, drags set one note, the melody stays monophonic, and the
drawn notes become the current melody like an upload."""

import numpy as np
import pytest
from conftest import notes

from explorer.errors import UserError
from explorer.media.figures import note_editor
from explorer.media.files import Playback
from explorer.session import editor
from explorer.session.handlers import Handlers
from explorer.session.state import new_state
from vae.tokenizer import Note


def test_a_click_adds_a_beat_long_note_cut_at_the_next_and_a_second_click_removes_it():
    got = editor.click([], 0, 60)
    assert got == [Note(60, 0, 4)]
    got = editor.click(got, 2, 64)  # lands inside the first note: that one ends where the new one starts
    assert got == [Note(60, 0, 2), Note(64, 2, 6)]
    got = editor.click(got, 5, 67)  # the 64 sounds at 5: cut again; the new note runs its beat
    assert got == [Note(60, 0, 2), Note(64, 2, 5), Note(67, 5, 9)]
    assert editor.click(got, 1, 67) == [Note(60, 0, 1), Note(67, 1, 2), Note(64, 2, 5), Note(67, 5, 9)]
    assert editor.click(got, 7, 67) == [Note(60, 0, 2), Note(64, 2, 5)]  # a click on a sounding note removes it
    assert editor.click([], 62, 60) == [Note(60, 62, 64)]  # never past the window's end


def test_a_drag_sets_one_note_over_its_cells_replacing_what_it_covers():
    base = notes((60, 0, 4), (62, 4, 8), (64, 8, 12), (65, 12, 16))
    got = editor.span(base, 10, 5, 72)  # either direction
    assert got == [Note(60, 0, 4), Note(62, 4, 5), Note(72, 5, 11), Note(65, 12, 16)]
    assert all(a.end <= b.start for a, b in zip(got, got[1:], strict=False))  # monophonic


@pytest.mark.parametrize("gesture", ["", "click|3", "span|1,2", "zoom|1,2", "click|a,b", None, "click|1,60,3",
                                     "click|inf,60|1", "span|0,inf,60|1", "click|nan,60|1", "click|1e999,60|1"])
def test_gestures_that_are_not_a_cell_are_refused_with_a_sentence(gesture):
    with pytest.raises(UserError, match="note grid"):
        editor.parse_gesture(gesture)


@pytest.mark.parametrize("step, pitch, word", [(64, 60, "sixteenths"), (-1, 60, "sixteenths"), (3, 130, "piano key"),
                                                (3, 5, "piano key")])
def test_cells_outside_the_window_or_the_piano_are_refused(step, pitch, word):
    with pytest.raises(UserError, match=word):
        editor.click([], step, pitch)


def test_the_grid_shows_every_cell_and_widens_for_high_notes():
    low, high = editor.view_range([Note(96, 0, 4)])
    assert low == editor.VIEW_LOW and high == 98
    fig = note_editor([Note(96, 0, 4)], 64, low, high)
    cells = fig["data"][0]
    assert cells["name"] == "cells" and len(cells["customdata"]) == 64 * (high - low + 1)
    assert "0,96" in cells["customdata"] and fig["data"][1]["hoverinfo"] == "skip"


def test_drawn_notes_become_the_current_melody_like_an_upload(tiny_services, tmp_path):
    h = Handlers(tiny_services, out_dir=tmp_path)
    st = new_state()
    for g in ("click|0,67", "click|4,69", "span|8,15,71", "click|16,72", "click|16,72", "click|20,74"):
        st = h.edit_notes(st, g)
    assert list(st.draft) == [Note(67, 0, 4), Note(69, 4, 8), Note(71, 8, 16), Note(74, 20, 24)]
    with pytest.raises(UserError, match="Draw some notes"):
        h.read_notes(new_state())
    st = h.read_notes(st)
    st, r, info = h.choose_upload(st, 0, 0, Playback())
    assert info["extracted"] == list(st.draft)  # the exact notes are offered beside the rendering
    assert st.origin_tokens is not None and np.array_equal(st.origin_tokens, st.upload.candidates[0].windows[0])
    assert r.title.startswith("Your notes") and len(info["neighbours"]) == 10
    # and back: the current melody into the editor, as it plays
    back = h.draft_from_current(st, Playback(temperature=1.0, seed=3))
    assert list(back.draft) == [n for n in h.render(st, Playback(temperature=1.0, seed=3)).notes]
