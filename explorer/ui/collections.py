"""The Your collection screen: drop files or a zip, name them, Add; the report, then the map in the collection's colour."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from explorer.session.collections import report_markdown
from explorer.ui.common import Page, checked_file, md_escape, plot, user_errors
from vae.corpus import COLLECTION_LABELS

FILE_TYPES = [".mid", ".midi", ".kar", ".rmi", ".abc", ".zip", ".MID", ".MIDI", ".ABC", ".ZIP"]


def build(page: Page) -> SimpleNamespace:
    h = page.h
    gr.Markdown("Put **your own music on the map**: drop several MIDI or ABC files, or a zip of them, name the "
                "collection and press *Add*. Their melodies join the map in a colour of their own, the neighbours, "
                "*Toward style* and the copy check, beside the folk corpus, and the collection is saved on this "
                "computer. A file that cannot be used gets one sentence saying why; the others are kept.")
    limits = gr.Markdown(h.limits_text(), elem_id="collection-limits")
    files = checked_file(label="Your files (.mid .midi .kar .rmi .abc, or a .zip of them)", file_count="multiple",
                         file_types=FILE_TYPES, type="filepath", elem_id="collection-files",
                         interactive=h.add_collections)
    with gr.Row():
        name = gr.Textbox(label="Collection name", placeholder="My songs", max_lines=1, scale=3,
                          elem_id="collection-name", interactive=h.add_collections)
        add = gr.Button("Add", variant="primary", scale=1, elem_id="collection-add", interactive=h.add_collections)
    report = gr.Markdown(h.collections_summary(), elem_id="collection-report")
    return SimpleNamespace(limits=limits, files=files, name=name, add=add, report=report)


def wire(page: Page, c: SimpleNamespace, corpus_map: SimpleNamespace, style_menus: list, demo: gr.Blocks) -> None:
    """Add: the report, the map (in the Map tab's colouring) and the style menus (`style_menus`, e.g. Transform's).
    A page (re)loaded after an add gets the menus and the summary as they are now (the built page has the first)."""
    h = page.h

    def on_load():
        styles = [(COLLECTION_LABELS.get(s, s), s) for s in h.s.style_names]
        return [h.collections_summary(), *[gr.update(choices=styles) for _ in style_menus]]

    demo.load(on_load, None, [c.report, *style_menus], queue=False, api_visibility="private", show_progress="hidden")

    @user_errors
    def on_add(data, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio injects a tracker per call)
        paths = [str(p) for p in (data[c.files] or [])]
        try:
            coll, files = h.add_collection(data[c.name], paths, names=[Path(p).name for p in paths],
                                           progress=lambda f, m: progress(f, desc=m))
        finally:  # read (or refused): the copies in Gradio's cache are not needed any more
            if page.uploads is not None:
                for p in paths:
                    page.uploads.discard(p)
        st = page.session(data)
        styles = [(COLLECTION_LABELS.get(s, s), s) for s in h.s.style_names]
        figure = h.map_figure(data[corpus_map.color_by] or "collection", h.s.place(st.z) if st.z is not None else None)
        return [report_markdown(coll, files, h.s.style_names, md_escape), None, plot(figure),
                *[gr.update(choices=styles) for _ in style_menus]]

    c.add.click(on_add, page.inputs(c.files, c.name, corpus_map.color_by),
                [c.report, c.files, corpus_map.corpus_map, *style_menus], api_name="add_collection",
                api_visibility="private")
