"""The Upload screen: a MIDI file's melody candidates and windows, the extracted notes, neighbours, map position."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.errors import UserError
from explorer.media import figures
from explorer.session import editor
from explorer.session.words import neighbours_rows
from explorer.ui.common import Page, checked_file, md_escape, plot, user_errors
from explorer.ui.editor_script import EDITOR_JS

NEIGHBOUR_HEADERS = ["#", "title", "collection", "meter", "bars", "similarity", "distance"]
FILE_TYPES = [".mid", ".midi", ".kar", ".rmi", ".MID", ".MIDI"]


def build(page: Page) -> SimpleNamespace:
    file = checked_file(label="Drop a MIDI file (.mid .midi .kar .rmi, ≤ 5 MB)", type="filepath", file_types=FILE_TYPES,
                   elem_id="upload-file")
    with gr.Accordion("…or type your own notes in ABC notation", open=False):
        abc = gr.Textbox(label="ABC (one tune; X: and K: may be left out)", lines=4, max_lines=12,
                         placeholder="X:1\nT:My reel\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dedB dedB|c2ec B2dB|c2A2 A2BA:|",
                         elem_id="abc-box")
        abc_btn = gr.Button("Use these notes", elem_id="abc-btn")
    with gr.Accordion("…or draw your notes", open=False, elem_id="editor-acc") as editor_acc:
        editor_plot = gr.Plot(label="Note editor: click a cell to add a note (click it again to remove it), drag along a "
                         "row for a longer note", elem_id="note-editor")
        # Drawing happens in the page (explorer.ui.editor_script): the script keeps the notes in this hidden box,
        # which no event listens to, and "Use these notes" sends it once.
        drawn = gr.Textbox(visible="hidden", elem_id="editor-notes")
        gr.HTML("", js_on_load=EDITOR_JS, elem_id="editor-script", container=False, padding=False)
        with gr.Row():
            use_notes = gr.Button("Use these notes", variant="primary", elem_id="use-notes-btn")
            from_current = gr.Button("Start from the current melody", elem_id="from-current-btn")
            clear_notes = gr.Button("Clear", elem_id="clear-notes-btn")
    status = gr.Markdown("", elem_id="upload-status")
    with gr.Row():
        cand = gr.Dropdown([], label="Melody candidate (best first)", type="index", elem_id="cand-dd")
        window = gr.Dropdown([], label=f"{page.h.s.format.bars}-bar window", type="index", elem_id="window-dd")
    extracted = gr.Plot(label="Extracted melody: your file's notes (the left panel shows the model's rendering)",
                        elem_id="extracted-roll")
    with gr.Row():
        extracted_audio = gr.Audio(label="Your notes, exactly as extracted", type="filepath", interactive=False,
                                   elem_id="extracted-audio")
        extracted_files = gr.File(label="Extracted notes (MIDI, WAV)", file_count="multiple", interactive=False,
                                  elem_id="extracted-files")
    neighbours = gr.Dataframe(headers=NEIGHBOUR_HEADERS, label="Nearest corpus melodies (click a row to load). "
                              "Similarity: closer than this share of random pairs of corpus melodies",
                              interactive=False, elem_id="neighbours")
    where = gr.Plot(label="Where it sits on the map")
    return SimpleNamespace(file=file, abc=abc, abc_btn=abc_btn, editor_acc=editor_acc, editor=editor_plot, drawn=drawn,
                           use_notes=use_notes, from_current=from_current, clear_notes=clear_notes,
                           status=status, cand=cand, window=window, extracted=extracted,
                           extracted_audio=extracted_audio, extracted_files=extracted_files, neighbours=neighbours,
                           where=where)


def wire(page: Page, c: SimpleNamespace) -> None:
    outputs = page.main_and_sliders + [c.status, c.window, c.extracted, c.extracted_audio, c.extracted_files,
                                       c.neighbours, c.where]
    show = choice_view(page, c)
    wire_reads(page, c, show, outputs)
    wire_editor(page, c)
    wire_choices(page, c, show, outputs)
    wire_neighbours(page, c)


def choice_view(page: Page, c: SimpleNamespace):
    """show(st, cand, win, play, progress) -> the outputs of `wire` (keyed by component) for candidate `cand`'s
    window `win` of the session's upload: the melody, a status line, the windows menu, the extracted notes,
    neighbours and map."""
    h = page.h

    def show(st, cand: int, win: int, play, progress=None) -> dict:
        fitting = (lambda f: progress(f, desc="Fitting the model to your melody")) if progress else None  # noqa: E731
        st, r, info = h.choose_upload(st, cand, win, play, progress=fitting)
        up = st.upload
        chosen = up.candidates[info["candidate"]]
        fid = info["fidelity"]
        held = (f"; from its latent point alone {fid['z']:.0%}, the rest held by a per-bar detail that the sliders keep"
                if fid["detail"] else "")
        status = (f"**{md_escape(up.name)}** ({up.meter}): {len(up.candidates)} melody candidate(s); showing "
                  f"{chosen.label}, window {info['window'] + 1} of {len(chosen.windows)}. The model plays back "
                  f"{fid['fitted']:.0%} of its notes exactly (pitch and onset{held}). {' '.join(up.warnings)}")
        extracted = figures.piano_roll(info["extracted"], h.s.format.window_steps, title="Extracted from your file",
                                       height=220, meter=st.meter)
        where = h.map_figure("collection", None, {"your melody": info["map_xy"]})
        windows = chosen.window_labels
        return {**page.show(st, r), c.status: status, c.window: gr.update(choices=windows, value=windows[info["window"]]),
                c.extracted: plot(extracted), c.extracted_audio: info["extracted_wav"],
                c.extracted_files: [info["extracted_midi"], info["extracted_wav"]],
                c.neighbours: neighbours_rows(info["neighbours"], h.s.format.window_steps), c.where: plot(where)}

    return show


def reader(page: Page, show, name: str, read, box, cand_box, release=None):
    """The event function `name` of one way in (a file, ABC text, drawn notes): read(session, data[box]) -> the
    session with its upload; shows the best candidate's first window and fills the candidates menu (cand_box).
    release(data[box]), where given, runs afterwards whether the read worked or was refused."""

    def on_read(data, progress=gr.Progress()):  # noqa: B008 (Gradio injects a tracker per call)
        try:
            st = read(page.session(data), data[box])
        finally:
            if release is not None:
                release(data[box])
        # (label, index) pairs: value 0 is then a valid choice, and equal labels (channels of one track)
        # still pick their own candidate
        choices = [(cand.label, i) for i, cand in enumerate(st.upload.candidates)]
        return {**show(st, 0, 0, page.playback(data), progress), cand_box: gr.update(choices=choices, value=0)}

    on_read.__name__ = on_read.__qualname__ = name  # the name a refusal is logged under
    return user_errors(on_read)


def wire_reads(page: Page, c: SimpleNamespace, show, outputs: list) -> None:
    """A dropped file, typed ABC and the drawn notes: each read into the session's upload by one `reader`."""
    h = page.h

    def read_done(path) -> None:  # read (or refused): the copy in Gradio's cache is not needed any more
        if page.uploads is not None:
            page.uploads.discard(path)

    c.file.upload(reader(page, show, "on_upload", h.upload, c.file, c.cand, release=read_done), page.inputs(c.file),
                  outputs + [c.cand], api_name="upload", api_visibility="private")
    gr.on([c.abc_btn.click, c.abc.submit], reader(page, show, "on_abc", h.read_abc, c.abc, c.cand), page.inputs(c.abc),
          outputs + [c.cand], api_name="abc", api_visibility="private")
    # one request for all the drawn notes (the clicks themselves never reach the server)
    c.use_notes.click(reader(page, show, "on_notes", h.read_drawn_notes, c.drawn, c.cand), page.inputs(c.drawn),
                      outputs + [c.cand], api_name="use_drawn_notes", api_visibility="private")


