"""The Compose screen: waypoints and a longer piece that walks through them, 4 bars at a time."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.ui.common import CheckedSlider, Page, plot, user_errors

NO_WAYPOINTS = "No waypoints yet."


def build(page: Page) -> SimpleNamespace:
    gr.Markdown("Choose waypoints (any melody you load), and the app walks through latent space from one to the next, "
                "one 4-bar section at a time.")
    with gr.Row():
        add = gr.Button("Add current as waypoint", elem_id="add-wp")
        clear = gr.Button("Clear waypoints")
    waypoints = gr.Markdown(NO_WAYPOINTS)
    with gr.Row():
        bars = CheckedSlider(8, 64, value=16, step=4, label="Length in bars")
        compose = gr.Button("Compose", variant="primary", elem_id="compose-btn")
    piece = gr.Plot(label="The piece")
    with gr.Row():
        audio = gr.Audio(label="Listen to the piece", type="filepath", interactive=False, elem_id="piece-audio")
        files = gr.File(label="Piece MIDI and WAV", file_count="multiple", interactive=False)
    return SimpleNamespace(add=add, clear=clear, waypoints=waypoints, bars=bars, compose=compose, piece=piece,
                           audio=audio, files=files)


def waypoints_text(st) -> str:
    return "  \n".join(f"{i + 1}. {w['title']}" for i, w in enumerate(st.waypoints)) or NO_WAYPOINTS


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    @user_errors
    def on_add(st):
        st = h.add_waypoint(st)
        return st, waypoints_text(st)

    c.add.click(on_add, [page.state], [page.state, c.waypoints], api_visibility="private")
    c.clear.click(lambda st: (st.but(waypoints=()), NO_WAYPOINTS), [page.state], [page.state, c.waypoints],
                  api_visibility="private")

    @user_errors
    def on_compose(data):
        piece = h.compose(page.session(data), int(data[c.bars]), page.playback(data))
        return plot(piece["figure"]), piece["wav"], [piece["midi"], piece["wav"]]

    c.compose.click(on_compose, page.inputs(c.bars), [c.piece, c.audio, c.files], api_name="compose",
                    api_visibility="private")
