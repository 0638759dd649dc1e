"""The Compose screen: waypoints and a longer piece that walks through them, one window of the model at a time; one
section of it drawn anew."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.latent.generation import FORMS
from explorer.ui.common import CheckedSlider, Page, fresh_seed, plot, user_errors

NO_WAYPOINTS = "No waypoints yet."
MAX_SECTIONS = 16  # the longest piece, in sections of the model's window (64 bars of 4)
NOTICE_SECONDS = 20  # long enough to read which waypoints a form left out


def build(page: Page) -> SimpleNamespace:
    per = page.h.s.format.bars  # bars per section: the model's window
    gr.Markdown("Choose waypoints (any melody you load), and the app walks through latent space from one to the next, "
                f"one {per}-bar section at a time: every waypoint is a section of its own, the sections between them "
                "are transitions. Or pick the AABA song form (A = the first waypoint, B = the second). With your "
                "chords typed in the player, the piece is drawn over them: the chord line runs from the top of every "
                f"{per}-bar section, as the backing plays it, and each section's beat notes land on its chords. Load "
                "any section back into the player to keep working on it.")
    with gr.Row():
        add = gr.Button("Add current as waypoint", elem_id="add-wp")
        clear = gr.Button("Clear waypoints")
    waypoints = gr.Markdown(NO_WAYPOINTS, elem_id="compose-waypoints")
    with gr.Row():
        bars = CheckedSlider(2 * per, MAX_SECTIONS * per, value=4 * per, step=per, label="Length in bars")
        form = gr.Radio([(f"{k}: {v}", k) for k, v in FORMS.items()], value="through", label="Form",
                        elem_id="form-radio")
        compose = gr.Button("Compose", variant="primary", elem_id="compose-btn")
    piece = gr.Plot(label="The piece")
    with gr.Row():
        audio = gr.Audio(label="Listen to the piece", type="filepath", interactive=False, elem_id="piece-audio")
        files = gr.File(label="Piece MIDI and WAV", file_count="multiple", interactive=False)
    pick = CheckedSlider(1, MAX_SECTIONS, value=1, step=1, label="Load section into the player (to edit it there)",
                         elem_id="piece-pick")
    gr.Markdown("**Not happy with one section?** Draw it anew: every other section stays note for note, and so do "
                "their chords. Tick bars to keep inside it to redo only the rest (one bar, say). Press again for "
                "another.")
    with gr.Row():
        section = CheckedSlider(1, MAX_SECTIONS, value=1, step=1, label="Section", elem_id="regen-section")
        keep = gr.CheckboxGroup([(f"bar {b + 1}", b) for b in range(per)], value=[], label="Keep these bars of it",
                                elem_id="regen-section-keep")
        regenerate = gr.Button("Regenerate this section", elem_id="regen-section-btn")
    return SimpleNamespace(add=add, clear=clear, waypoints=waypoints, bars=bars, form=form, compose=compose,
                           piece=piece, audio=audio, files=files, pick=pick, section=section, keep=keep,
                           regenerate=regenerate)


def waypoints_text(st) -> str:
    return "  \n".join(f"{i + 1}. {w.title}" for i, w in enumerate(st.waypoints)) or NO_WAYPOINTS


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    @user_errors
    def on_add(st):
        st = h.add_waypoint(st)
        return {page.state: st, c.waypoints: waypoints_text(st)}

    c.add.click(on_add, [page.state], [page.state, c.waypoints], api_visibility="private")
    c.clear.click(lambda st: {page.state: h.clear_waypoints(st), c.waypoints: NO_WAYPOINTS}, [page.state],
                  [page.state, c.waypoints],
                  api_visibility="private")

    @user_errors
    def on_compose(data):
        st = page.session(data)
        st, piece = h.compose_kept(st, int(data[c.bars]), page.playback(data), data[c.form])
        if piece["notice"]:  # a form that takes fewer waypoints than were chosen says which it left out
            gr.Info(piece["notice"], duration=NOTICE_SECONDS, title="Not every waypoint is in the piece")
        if piece["chord_note"]:  # a chord line longer or shorter than a section: how it is laid over the piece
            gr.Info(piece["chord_note"], duration=NOTICE_SECONDS, title="Your chords over the piece")
        return {page.state: st, c.piece: plot(piece["figure"]), c.audio: piece["wav"],
                c.files: [piece["midi"], piece["wav"]], c.pick: gr.update(maximum=len(piece["z"]), value=1),
                c.section: gr.update(maximum=len(piece["z"]), value=1)}

    c.compose.click(on_compose, page.inputs(c.bars, c.form),
                    [page.state, c.piece, c.audio, c.files, c.pick, c.section], api_name="compose",
                    api_visibility="private")

    @user_errors
    def on_regenerate_section(data):
        st, piece = h.regenerate_section(page.session(data), int(data[c.section]), page.playback(data), fresh_seed(),
                                         data[c.keep] or ())
        return {page.state: st, c.piece: plot(piece["figure"]), c.audio: piece["wav"],
                c.files: [piece["midi"], piece["wav"]]}

    c.regenerate.click(on_regenerate_section, page.inputs(c.section, c.keep), [page.state, c.piece, c.audio, c.files],
                       api_name="regenerate_section", api_visibility="private")

    @user_errors
    def on_pick(data):
        return page.show(*h.load_section(page.session(data), data[c.pick], page.playback(data)))

    c.pick.release(on_pick, page.inputs(c.pick), page.main_and_sliders, api_name="load_section",
                   api_visibility="private")
