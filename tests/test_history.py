"""History, undo/redo, stars and export (explorer.session.history + Handlers) on the tiny model and real corpus melodies."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.media.files import Playback
from explorer.session import history
from explorer.session.handlers import Handlers
from explorer.session.state import new_state

PLAY = Playback()


def reach(st):
    return history.record(st)


def test_undo_goes_back_the_way_you_came_and_redo_returns(h, tiny_services):
    st, _ = h.load_window(new_state(), 5, PLAY)
    st = reach(st)
    a = st.cursor
    st, _ = h.random(st, PLAY, seed=1)
    st = reach(st)
    b = st.cursor
    k = len(h.labels)
    st, _ = h.set_sliders(st, [1.0] + [0.0] * (k - 1), PLAY)
    st = reach(st)
    c = st.cursor
    assert [e.id for e in st.history] == [a, b, c] and st.history[2].parent == b
    st, r = h.undo(st, PLAY)
    assert st.cursor == b and np.array_equal(st.z, st.history[1].z)
    st, _ = h.undo(st, PLAY)
    assert st.cursor == a and st.title == st.history[0].title and np.array_equal(st.origin_z, st.history[0].origin_z)
    with pytest.raises(UserError, match="Nothing to undo"):
        h.undo(st, PLAY)
    st, _ = h.redo(st, PLAY)
    assert st.cursor == b
    # a new melody made from b branches: redo from b now goes to the newest branch
    st, _ = h.similar(st, PLAY, 0.8, seed=3)
    st = reach(st)
    d = st.cursor
    assert st.history[-1].parent == b
    st, _ = h.undo(st, PLAY)
    assert st.cursor == b
    st, _ = h.redo(st, PLAY)
    assert st.cursor == d
    with pytest.raises(UserError, match="Nothing to redo"):
        h.redo(st, PLAY)
    assert len(st.history) == 4  # going back and forth adds nothing


def test_dragging_one_slider_is_one_entry_and_another_slider_a_new_one(h):
    st, _ = h.load_window(new_state(), 7, PLAY)
    st = reach(st)
    shown = [round(float(v), 2) for v in np.clip(h.s.sliders_of(st.z), -3, 3)]  # what the page shows
    for v in (0.5, 1.0, 1.5, 2.0):  # one drag: four positions
        st, _ = h.set_sliders(st, [v] + shown[1:], PLAY)
        st = reach(st)
    assert len(st.history) == 2 and st.history[-1].move == "slider:0"
    vals = list(st.sliders)
    vals[1] = -1.0
    st, _ = h.set_sliders(st, vals, PLAY)
    st = reach(st)
    assert len(st.history) == 3 and st.history[-1].move == "slider:1"
    st, _ = h.undo(st, PLAY)  # back to slider 0 at 2.0, not to each drag position
    assert np.array_equal(st.z, st.history[1].z)


def test_history_is_capped_but_keeps_stars(h, tiny_services):
    st, _ = h.load_window(new_state(), 3, PLAY)
    st = h.star(reach(st), on=True, name="  keep   me ")
    assert st.title == "keep me" and history.current(st).starred
    for seed in range(history.MAX_ENTRIES + 5):
        st, _ = h.random(st, PLAY, seed=seed)
        st = reach(st)
    assert len(st.history) == history.MAX_ENTRIES
    assert st.history[0].name == "keep me" and st.history[0].starred


def test_export_starred_writes_sections_and_a_zip(h, tiny_services):
    import pretty_midi

    with pytest.raises(UserError, match="Star some"):
        h.export_starred(new_state(), PLAY)
    s = tiny_services
    decoded = s.decode(s.index.mu)
    busy = [i for i in range(len(decoded)) if len(s.notes(decoded[i])) >= 1][:3]  # the tiny model: few notes
    assert len(busy) == 3
    st = new_state()
    for i in busy:
        st, _ = h.load_window(st, i, PLAY)
        st = h.star(reach(st), on=True)
    st, _ = h.random(st, PLAY, seed=9)  # not starred: not exported
    st = reach(st)
    out = h.export_starred(st, PLAY)
    assert out["count"] == 3
    pm = pretty_midi.PrettyMIDI(out["midi"])
    starts = [n.start for n in pm.instruments[0].notes]
    seconds = 60 / 120 / 4 * s.format.window_steps  # one 4-bar section at 120 bpm
    assert {int(t // seconds) for t in starts} == {0, 1, 2}  # a section each
    with zipfile.ZipFile(out["zip"]) as zf:
        names = zf.namelist()
        assert len(names) == 3 and all(n.endswith(".mid") for n in names)
        import io

        total = sum(len(pretty_midi.PrettyMIDI(io.BytesIO(zf.read(n))).instruments[0].notes) for n in names)
    assert total == len(pm.instruments[0].notes)


def test_entries_say_what_made_them(tiny_services):
    """History that reads: 'Notes +1.2 — <tune>' for a run of one slider's moves (one entry, the change since the
    run began), 'Toward …' for a style move, 'Upload <file> · bars …' for an upload; a move back to where the
    melody already is adds nothing."""
    import numpy as np

    from explorer.media.files import Playback
    from explorer.session import history
    from explorer.session.state import new_state

    h = Handlers(tiny_services)
    st, r = h.load_window(new_state(), 0, Playback())
    st = history.record(st)
    k = 0
    word = h.labels[k]["label"].split(":")[0].split(" (")[0]  # 'Notes' on the shipped model
    v0 = np.asarray(r.sliders, np.float32)  # as the page shows them (rounded, clipped to the sliders' range)
    start = float(tiny_services.sliders_of(st.z)[k])  # the exact value the run starts from
    a, b = v0.copy(), v0.copy()
    a[k], b[k] = v0[k] + 0.5, v0[k] + 1.2
    st = history.record(h.set_sliders(st, a.tolist(), Playback())[0])
    st = history.record(h.set_sliders(st, b.tolist(), Playback())[0])
    moved = history.current(st)
    assert moved.label.startswith(f"{moved.id}. {word} {float(b[k]) - start:+.1f} — ") and len(st.history) == 2
    same = history.record(h.set_sliders(st, b.tolist(), Playback())[0])  # released where it already was
    assert len(same.history) == 2
    style = tiny_services.style_names[0]
    st = history.record(h.move_style(st, style, 1.0, Playback())[0])
    assert "Toward " in history.current(st).label


def test_the_actions_record_what_they_show_without_the_page(h):
    """A script calling the actions (no page, no history.record of its own) gets the page's history: every melody
    an action brings to the player is an entry, made from the one before; a drag's frames are not, its release is."""
    st, _ = h.load_window(new_state(), 5, PLAY)
    assert [e.id for e in st.history] == [1] and st.cursor == 1 and np.array_equal(st.history[0].z, st.z)
    st, r = h.random(st, PLAY, seed=1)
    assert [(e.id, e.parent) for e in st.history] == [(1, None), (2, 1)] and st.cursor == 2
    values = [r.sliders[0] + 1.0, *r.sliders[1:]]  # the first slider moved, the others where the page shows them
    frame, _ = h.set_sliders(st, values, PLAY, preview=True)  # a drag's frame: heard, not in the history
    assert frame.preview is not None and frame.history == st.history and frame.cursor == 2
    done, _ = h.release(frame, PLAY)  # the slider let go: that melody is an entry now
    assert done.preview is None and len(done.history) == 3 and done.cursor == 3
    assert np.array_equal(history.current(done).z, frame.z) and history.current(done).move == "slider:0"
    again, _ = h.set_sliders(st, values, PLAY)  # the same move without a drag: the same entry
    assert [(e.id, e.parent) for e in again.history] == [(e.id, e.parent) for e in done.history]
    assert np.array_equal(history.current(again).z, again.z)
    style = h.s.style_names[0]
    moved, _, _ = h.move_style(done, style, 1.0, PLAY)
    assert moved.cursor == 4 and history.current(moved).made_by.startswith("Toward ")
    drawn, _ = h.draw_in_style(moved, style, 2, PLAY, seed=3)
    assert drawn.history == moved.history  # drawn, not yet loaded
    picked, _ = h.load_drawn(drawn, 2, PLAY)
    assert picked.cursor == 5 and history.current(picked).title.endswith("(#2)")
    back, _ = h.undo(picked, PLAY)
    assert back.cursor == 4 and back.history == picked.history  # going back adds nothing


