"""The Your collection screen: drop files or a zip, name them, Add; the report, then the map in the collection's colour.
Then Random from a collection on the map, and your saved collections renamed or deleted (a delete asks first). Below, Learn my style: a saved collection, minutes, Start and Stop; the progress and the learning curve while the
model learns in its own thread (explorer.session.learn), then the explorer on the new model."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from explorer.latent.swap import RESWEEP_MELODIES
from explorer.session.collections import report_markdown
from explorer.session.learn import LEARN, MINUTES, LearnRun
from explorer.ui.common import CheckedSlider, Page, checked_file, fresh_seed, md_escape, plot, user_errors
from vae.corpus import COLLECTION_LABELS

POLL_SECONDS = 1.0  # how often a page following a fine-tune hears of it
FILE_TYPES = [".mid", ".midi", ".kar", ".rmi", ".abc", ".zip", ".MID", ".MIDI", ".ABC", ".ZIP"]


def build(page: Page) -> SimpleNamespace:
    h = page.h
    gr.Markdown("Put **your own music on the map**: drop several MIDI or ABC files, or a zip of them, name the "
                "collection and press *Add*. Their melodies join the map in a colour of their own, the neighbours, "
                "*Toward style* and the copy check, beside the folk corpus, and the collection is "
                + ("saved on this computer" if h.add_collections else "yours alone, for as long as this page is open")
                + ". A file that cannot be used gets one sentence saying why; the others are kept.")
    limits = gr.Markdown(h.limits_text(), elem_id="collection-limits")
    files = checked_file(label="Your files (.mid .midi .kar .rmi .abc, or a .zip of them)", file_count="multiple",
                         file_types=FILE_TYPES, type="filepath", elem_id="collection-files",
                         interactive=True)
    with gr.Row():
        name = gr.Textbox(label="Collection name", placeholder="My songs", max_lines=1, scale=3,
                          elem_id="collection-name", interactive=True)
        add = gr.Button("Add", variant="primary", scale=1, elem_id="collection-add", interactive=True)
    report = gr.Markdown(h.collections_summary(), elem_id="collection-report")
    active = h.active_collection_names()
    with gr.Row():
        draw_from = gr.Dropdown(active, value=active[-1] if active else None, label="Draw from", scale=3,
                                elem_id="collection-draw-from")
        draw = gr.Button("Random from my collection", scale=2, elem_id="collection-random")
    gr.Markdown("*Random from my collection* draws a new melody near one of that collection's own melodies in the "
                "model's space (*Random* draws from the whole corpus); a draw that would keep two bars or more of one "
                "of them (what the copy check under the melody flags) is drawn again.")
    saved = h.saved_collection_names()
    with gr.Row():
        manage = gr.Dropdown(saved, value=None, label="Your saved collections", scale=3, elem_id="collection-manage",
                             interactive=h.add_collections)
        new_name = gr.Textbox(label="New name", max_lines=1, scale=3, elem_id="collection-new-name",
                              interactive=h.add_collections)
        rename = gr.Button("Rename", scale=1, elem_id="collection-rename", interactive=h.add_collections)
        delete = gr.Button("Delete…", variant="stop", scale=1, elem_id="collection-delete",
                           interactive=h.add_collections)
    with gr.Group(visible=False, elem_id="collection-confirm") as confirm:
        confirm_text = gr.Markdown(elem_id="collection-confirm-text")
        with gr.Row():
            sure = gr.Button("Yes, delete it", variant="stop", elem_id="collection-delete-yes")
            cancel = gr.Button("Keep it", elem_id="collection-delete-no")
    gr.Markdown("### Learn my style\nThe model learns a saved collection for a few minutes on this computer (only "
                "its decoder learns, with the folk corpus mixed in, so it keeps what it knew and every melody, the "
                "map and the sliders stay where they are). The curve shows how well it decodes held-out songs of "
                "your collection and of the folk corpus; *Stop* ends it at once with what it has learned. When it "
                "ends the explorer plays the new model, which is saved with the collection; *Start* again continues.")
    with gr.Row():
        learn_name = gr.Dropdown(h.saved_collection_names(), value=None, label="Collection to learn", scale=3,
                                 elem_id="learn-collection", interactive=h.add_collections)
        minutes = CheckedSlider(MINUTES[0], MINUTES[1], value=LEARN.minutes, step=1, label="Minutes of learning",
                                scale=3, elem_id="learn-minutes", interactive=h.add_collections)
    resweep = gr.Checkbox(False, label=f"Then measure the sliders' names again on the new model ({RESWEEP_MELODIES} "
                                       "melodies: about 3 minutes more on 2 cores)", elem_id="learn-resweep",
                          interactive=h.add_collections)
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="learn-start", interactive=h.add_collections)
        stop = gr.Button("Stop", variant="stop", elem_id="learn-stop", interactive=h.add_collections)
    status = gr.Markdown(h.learn_status(), elem_id="learn-status")
    curve = gr.Plot(plot(h.learn_figure()), label="Learning curve", elem_id="learn-curve")
    return SimpleNamespace(limits=limits, files=files, name=name, add=add, report=report, learn_name=learn_name,
                           minutes=minutes, resweep=resweep, start=start, stop=stop, status=status, curve=curve,
                           draw_from=draw_from, draw=draw, manage=manage, new_name=new_name, rename=rename,
                           delete=delete, confirm=confirm, confirm_text=confirm_text, sure=sure, cancel=cancel)


def session_hash() -> str | None:
    """The Gradio session the running event serves (None outside an event, e.g. a plain HTTP route). Gradio sets
    the request in a context variable around every event function, so the actions need no request argument."""
    from gradio.context import LocalContext

    return getattr(LocalContext.request.get(None), "session_hash", None)


def wire(page: Page, c: SimpleNamespace, corpus_map: SimpleNamespace, style_menus: list, demo: gr.Blocks) -> None:
    """Add: the report, the map (in the Map tab's colouring) and the style menus (`style_menus`, e.g. Transform's).
    A page (re)loaded after an add gets the menus and the summary as they are now (the built page has the first)."""
    h = page.h
    if not h.add_collections:  # a shared deployment: a visitor's collection is their session's own
        h.session_key = session_hash
        demo.unload(lambda: h.forget_sessions(key=session_hash()))  # the tab closed or reloaded: it goes now
        demo.forget_sessions = h.forget_sessions  # and with the sessions the server forgets (explorer.ui.sessions)

    def on_load():
        styles = [(COLLECTION_LABELS.get(s, s), s) for s in h.s.style_names]
        return {c.report: h.collections_summary(), **{m: gr.update(choices=styles) for m in style_menus}, **menus()}

    def menus() -> dict:
        """The collection tab's own menus as they are now, keyed by component: Draw from (the collections on the
        map, yours last) and Your saved collections."""
        active = h.active_collection_names()
        return {c.draw_from: gr.update(choices=active, value=active[-1] if active else None),
                c.manage: gr.update(choices=h.saved_collection_names(), value=None)}

    demo.load(on_load, None, [c.report, *style_menus, c.draw_from, c.manage], queue=False, api_visibility="private",
              show_progress="hidden")

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
        return {c.report: report_markdown(coll, files, h.s.style_names, md_escape), c.files: None,
                corpus_map.corpus_map: plot(figure), **{m: gr.update(choices=styles) for m in style_menus}, **menus()}

    c.add.click(on_add, page.inputs(c.files, c.name, corpus_map.color_by),
                [c.report, c.files, corpus_map.corpus_map, *style_menus, c.draw_from, c.manage],
                api_name="add_collection", api_visibility="private")
    wire_manage(page, c, corpus_map, style_menus, menus)
    wire_learning(page, c, demo)


def wire_manage(page: Page, c: SimpleNamespace, corpus_map: SimpleNamespace, style_menus: list, menus) -> None:
    """Random from my collection (the page's melody, as Random); Rename; Delete… shows what a delete loses and asks,
    Yes deletes, Keep it hides the question. A rename or delete redraws the map and refills every collection and
    style menu (`menus()`: the tab's own two), and the learn menu."""
    h = page.h

    @user_errors
    def on_draw(data):
        return page.show(*h.random_from_collection(page.session(data), page.playback(data), data[c.draw_from],
                                                   fresh_seed()))

    c.draw.click(on_draw, page.inputs(c.draw_from), page.main_and_sliders, api_name="random_from_collection",
                 api_visibility="private")

    def changed(data, sentence: str) -> dict:
        st = page.session(data)
        styles = [(COLLECTION_LABELS.get(s, s), s) for s in h.s.style_names]
        figure = h.map_figure(data[corpus_map.color_by] or "collection", h.s.place(st.z) if st.z is not None else None)
        return {c.report: sentence + "\n\n" + h.collections_summary(), corpus_map.corpus_map: plot(figure),
                **{m: gr.update(choices=styles) for m in style_menus}, **menus(),
                c.learn_name: gr.update(choices=h.saved_collection_names(), value=None),
                c.confirm: gr.update(visible=False), c.new_name: ""}

    outputs = [c.report, corpus_map.corpus_map, *style_menus, c.draw_from, c.manage, c.learn_name, c.confirm,
               c.new_name]

    @user_errors
    def on_rename(data):
        return changed(data, h.rename_saved_collection(data[c.manage], data[c.new_name]))

    c.rename.click(on_rename, page.inputs(c.manage, c.new_name, corpus_map.color_by), outputs,
                   api_name="rename_collection", api_visibility="private")

    @user_errors
    def on_ask(name):
        return {c.confirm: gr.update(visible=True), c.confirm_text: h.delete_summary(name)}

    c.delete.click(on_ask, [c.manage], [c.confirm, c.confirm_text], api_name="ask_delete_collection",
                   api_visibility="private", queue=False)
    c.cancel.click(lambda: gr.update(visible=False), None, [c.confirm], queue=False, api_visibility="private")

    @user_errors
    def on_delete(data):
        return changed(data, h.delete_saved_collection(data[c.manage]))

    c.sure.click(on_delete, page.inputs(c.manage, corpus_map.color_by), outputs, api_name="delete_collection",
                 api_visibility="private")


def slider_labels(page: Page, values=None) -> dict:
    """Updates of the page's sliders to the served model's labels and figures (and `values` [K], when given), keyed
    by slider."""
    labels = page.h.labels
    return {s: gr.update(label=labels[i]["label"], info=labels[i]["info"],
                         **({"value": float(values[i])} if values is not None else {}))
            for i, s in enumerate(page.sliders)}


def wire_learning(page: Page, c: SimpleNamespace, demo: gr.Blocks) -> None:
    """Start: a generator that starts (or follows) the fine-tune and reports it every POLL_SECONDS while it runs in
    its own thread, then the sliders' labels of the new model; Stop: ends it after the current step. A page
    (re)loaded gets the saved collections, where the last run stands and the served model's slider labels; the
    menu of collections is read again whenever it is opened (one added since is in it)."""
    h = page.h

    def on_load():
        return {c.learn_name: gr.update(choices=h.saved_collection_names()), c.status: h.learn_status(),
                c.curve: plot(h.learn_figure()), **slider_labels(page)}

    demo.load(on_load, None, [c.learn_name, c.status, c.curve, *page.sliders], queue=False, api_visibility="private",
              show_progress="hidden")
    c.learn_name.focus(lambda: gr.update(choices=h.saved_collection_names()), None, [c.learn_name], queue=False,
                       api_visibility="private", show_progress="hidden")

    @user_errors
    def start(data) -> LearnRun:
        return h.start_learning(data[c.learn_name], data[c.minutes],
                                resweep_n=RESWEEP_MELODIES if data[c.resweep] else 0)

    def on_start(data):
        run = start(data)
        if not isinstance(run, LearnRun):  # refused: the notice is shown, nothing changes
            yield gr.skip()
            return
        while not run.wait(POLL_SECONDS):
            yield {c.status: h.learn_status(run), c.curve: plot(h.learn_figure(run))}
        st = page.session(data)
        values = h.s.sliders_of(st.z) if st.z is not None and run.result else None
        yield {c.status: h.learn_status(run), c.curve: plot(h.learn_figure(run)), **slider_labels(page, values)}

    c.start.click(on_start, page.inputs(c.learn_name, c.minutes, c.resweep), [c.status, c.curve, *page.sliders],
                  api_name="learn_style", api_visibility="private", concurrency_limit=None)

    def on_stop():
        run = h.stop_learning()
        return h.learn_status(run) if run is not None else gr.skip()

    c.stop.click(on_stop, None, [c.status], queue=False, api_name="stop_learning", api_visibility="private")
