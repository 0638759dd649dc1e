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
    updates = dep.fn(True)  # keyed by player
    assert set(updates) == set(players) and all(u["loop"] is True for u in updates.values())
    assert all(u["loop"] is False for u in dep.fn(False).values())


def test_transforms_attribute_menu_uses_the_sliders_words(explorer_server):
    """The push menu names each attribute as its slider does ("Notes: fewer ← → more", not "note density ...")."""
    from vae.controls import WORDS, slider_words

    menu = next(b for b in explorer_server.demo.blocks.values() if getattr(b, "label", None) == "Attribute")
    labels = {value: label for label, value in menu.choices}
    assert labels and all(labels[a] == slider_words(a) for a in labels if a in WORDS)
    assert labels.get("note_density") == "Notes: fewer ← → more"


def _by_id(demo, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def _event_of(demo, block):
    return next(d for d in demo.fns.values() if any(t[0] == block._id for t in d.targets))


def test_regenerate_reads_the_locks_and_takes_update_the_melody_panel(explorer_server):
    """Regenerate reads the four bar locks and the rhythm lock and writes the session, the alternatives' figure and
    a player per alternative (to hear it before taking it); each Take button updates the whole current-melody
    panel (title, roll, audio, history, sliders)."""
    demo = explorer_server.demo
    ids = lambda blocks: {demo.blocks[b if isinstance(b, int) else b._id].elem_id for b in blocks}  # noqa: E731
    regen = _event_of(demo, _by_id(demo, "regenerate-btn"))
    wanted = {f"lock-bar-{b}" for b in range(1, 5)} | {"rhythm-lock", "pitch-lock"}
    assert wanted <= ids(regen.inputs)
    hear = {f"hear-{k}" for k in range(1, 5)}
    assert {"regenerate-plot"} | hear <= ids(regen.outputs) and len(regen.outputs) == 6
    outs = [ids(_event_of(demo, _by_id(demo, f"take-{k}")).outputs) for k in range(1, 5)]
    assert all({"title-md", "piano-roll", "melody-audio", "pc-1"} <= o for o in outs)


def test_the_slider_release_reads_the_bar_locks_and_a_lock_closes_the_open_drag(explorer_server):
    """Sliders act on the unlocked bars only (step 19): Render / a slider's release reads the four bar locks, the
    drag opening reads them (no live previews while bars are locked) and ticking a lock clears the drag token."""
    demo = explorer_server.demo
    ids = lambda blocks: {demo.blocks[b if isinstance(b, int) else b._id].elem_id for b in blocks}  # noqa: E731
    locks = {f"lock-bar-{b}" for b in range(1, 5)}
    render = next(d for d in demo.fns.values() if d.api_name == "sliders")
    assert locks <= ids(render.inputs)
    hold = next(d for d in demo.fns.values() if d.api_name == "drag")
    assert locks <= ids(hold.inputs)
    lock_change = [d for d in demo.fns.values()
                   if any(getattr(demo.blocks.get(t[0]), "elem_id", None) in locks and t[1] == "change" for t in d.targets)]
    assert lock_change and all(ids(d.outputs) == {"drag-token"} for d in lock_change)