def test_what_the_screens_keep_is_kept_by_the_actions(h, tmp_path):
    """A script gets what the page keeps without writing the session itself: a composed piece (what Regenerate
    this section redraws), a blend's steps (what the pick loads), an upload's neighbours, the editor's draft, and a
    named melody that is no longer 'after' the move that made it."""
    from conftest import busy_train_window, window_midi

    st, _ = h.load_window(new_state(), 5, PLAY)
    st = h.add_waypoint(h.random(h.add_waypoint(st), PLAY, seed=2)[0])
    st, piece = h.compose_kept(st, 8, PLAY)
    assert st.piece is not None and np.array_equal(st.piece.z, piece["z"])
    assert list(st.piece.labels) == list(piece["labels"])
    again, _ = h.regenerate_section(st, 2, PLAY, 7)  # works from what compose_kept kept
    assert again.piece is not None
    assert h.clear_waypoints(st).waypoints == ()
    st = h.set_slot(h.set_slot(st, "A"), "B")
    st, b = h.blend_kept(st, 3, PLAY)
    assert np.array_equal(st.blend_z, b["z"])
    assert h.load_blend_step(st, 2, PLAY)[0].title.startswith("Blend step 2")
    drafted = h.set_draft(st, "[[60,0,4],[64,4,8]]")
    assert [(n.pitch, n.start, n.end) for n in drafted.draft] == [(60, 0, 4), (64, 4, 8)]
    assert h.set_draft(drafted, "").draft == ()
    moved, _, _ = h.move_style(st, h.s.style_names[0], 1.0, PLAY)
    assert moved.move
    named = h.star(moved, name="  My  tune ")
    assert (named.title, named.move) == ("My tune", "")
    assert h.star(moved).move == moved.move  # a star alone keeps what made it
    path = window_midi(h.s.corpus, busy_train_window(h.s.corpus), tmp_path / "up.mid")
    up = h.upload(new_state(), str(path))
    chosen, _, info = h.choose_upload(up, 0, 0, PLAY)
    assert chosen.neighbours == tuple(n["window"] for n in info["neighbours"]) and chosen.neighbours
