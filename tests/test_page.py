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
