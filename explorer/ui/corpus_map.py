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
    # which map this page holds (map_key): opening the tab again sends nothing when it is the one to show
    shown = gr.State(None)
    return SimpleNamespace(tab=tab, color_by=color_by, corpus_map=corpus_map, click=click, shown=shown)


def view(h, st, color: str | None):
    """The map coloured by `color` with the star on the session's melody (none before one is loaded)."""
    return plot(h.map_figure(color or "collection", h.s.place(st.z) if st.z is not None else None))


def map_key(h, color: str | None) -> tuple:
    """What the map's figure is drawn from: its colouring, the latent space served (another once a collection joins
    the corpus) and the point limit. The star is not in it: the page moves the star itself (assets.MOVE_STAR_JS)."""
    return color or "collection", id(h.s), h.map_max_points


def shown_view(h, st, color: str | None) -> tuple:
    """(the map coloured by `color`, its map_key): for an event that sends the map and records which one it sent."""
    return view(h, st, color), map_key(h, color)


def open_view(h, st, color: str | None, shown: tuple | None) -> tuple | None:
    """What opening the Map tab sends: nothing (None) when the page holds this map already (the figure is ~1.2 MB
    of JSON, resent on every opening before), else the map and its key."""
    if shown is not None and tuple(shown) == map_key(h, color):
        return None
    return shown_view(h, st, color)


def keyed(c: SimpleNamespace, view: tuple | None) -> dict:
    """A (map, map_key) view as an event's answer keyed by the Map tab's components; None: nothing sent (gr.skip)."""
    if view is None:
        return gr.skip()
    figure, key = view
    return {c.corpus_map: figure, c.shown: key}


# A map sent while its tab was hidden, or not sent again, may show the star where an earlier melody was: once the tab
# is open (and Plotly has drawn it), the star goes where the hidden #map-pos box says the melody is.
STAR_ON_OPEN_JS = """
() => {
  let tries = 0;
  const move = () => {
    const gd = document.querySelector('#corpus-map .js-plotly-plot');
    const box = document.querySelector('#map-pos textarea, #map-pos input');
    if (gd && gd._fullData && window.Plotly && box && box.value) {
      const [x, y] = box.value.split(',').map(Number);
      const i = gd.data.findIndex((t) => t.name === 'current melody');
      if (i >= 0 && Number.isFinite(x) && Number.isFinite(y)) window.Plotly.restyle(gd, {x: [[x]], y: [[y]]}, [i]);
      return;
    }
    if (++tries < 40) setTimeout(move, 100);
  };
  setTimeout(move, 50);
}
"""


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
        return keyed(c, shown_view(h, st, color))

    def on_open(st, color, shown):
        return keyed(c, open_view(h, st, color, shown))

    c.color_by.input(on_view, [page.state, c.color_by], [c.corpus_map, c.shown], api_name="map",
                     api_visibility="private")
    c.tab.select(on_open, [page.state, c.color_by, c.shown], [c.corpus_map, c.shown], api_visibility="private",
                 show_progress="hidden")
    c.tab.select(None, None, None, js=STAR_ON_OPEN_JS)
