"""The page's wiring that needs no browser: which event updates which components."""

from __future__ import annotations


def test_the_loop_box_sets_loop_on_every_player(explorer_server):
    """The Loop checkbox's event (browser-side state, no render) updates all three players."""
    demo = explorer_server.demo
    ids = {b._id: b for b in demo.blocks.values()}
    loop_box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "loop-cb")
    dep = next(d for d in demo.fns.values() if any(t[0] == loop_box._id for t in d.targets))
    players = [ids[o._id] if hasattr(o, "_id") else ids[o] for o in dep.outputs]
    assert sorted(p.elem_id for p in players) == ["blend-audio", "melody-audio", "piece-audio"]
    updates = dep.fn(True)
    assert len(updates) == 3 and all(u["loop"] is True for u in updates)
    assert all(u["loop"] is False for u in dep.fn(False))


def test_transforms_attribute_menu_uses_the_sliders_words(explorer_server):
    """The push menu names each attribute as its slider does ("Notes: fewer ← → more", not "note density ...")."""
    from vae.controls import WORDS, slider_words

    menu = next(b for b in explorer_server.demo.blocks.values() if getattr(b, "label", None) == "Attribute")
    labels = {value: label for label, value in menu.choices}
    assert labels and all(labels[a] == slider_words(a) for a in labels if a in WORDS)
    assert labels.get("note_density") == "Notes: fewer ← → more"
