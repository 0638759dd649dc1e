"""History under the player: undo/redo, a menu of every melody reached, stars and names, export of the starred."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.session import history
from explorer.session.words import renamed_title_line
from explorer.ui.common import Page, md_escape, menu_update, user_errors


def build() -> SimpleNamespace:
    """Lay out the history controls (inside the melody panel, before the Page exists)."""
    with gr.Row(equal_height=True):
        undo = gr.Button("↶ Undo", size="sm", elem_id="undo-btn", scale=1, min_width=80)
        redo = gr.Button("↷ Redo", size="sm", elem_id="redo-btn", scale=1, min_width=80)
        menu = gr.Dropdown([], label="History: every melody you reached (pick one to go back)", elem_id="history-dd",
                           scale=5)
    with gr.Row(equal_height=True):
        name = gr.Textbox(label="Name this melody (stars it)", max_lines=1, scale=3, elem_id="name-box")
        star = gr.Button("★ Star / unstar", size="sm", scale=1, elem_id="star-btn")
        export = gr.Button("Export starred", size="sm", scale=1, elem_id="export-btn")
    files = gr.File(label="Starred melodies: one MIDI with each as a section, a zip of MIDI files, WAV",
                    file_count="multiple", interactive=False, visible=True, elem_id="starred-files")
    return SimpleNamespace(undo=undo, redo=redo, menu=menu, name=name, star=star, export=export, files=files)


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    def step(fn):
        @user_errors
        def run(data):
            st, r = fn(page.session(data), page.playback(data))
            return {**page.show(st, r), **page.lock_values(st)}

        return run

    # the melody gone back to brings its locks back (its entry kept them): the lock checkboxes are outputs too
    out = page.main_and_sliders + page.locks
    c.undo.click(step(h.undo), page.inputs(), out, api_name="undo", api_visibility="private")
    c.redo.click(step(h.redo), page.inputs(), out, api_name="redo", api_visibility="private")

    @user_errors
    def on_pick(data):
        st, r = h.go_to(page.session(data), data[c.menu], page.playback(data))
        return {**page.show(st, r), **page.lock_values(st)}

    c.menu.input(on_pick, page.inputs(c.menu), out, api_name="history_go_to", api_visibility="private")

    @user_errors
    def on_star(data):
        st = page.session(data)
        now = history.current(st)
        st = h.star(st, on=not (now and now.starred))
        return {page.state: st, c.menu: menu_update(st)}

    c.star.click(on_star, page.inputs(), [page.state, c.menu], api_name="star", api_visibility="private")

    @user_errors
    def on_name(data):
        st = h.star(page.session(data), on=True, name=data[c.name])
        line = renamed_title_line(data[page.panel.title], f"**{md_escape(st.title)}**")  # the key line stays
        return {page.state: st, c.menu: menu_update(st), page.panel.title: line, c.name: "",
                page.panel.share: h.share_code(st, page.playback(data))}

    c.name.submit(on_name, page.inputs(c.name, page.panel.title), [page.state, c.menu, page.panel.title, c.name,
                                                                    page.panel.share],
                  api_name="name", api_visibility="private")

    @user_errors
    def on_export(data):
        out = h.export_starred(page.session(data), page.playback(data))
        gr.Info(f"Exported {out['count']} starred melodies.")
        return [out["midi"], out["zip"], out["wav"]]

    c.export.click(on_export, page.inputs(), c.files, api_name="export_starred", api_visibility="private")