def wire_editor(page: Page, c: SimpleNamespace) -> None:
    """The note editor's buttons: open it (the draft kept), start from the current melody, clear."""
    h = page.h

    def editor_view(st):
        return {page.state: st, c.editor: plot(h.editor_figure(st)), c.drawn: editor.notes_text(st.draft)}

    view_out = [page.state, c.editor, c.drawn]

    @user_errors
    def on_open(data):
        # the notes drawn so far (not yet sent) stay when the editor is closed and opened again
        st = page.session(data)
        return editor_view(h.set_draft(st, data[c.drawn]) if data[c.drawn] else st)

    c.editor_acc.expand(on_open, {page.state, c.drawn}, view_out, api_visibility="private")

    @user_errors
    def on_from_current(data):
        return editor_view(h.draft_from_current(page.session(data), page.playback(data)))

    c.from_current.click(on_from_current, page.inputs(), view_out, api_visibility="private")
    c.clear_notes.click(lambda st: editor_view(h.set_draft(st, "")), [page.state], view_out, api_visibility="private")


def wire_choices(page: Page, c: SimpleNamespace, show, outputs: list) -> None:
    """The candidate and window menus: show another candidate (from its first window) or another window."""

    def chooser(window_too: bool):
        @user_errors
        def on_choice(data, progress=gr.Progress()):  # noqa: B008 (Gradio injects a tracker per call)
            st = page.session(data)
            if st.upload is None or data[c.cand] is None:
                raise UserError("Upload a MIDI file first.")
            win = (data[c.window] or 0) if window_too else 0
            return show(st, data[c.cand], win, page.playback(data), progress)

        return on_choice

    c.cand.input(chooser(False), page.inputs(c.cand), outputs, api_visibility="private")
    c.window.input(chooser(True), page.inputs(c.cand, c.window), outputs, api_visibility="private")


def wire_neighbours(page: Page, c: SimpleNamespace) -> None:
    """A click on a neighbours row loads that corpus melody."""

    @user_errors
    def on_neighbour(data, evt: gr.SelectData):
        st = page.session(data)
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not st.neighbours or row >= len(st.neighbours):
            raise UserError("Upload a file to see its neighbours first.")
        return page.show(*page.h.load_window(st, st.neighbours[row], page.playback(data)))

    c.neighbours.select(on_neighbour, page.inputs(), page.main_and_sliders, api_visibility="private")
