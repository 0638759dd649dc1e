"""The Map tab sends the map once: the page load's follow-up sends it and records which map it sent; opening the tab
then sends nothing (it had resent the whole figure, every corpus point, on every opening), unless the map to show is
another (a new colouring, another latent space, another point limit). On the page's own event functions over the
tiny model and its corpus; the star follows the melody in the page (a script on the tab's select)."""

from __future__ import annotations

import gradio as gr
import pytest
from gradio.blocks import convert_component_dict_to_list

from explorer.media.files import Playback
from explorer.session.state import new_state


@pytest.fixture(scope="module")
def demo(tiny_services, tmp_path_factory):
    """The page over the tiny services, built but not launched: its event functions are called directly."""
    from explorer import ui
    from explorer.session.handlers import Handlers

    return ui.build_ui(tiny_services, handlers=Handlers(tiny_services, out_dir=tmp_path_factory.mktemp("renders")))


def _block(demo, b):
    return demo.blocks[b if isinstance(b, int) else b._id]


def _map_events(demo):
    """(the load's follow-up, the colour menu's event, the tab's select event, the tab's script) of the Map tab."""
    plot = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "corpus-map")
    tab = next(b for b in demo.blocks.values() if b.__class__.__name__ == "Tab" and getattr(b, "label", "") == "Map")
    sends = [d for d in demo.fns.values() if any(_block(demo, o) is plot for o in d.outputs)]
    on_tab = [d for d in demo.fns.values() if any(t[0] == tab._id and t[1] == "select" for t in d.targets)]
    select = next(d for d in on_tab if d.fn is not None)
    script = next(d for d in on_tab if d.fn is None)
    colour = next(d for d in sends if d.api_name == "map")
    follow = next(d for d in sends if d is not select and d is not colour and any(t[1] == "then" for t in d.targets))
    return follow, colour, select, script


def _answer(demo, dep, *args) -> list:
    """dep's answer (keyed by component, or one gr.skip() for all) as a list in its outputs' order, as Gradio reads it."""
    out, outs = dep.fn(*args), [_block(demo, o) for o in dep.outputs]
    return [out] * len(outs) if out == gr.skip() else convert_component_dict_to_list(outs, out)


def _bytes(value) -> int:
    """Bytes of figure an output carries: the plot's JSON, 0 for an update that sends nothing (gr.skip())."""
    return len(value.plot) if hasattr(value, "plot") else 0


def test_opening_the_map_tab_again_sends_no_figure(demo):
    h = demo.handlers
    follow, colour, select, script = _map_events(demo)
    st, _ = h.load_window(new_state(), 5, Playback())
    # the page's load: its follow-up sends the map with the star on the melody, and what it sent
    fig, shown = _answer(demo, follow, st, "collection")
    assert _bytes(fig) > 10_000 and shown is not None
    # opening the tab, then again after another melody: nothing sent, the page moves the star itself
    assert [_bytes(v) for v in _answer(demo, select, st, "collection", shown)] == [0, 0]
    st2, _ = h.random(st, Playback(), seed=3)
    assert [_bytes(v) for v in _answer(demo, select, st2, "collection", shown)] == [0, 0]
    assert "map-pos" in script.js and "current melody" in script.js
    # another colouring is another map: sent once, then not again
    if h.s.attribute_names:
        attr = h.s.attribute_names[0]
        fig2, shown2 = _answer(demo, colour, st2, attr)
        assert _bytes(fig2) > 10_000 and shown2 != shown
        assert [_bytes(v) for v in _answer(demo, select, st2, attr, shown2)] == [0, 0]
        back, shown3 = _answer(demo, select, st2, "collection", shown2)  # the colour menu set back before the tab opens
        assert _bytes(back) > 10_000 and shown3 == shown
    # a page that holds no map yet (the load's follow-up not answered), or another point limit: the map is sent
    assert _bytes(_answer(demo, select, st2, "collection", None)[0]) > 10_000
    old = h.map_max_points
    try:
        h.map_max_points = 40
        assert _bytes(_answer(demo, select, st2, "collection", shown)[0]) > 0
    finally:
        h.map_max_points = old
