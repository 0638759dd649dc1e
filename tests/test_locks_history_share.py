"""Locks go into history and share links (step 19): undo brings back the old melody with the locks it had, a share
link carries the bar, rhythm and pitch locks and opening it ticks them again; codes of versions 1-4 still open. On
corpus tunes (music21) with the tiny model, and on the page's wiring (the app's own event functions)."""

from __future__ import annotations

import base64
import struct

import numpy as np
import pytest
from gradio.blocks import convert_component_dict_to_list

from explorer.errors import UserError
from explorer.media.files import Playback
from explorer.session import history
from explorer.session.sharecode import HEAD_V4, HEAD_V5, decode_z, encode_z
from explorer.session.state import Locks, new_state

PLAY = Playback()
Z = np.linspace(-2, 2, 64).astype(np.float32)


def test_undo_brings_back_the_old_melody_and_its_locks(h, tiny_services):
    st, _ = h.load_window(new_state(), 5, PLAY)
    st = history.record(st)
    first, first_z = st.cursor, st.z
    st = history.set_locks(st, Locks((0, 1)))  # the composer locks bars 1-2 of the corpus tune
    st, _ = h.regenerate(st, st.locks.bars, False, PLAY, seed=3)
    st, _ = h.take_alternative(st, 0, PLAY)
    st = history.record(st)
    assert st.cursor != first and st.locks == Locks((0, 1))  # the new melody starts with the same locks
    st = history.set_locks(st, Locks((3,), rhythm=True))  # ... then the composer changes them
    st, _ = h.undo(st, PLAY)
    assert st.cursor == first and np.array_equal(st.z, first_z) and st.locks == Locks((0, 1))
    st, _ = h.redo(st, PLAY)
    assert st.locks == Locks((3,), rhythm=True)
    assert [e.locks for e in st.history] == [Locks((0, 1)), Locks((3,), rhythm=True)]


def test_a_new_melody_keeps_the_locks_the_page_shows_and_unlocked_entries_stay_unlocked(h):
    st = history.record(h.load_window(new_state(), 9, PLAY)[0])
    st = history.record(h.random(st, PLAY, seed=2)[0])
    st = history.set_locks(st, Locks((2,), pitches=True))
    st = history.record(h.similar(st, PLAY, 0.8, seed=4)[0])
    assert [e.locks for e in st.history] == [Locks(), Locks((2,), pitches=True), Locks((2,), pitches=True)]
    st, _ = h.go_to(st, st.history[0].id, PLAY)
    assert st.locks == Locks() and not st.locks


@pytest.mark.parametrize("locks", [Locks((0, 1)), Locks((3,), rhythm=True), Locks((), pitches=True),
                                   Locks((0, 2), rhythm=True, pitches=True)])
def test_a_share_link_carries_the_locks_and_opening_it_restores_them(h, locks):
    st, _ = h.load_window(new_state(), 5, PLAY)
    code = h.share_code(st.but(locks=locks), PLAY)
    d = decode_z(code)
    assert (d["locked_bars"], d["rhythm_lock"], d["pitch_lock"]) == (locks.bars, locks.rhythm, locks.pitches)
    opened, r, _ = h.from_share_code(new_state(), code, PLAY)
    assert opened.locks == locks and np.array_equal(opened.z, st.z)
    assert h.share_code(opened, PLAY) == code  # the opened page links to the same thing


def test_a_melody_without_locks_opens_without_locks():
    d = decode_z(encode_z(Z, title="Reel", loop=True))
    assert (d["locked_bars"], d["rhythm_lock"], d["pitch_lock"], d["loop"]) == ((), False, False, True)


def _v4(flags: int = 0) -> str:
    head = struct.pack(HEAD_V4, 4, len(Z), 0.0, 0, 120.0, 0, 0, 0, 0, 0, 0, 0, flags, 0, 0, 0, 0)
    return base64.urlsafe_b64encode(head + Z.astype(np.float16).tobytes()).decode().rstrip("=")


def test_a_version_4_link_still_opens_without_locks(h):
    d = decode_z(_v4(flags=1))
    assert d["loop"] and (d["locked_bars"], d["rhythm_lock"], d["pitch_lock"]) == ((), False, False)
    with pytest.raises(UserError, match="settings"):  # a version 4 code has no lock flags
        decode_z(_v4(flags=4))


