"""The session's typed contents (explorer.session.state) as the page's own event functions write and read them."""

import numpy as np

from explorer.session import editor
from explorer.session.state import Candidate, Drawn, Slot, Upload, new_state
from vae.tokenizer import Note


def _block(demo, b):
    return demo.blocks[b if isinstance(b, int) else b._id]


def _events(server):
    demo = server.demo
    block = lambda b: demo.blocks[b if isinstance(b, int) else b._id]  # noqa: E731

    def fn(name, reading=None):
        """The event called `name` (its api_name, else its function's name) that reads the input labelled `reading`."""
        return next(d for d in demo.fns.values() if (d.api_name == name or getattr(d.fn, "__name__", "") == name)
                    and (reading is None or reading in {getattr(block(b), "label", None) for b in d.inputs}))

    def data(event, st, **values):
        out = {b: (st if b.__class__.__name__ == "State" else b.value) for b in map(block, event.inputs)}
        by_label = {getattr(b, "label", None): b for b in map(block, event.inputs)}
        by_label.update({getattr(b, "elem_id", None): b for b in map(block, event.inputs)})
        out.update({by_label[k]: v for k, v in values.items()})
        return out

    return fn, data


def test_drawn_melodies_are_kept_and_picked(explorer_server):
    """Draw in a style keeps the melodies drawn (Drawn: their z and style); the pick slider loads the one picked."""
    fn, data = _events(explorer_server)
    draw, pick = fn("draw_in_style"), fn("on_pick", "Load melody into the player")
    state = _block(explorer_server.demo, draw.outputs[0])  # the page's session; answers are keyed by component
    st = draw.fn(data(draw, new_state()))[state]
    assert isinstance(st.drawn, Drawn) and st.drawn.style and len(st.drawn.z) >= 1
    picked = pick.fn(data(pick, st))[state]
    assert np.allclose(picked.z, st.drawn.z[0], atol=1e-3) and "(#1)" in picked.title  # z as a share code rounds it


def test_the_slots_kept_are_listed_by_title(h):
    """Use as A/B keeps the melody, its title and its detail in a Slot; the Blend screen lists the slots' titles."""
    from explorer.ui.blend import slots_text

    st = h.set_z(new_state(), h.s.index.mu[3], "Third window")
    st = h.set_slot(h.set_slot(st, "B"), "A")
    assert isinstance(st.slots["A"], Slot) and np.array_equal(st.slots["A"].z, st.z)
    assert st.slots["A"].title == "Third window" and st.slots["A"].detail is None
    assert slots_text(st) == "**A**: Third window  \n**B**: Third window"
    assert slots_text(new_state()) == "Slots: empty"


def test_drawn_notes_read_into_an_upload_and_shown(explorer_server):
    """Use these notes reads the drawn notes into an Upload of one Candidate; the Upload screen's status line and
    candidates menu are made from its fields."""
    fn, data = _events(explorer_server)
    use = fn("use_drawn_notes")
    text = editor.notes_text([Note(60, 0, 4), Note(64, 4, 8), Note(67, 8, 16)])
    out = use.fn(data(use, new_state(), **{"editor-notes": text}), progress=None)
    demo = explorer_server.demo
    state = _block(demo, use.outputs[0])
    cand = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "cand-dd")
    up = out[state].upload
    assert isinstance(up, Upload) and isinstance(up.candidates[0], Candidate)
    assert up.name == "Your notes" and up.tempo is None and up.warnings == () and up.meter == "4/4"
    assert up.candidates[0].label == "Your notes (3 notes)" and up.candidates[0].windows.shape[0] == 1
    status = next(o for o in out.values() if isinstance(o, str) and o.startswith("**Your notes**"))
    assert status.startswith("**Your notes** (4/4): 1 melody candidate(s); showing Your notes (3 notes), window 1 of 1.")
    assert out[cand]["choices"] == [("Your notes (3 notes)", 0)] and out[state].title.startswith("Your notes · ")


def test_the_blend_screen_answers_by_component(explorer_server):
    """Use as A / Use as B, Blend and a step picked, through the page's own event functions: each answer is keyed by
    its event's outputs (Gradio reads it so), the blend fills the strip, the player, the files and the picker's range,
    and the step picked becomes the current melody."""
    from gradio.blocks import convert_component_dict_to_list

    from explorer.media.files import Playback

    demo, h = explorer_server.demo, explorer_server.handlers
    fn, data = _events(explorer_server)
    def use(slot: str):
        button = next(b for b in demo.blocks.values()
                      if b.__class__.__name__ == "Button" and b.value == f"Use current as {slot}")
        return next(d for d in demo.fns.values() if any(t[0] == button._id for t in d.targets))

    st = new_state()
    for slot, row in (("A", 3), ("B", 40)):
        st = h.load_window(st, row, Playback())[0]
        event = use(slot)
        state, slots_md = (_block(demo, o) for o in event.outputs)
        out = event.fn(st)
        assert set(out) == {state, slots_md}
        st = out[state]
    assert set(st.slots) == {"A", "B"} and out[slots_md].startswith("**A**: ")
    blend = fn("blend")
    out, outs = blend.fn(data(blend, st, **{"Steps from A to B": 5})), [_block(demo, o) for o in blend.outputs]
    assert set(out) == set(outs)  # keyed by every output
    st, strip, audio, files, pick = convert_component_dict_to_list(outs, out)
    assert len(st.blend_z) == 5 and strip.plot and audio == files[1]
    assert pick["maximum"] == 5 and pick["value"] == 1
    step = fn("on_pick", "Load step into the player")
    shown = step.fn(data(step, st, **{"Load step into the player": 1}))
    assert np.allclose(shown[state].z, st.blend_z[0], atol=1e-3)
