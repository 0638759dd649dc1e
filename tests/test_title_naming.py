"""Naming a melody changes its name on the title line, not its key: the line keeps '· key: …' (and the chords) after
the name, as the next render shows it. On the page's own event functions over the tiny model and a corpus tune."""

from __future__ import annotations

import pytest

from explorer.session.words import renamed_title_line


@pytest.fixture(scope="module")
def demo(tiny_services, tmp_path_factory):
    """The page over the tiny services, built but not launched: its event functions are called directly."""
    from explorer import ui
    from explorer.session.handlers import Handlers

    return ui.build_ui(tiny_services, handlers=Handlers(tiny_services, out_dir=tmp_path_factory.mktemp("renders")))


def _fn(demo, api_name: str):
    return next(d for d in demo.fns.values() if d.api_name == api_name)


def _block(demo, b):
    return demo.blocks[b if isinstance(b, int) else b._id]


def _by_elem(demo, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def _data(demo, fn, st, **by_elem) -> dict:
    """fn's inputs as the page sends them: each component's own value, the session, and `by_elem` (elem_id -> value)."""
    values = {b: (st if b.__class__.__name__ == "State" else b.value) for b in (_block(demo, i) for i in fn.inputs)}
    values.update({_by_elem(demo, k.replace("_", "-")): v for k, v in by_elem.items()})
    return values


class _Request:
    query_params: dict = {}


def test_naming_a_melody_keeps_the_key_on_the_title_line(demo):
    from explorer.session.state import new_state

    title_md = _by_elem(demo, "title-md")
    load = _fn(demo, "load")
    state = _block(demo, load.outputs[0])  # the page's session; the answers are keyed by component
    out = load.fn(_data(demo, load, new_state()), _Request())
    st, line = out[state], out[title_md]
    assert " · key: " in line, line  # the corpus tune's key, after its name

    name = _fn(demo, "name")
    out = name.fn(_data(demo, name, st, name_box="My tune", title_md=line))
    named = out[title_md]
    assert named.startswith("**My tune** · key: "), named
    assert named.split("**My tune**")[1] == line.split("**", 2)[2]  # the key (and any chords) as they were

    # the next render of the same melody shows the same line: naming changed nothing but the name
    play = _fn(demo, "playback")
    again = play.fn(_data(demo, play, out[state]))
    assert again[title_md] == named


def test_the_name_replaces_the_bold_title_and_keeps_what_follows():
    line = r"**The Little \*Heathy\* Hill — Folk · 6/8 · bars 1\-6** · key: G minor · chords: Am F"
    assert renamed_title_line(line, "**Mine**") == "**Mine** · key: G minor · chords: Am F"
    assert renamed_title_line("**Random melody (seed 3)**", "**Mine**") == "**Mine**"
    assert renamed_title_line("", "**Mine**") == "**Mine**"
    assert renamed_title_line("<img src=x> · key: C", "**Mine**") == "**Mine**"  # not a title line: nothing kept
