"""The Map screen: one point per tune, coloured by collection or an attribute; a click loads the tune."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.errors import UserError
from explorer.ui.common import Page, plot, user_errors
from vae.attributes import ATTRIBUTES


def build(page: Page, tab: gr.Tab) -> SimpleNamespace:
    with gr.Row():
        colours = [("collection", "collection")] + [(ATTRIBUTES.get(a, a), a) for a in page.h.s.attribute_names]
        color_by = gr.Dropdown(colours, value="collection", label="Colour by", scale=2)
        gr.Markdown("One point per tune, placed where its most typical 4-bar window sits (windows that are "
                    "mostly rest are skipped). **Click a point** to load that window; the ★ is the current melody. "
                    f"Above {page.h.map_max_points:,} tunes the map shows how densely they lie, with "
                    f"{page.h.map_max_points:,} of them as points: a click on the shading loads the tune nearest "
                    "the middle of that cell.", elem_id="map-help")
    corpus_map = gr.Plot(label="Corpus map", elem_id="corpus-map")
    # gr.Plot has no click event: assets.JS writes the clicked point into this hidden box.
    click = gr.Textbox(visible="hidden", elem_id="map-click")
    return SimpleNamespace(tab=tab, color_by=color_by, corpus_map=corpus_map, click=click)


def view(h, st, color: str | None):
    """The map coloured by `color` with the star on the session's melody (none before one is loaded)."""
    return plot(h.map_figure(color or "collection", h.s.place(st.z) if st.z is not None else None))


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    @user_errors
    def on_click(data):
        value = data[c.click]
        if not value:
            raise UserError("Click a point on the map.")
        try:
            tune = int(str(value).split("|")[0])
        except ValueError:
            raise UserError("Click a point on the map.") from None
        return page.show(*h.load_tune(page.session(data), tune, page.playback(data)))

    c.click.change(on_click, page.inputs(c.click), page.main_and_sliders, api_name="map_click",
                   api_visibility="private")

    def on_view(st, color):
        return view(h, st, color)

    c.color_by.input(on_view, [page.state, c.color_by], c.corpus_map, api_name="map", api_visibility="private")
    c.tab.select(on_view, [page.state, c.color_by], c.corpus_map, api_visibility="private")