def _v5(mask: int, flags: int = 0) -> str:
    head = struct.pack(HEAD_V5, 5, len(Z), 0.0, 0, 120.0, 0, 0, 0, 0, 0, 0, 0, flags, 0, 0, 0, 0, mask)
    return base64.urlsafe_b64encode(head + Z.astype(np.float16).tobytes()).decode().rstrip("=")


def test_damaged_locks_get_a_sentence(h, tiny_services):
    assert decode_z(_v5(0b1001, 4 | 8))["locked_bars"] == (0, 3)
    with pytest.raises(UserError, match="settings"):
        decode_z(_v5(0, 16))
    z = np.zeros(tiny_services.latent_dim, np.float32)
    code = encode_z(z, locked_bars=(tiny_services.format.bars,))  # a bar past the melody's end
    with pytest.raises(UserError, match=f"locks bar {tiny_services.format.bars + 1}, but its melody has"):
        h.from_share_code(new_state(), code, PLAY)


def _fn(demo, api_name: str):
    return next(d for d in demo.fns.values() if d.api_name == api_name)


def _as_block(demo, b):
    return demo.blocks[b if isinstance(b, int) else b._id]


def _answer(demo, fn, *args) -> list:
    """fn's answer (a dict keyed by component) as a list in its outputs' order, an output left out as gr.skip()."""
    return convert_component_dict_to_list([_as_block(demo, o) for o in fn.outputs], fn.fn(*args))


def _block(demo, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_the_page_reads_the_lock_boxes_and_undo_and_a_link_tick_them_again(explorer_server):
    """The page's own event functions: every event reads the lock checkboxes into the session (a ticked box reaches
    the history entry and the share link at once); undo, redo and a history pick set the boxes to the locks of the
    melody they go back to; the page's load from a share link ticks the link's locks."""
    demo, h = explorer_server.demo, explorer_server.handlers
    bars = h.s.format.bars
    boxes = [_block(demo, f"lock-bar-{b + 1}") for b in range(bars)] + [_block(demo, "rhythm-lock"),
                                                                         _block(demo, "pitch-lock")]
    undo = _fn(demo, "undo")
    assert [_as_block(demo, o) for o in undo.outputs[-len(boxes):]] == boxes

    def data(fn, st, ticked=(), rhythm=False, pitches=False):
        """fn's inputs as the page sends them: each component's own value, the session, the boxes as ticked."""
        values = {b: (st if b.__class__.__name__ == "State" else b.value) for b in map(_as_block, [demo] * len(
            fn.inputs), fn.inputs)}
        assert set(boxes) <= set(values)  # every event reads the boxes
        values.update({box: b in ticked for b, box in enumerate(boxes[:bars])})
        values.update({boxes[bars]: rhythm, boxes[bars + 1]: pitches})
        return values

    st, _ = h.load_window(new_state(), 5, PLAY)
    st = history.record(st)
    # ticking bar 2 and the rhythm lock: the session and its history entry keep them, the share link carries them
    lock = next(d for d in demo.fns.values()
                if any(demo.blocks.get(t[0]) is boxes[1] and t[1] == "input" for t in d.targets))
    st, code = _answer(demo, lock, data(lock, st, ticked=(1,), rhythm=True))
    assert st.locks == Locks((1,), rhythm=True) and history.current(st).locks == st.locks
    assert decode_z(code)["locked_bars"] == (1,) and decode_z(code)["rhythm_lock"]
    # a new melody (Similar) with the boxes as they are, then bar 4 ticked instead
    vary = _fn(demo, "vary")
    st = _answer(demo, vary, data(vary, st, ticked=(1,), rhythm=True))[0]
    assert len(st.history) == 2 and st.history[-1].locks == Locks((1,), rhythm=True)
    out = _answer(demo, undo, data(undo, st, ticked=(3,)))
    st = out[0]
    assert st.cursor == st.history[0].id and out[-len(boxes):] == [False, True, False, False, True, False]
    redo = _fn(demo, "redo")
    out = _answer(demo, redo, data(redo, st, ticked=(1,), rhythm=True))
    assert out[-len(boxes):] == [False, False, False, True, False, False]  # the locks it was left with
    # a share link with locks opened by the page's load event ticks them
    load = _fn(demo, "load")
    assert [_as_block(demo, o) for o in load.outputs[-len(boxes):]] == boxes

    class Request:
        query_params = {"m": h.share_code(out[0].but(locks=Locks((0, 2), pitches=True)), PLAY)}

    shown = _answer(demo, load, data(load, new_state()), Request())
    assert shown[0].locks == Locks((0, 2), pitches=True)
    assert shown[-len(boxes):] == [True, False, True, False, False, True]
