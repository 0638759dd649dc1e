"""The benchmark's Gradio-events drag path (explorer.ui.levers.gradio_drags) still builds beside the shipped page drags."""

from __future__ import annotations


def test_the_benchmarks_gradio_drag_path_builds_an_app_without_the_page_drags(tiny_services):
    from explorer.ui.levers.gradio_drags import build_ui

    demo = build_ui(tiny_services)
    names = [fn.api_name for fn in demo.fns.values()]
    assert names.count("sliders") == 1 and "drag" not in names and "random" in names
    ids = [getattr(b, "elem_id", None) for b in demo.blocks.values()]
    assert "slider-gesture" in ids and "drag-token" not in ids and "slider-hold" not in ids
