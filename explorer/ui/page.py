"""The page: the current-melody panel beside the screens' tabs, its own events (load, playback, share), launch."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from explorer.errors import UserError
from explorer.latent.space import LatentSpace, default_threads
from explorer.media.files import ACCOMPANIMENTS, INSTRUMENTS
from explorer.media.storage import UPLOAD_MAX_BYTES, UploadCache, private_gradio_cache, remove_at_exit
from explorer.serve.drag import drags_for
from explorer.serve.guard import add_guards
from explorer.serve.process import limit_malloc_arenas
from explorer.serve.routes import add_routes
from explorer.session.handlers import Handlers
from explorer.session.state import new_state
from explorer.ui import (
    api_tab,
    blend,
    collections,
    compose,
    corpus_map,
    history_panel,
    sliders,
    transform,
    upload,
)
from explorer.ui.assets import COPY_LINK_JS, CSS, JS, MOVE_STAR_JS, SET_URL_JS
from explorer.ui.chord_script import CHORD_JS
from explorer.ui.common import (
    KEY_AS_IS,
    KEY_MENU,
    SCALE_MENU,
    SCALE_OFF,
    CheckedSlider,
    Page,
    Panel,
    checked_number,
    user_errors,
)
from explorer.ui.lock_script import LOCK_JS
from explorer.ui.sessions import SessionLimits, add_queue_tidy, start_sweeper

MAX_UPLOAD = "5mb"  # bigger uploads get HTTP 413 before any of our code runs
CONCURRENCY = 4  # events of one kind running at once
QUEUE_SIZE = 64  # waiting requests before new ones are refused
DISK_CAP_MB = 512  # rendered files on disk at most


def _intro(services: LatentSpace) -> str:
    meta = services.model.meta
    event = meta.get("scores", {}).get("greedy_event_accuracy", float("nan"))
    return ("# Melody Explorer\n"
            f"A variational autoencoder trained on {len(services.corpus.tunes):,} folk tunes and chorales turns every "
            "4-bar melody into a point in a latent space. Drag the sliders, click the map, upload a MIDI file, blend "
            "and transform melodies — and take the MIDI into your DAW. "
            f"<small>Model step {meta.get('step')}, held-out greedy note accuracy {event:.2f}.</small>")


def _melody_panel(h: Handlers) -> tuple[Page, dict]:
    """The left column: title, piano roll, audio, copy check, downloads, share code, playback settings."""
    state = gr.State(new_state())
    title = gr.Markdown("", elem_id="title-md")
    roll = gr.Plot(label="Piano roll", elem_id="piano-roll")
    # The browser's own player: the waveform player decodes and draws every new file on the page's main thread
    # (bench/browser-levers.md: what that costs while a slider is dragged).
    audio = gr.Audio(label="Listen", type="filepath", autoplay=True, elem_id="melody-audio", interactive=False,
                     waveform_options=gr.WaveformOptions(show_recording_waveform=False))
    originality = gr.Markdown("", elem_id="originality")
    files = gr.File(label="Download MIDI and WAV", file_count="multiple", elem_id="downloads", interactive=False)
    hist = history_panel.build()
    with gr.Row():
        share = gr.Textbox(label="Share code (the page URL carries it)", elem_id="share-code", scale=4, max_lines=1,
                           buttons=["copy"])
        copy = gr.Button("Copy link", scale=1, size="sm")
    with gr.Accordion("Playback", open=True):
        with gr.Row():
            instrument = gr.Dropdown(list(INSTRUMENTS), value="Piano", label="Instrument")
            accompaniment = gr.Radio(list(ACCOMPANIMENTS), value="None", label="Backing", elem_id="backing-radio",
                                     info="Chords: the melody harmonised (one or two chords a bar, in its key and "
                                          "meter), shown above the piano roll and in the title")
        with gr.Row():
            chords = gr.Textbox(label="Your chords (press Enter to hear them under the melody)", elem_id="your-chords",
                                placeholder="Am F C G  ·  | D | G A | Bm | A7 |  ·  I vi IV V7 in G", scale=3,
                                max_lines=1, info="Or click a chord above the piano roll to change it here")
            fit_chords = gr.Button("Fit the melody to my chords", elem_id="fit-chords-btn", scale=1)
        with gr.Row():
            loop = gr.Checkbox(False, label="Loop playback", elem_id="loop-cb")
            count_in = gr.Checkbox(False, label="Count-in (one bar of clicks)", elem_id="count-in-cb")
        with gr.Row():
            key = gr.Dropdown(list(KEY_MENU), value=KEY_AS_IS, label="Key (transpose to)", elem_id="key-dd")
            scale = gr.Dropdown(list(SCALE_MENU), value=SCALE_OFF, label="Snap notes to scale", elem_id="scale-dd")
        with gr.Row():
            tempo = CheckedSlider(40, 240, value=120, step=1, label="Tempo (quarter notes/min)")
            temperature = CheckedSlider(0.0, 1.5, value=0.0, step=0.05, label="Temperature (0 = the most likely melody)")
            seed = checked_number("seed", 0, "Seed", integer=True, minimum=0)
    map_pos = gr.Textbox(visible="hidden", elem_id="map-pos")
    # a click on a chord symbol over the roll selects it in the chord box (explorer.ui.chord_script)
    gr.HTML("", js_on_load=CHORD_JS, elem_id="chord-script", container=False, padding=False, min_height=0)
    # the bar locks on the roll follow the lock checkboxes; a click on a padlock ticks one (explorer.ui.lock_script)
    gr.HTML("", js_on_load=LOCK_JS, elem_id="lock-script", container=False, padding=False, min_height=0)
    play = {"instrument": instrument, "tempo": tempo, "temperature": temperature, "seed": seed,
            "accompaniment": accompaniment, "key": key, "scale": scale, "count_in": count_in, "chords": chords}
    page = Page(h, state, play, Panel(title, roll, audio, files, originality, share, map_pos, hist.menu), loop=loop)
    return page, {"share": share, "copy": copy, "map_pos": map_pos, "audio": audio, "history": hist,
                  "fit_chords": fit_chords}


def _wire_panel(demo: gr.Blocks, page: Page, panel: dict, the_map: SimpleNamespace) -> None:
    h = page.h
    play = page.play
    load_out = page.main_and_sliders + [play["instrument"], play["tempo"], play["temperature"], play["seed"],
                                        play["accompaniment"], play["key"], play["scale"], play["count_in"],
                                        play["chords"], page.loop, *page.locks]

    def settings(p, st) -> dict:
        """The playback controls as a share link (or the page) has them, keyed by component; Loop is the session's."""
        values = {"instrument": p.instrument, "tempo": p.tempo, "temperature": p.temperature, "seed": p.seed,
                  "accompaniment": p.accompaniment, "key": p.key or KEY_AS_IS, "scale": p.scale or SCALE_OFF,
                  "count_in": p.count_in, "chords": p.progression}
        return {**{play[name]: v for name, v in values.items()}, page.loop: st.loop, **page.lock_values(st)}

    @user_errors
    def on_load(data, request: gr.Request):
        st, p = page.session(data), page.playback(data)
        code = request.query_params.get("m") if request is not None else None
        if code:
            try:
                st, r, p = h.from_share_code(st, code, p)
                return {**page.show(st, r), **settings(p, st)}
            except UserError as exc:
                gr.Warning(str(exc))
        st, r = h.load_window(st, h.welcome_window(), p)
        return {**page.show(st, r), **settings(p, st)}

    # The map (~1.2 MB of figure for every corpus point) follows the melody in its own event: in one answer it
    # kept the first melody from playing until it had been built and sent (bench/slow_spots.md).
    demo.load(on_load, page.inputs(), load_out, api_name="load", api_visibility="private").then(
        lambda st, color: corpus_map.keyed(the_map, corpus_map.shown_view(h, st, color)),
        [page.state, the_map.color_by], [the_map.corpus_map, the_map.shown],
        api_visibility="private", show_progress="hidden")

    @user_errors
    def on_playback(data):
        st = page.session(data)
        page.need_melody(st)
        return page.show(st, h.render(st, page.playback(data)), with_sliders=False)

    gr.on([play["instrument"].input, play["accompaniment"].input, play["key"].input, play["scale"].input,
           play["count_in"].input,
           play["tempo"].release, play["temperature"].release, play["seed"].submit, play["chords"].submit], on_playback,
          page.inputs(), page.main_out, api_name="playback",
          api_visibility="private")
    @user_errors
    def on_fit_chords(data):
        st, r, _ = h.fit_to_chords(page.session(data), page.playback(data))
        return page.show(st, r)

    panel["fit_chords"].click(on_fit_chords, page.inputs(), page.main_and_sliders, api_name="fit_chords",
                              api_visibility="private")

    @user_errors
    def on_loop(data):
        st = page.session(data)  # Loop as the checkbox has it now
        if st.z is None:
            return gr.skip()
        return {page.state: st, panel["share"]: h.share_code(st, page.playback(data))}

    # Loop needs no render (the page's script sets it on every player), but the share link carries it
    page.loop.change(on_loop, page.inputs(), [page.state, panel["share"]], api_visibility="private", queue=False,
                     show_progress="hidden")
    panel["share"].change(None, [panel["share"]], [panel["share"]], js=SET_URL_JS)
    panel["map_pos"].change(None, [panel["map_pos"]], [panel["map_pos"]], js=MOVE_STAR_JS)
    panel["copy"].click(None, None, None, js=COPY_LINK_JS)


def build_ui(services: LatentSpace, soundfont: str | Path | None = None, handlers: Handlers | None = None,
             concurrency: int = CONCURRENCY, queue_size: int = QUEUE_SIZE, disk_cap_mb: float = DISK_CAP_MB,
             add_collections: bool = True) -> gr.Blocks:
    """Build the Blocks app over shared, read-only services (nothing is launched).

    concurrency: events run at once (per event kind); queue_size: requests waiting before new ones are
    refused; disk_cap_mb: the most the rendered files may take on disk (oldest removed first); add_collections:
    whether the page may add your own collections to the corpus (app.py: only on your own computer)."""
    default_threads()
    # Gradio's queue rebuilds a pandas summary of up to 10,000 past events after every event (for a monitoring
    # page this app turns off): ~5 ms of the GIL per call under load. Once per 1,000 events is plenty.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")  # its records of past events: a bounded memory
    # Renders go straight into this app's own Gradio cache (explorer.media.storage): one copy, bounded, private.
    cache = private_gradio_cache()
    h = handlers or Handlers(services, soundfont, out_dir=cache / "renders")
    h.store.max_bytes = int(disk_cap_mb * 2**20)
    h.add_collections = add_collections
    remove_at_exit(h.store.folder)  # also when the deployer set GRADIO_TEMP_DIR (that folder itself is theirs)
    uploads = UploadCache(cache, exclude=h.store.folder, max_bytes=int(min(UPLOAD_MAX_BYTES, disk_cap_mb * 2**20 / 2)))
    drags = drags_for(h)  # slider drags heard as they move: the page's script and /v1/drag (explorer.serve.drag)
    with gr.Blocks(title="Melody Explorer", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(_intro(services))
        with gr.Row():
            with gr.Column(scale=5):
                page, panel = _melody_panel(h)
                page.uploads = uploads
                page.drags = drags
            with gr.Column(scale=6):
                with gr.Tabs():
                    with gr.Tab("Sliders", id="sliders"):
                        s = sliders.build(page)
                    with gr.Tab("Map", id="map") as map_tab:
                        m = corpus_map.build(page, map_tab)
                    with gr.Tab("Upload", id="upload"):
                        u = upload.build(page)
                    with gr.Tab("Blend", id="blend"):
                        b = blend.build(page)
                    with gr.Tab("Transform", id="transform"):
                        t = transform.build(page)
                    with gr.Tab("Compose", id="compose"):
                        c = compose.build(page)
                    with gr.Tab("Your collection", id="collection"):
                        y = collections.build(page)
                    with gr.Tab("API", id="api"):
                        a = api_tab.build(page)
        page.loop_players(panel["audio"], b.audio, c.audio)
        _wire_panel(demo, page, panel, m)
        history_panel.wire(page, panel["history"])
        for screen, comps in ((sliders, s), (corpus_map, m), (upload, u), (blend, b), (transform, t), (compose, c),
                              (api_tab, a)):
            screen.wire(page, comps)
        collections.wire(page, y, m, [t.style, t.draw_style], demo)
        demo.load(api_tab.usage_for, None, a.usage, queue=False, api_visibility="private", show_progress="hidden")
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    demo.handlers = h  # for benchmarks and tests: the files this app writes
    demo.drags = drags  # its slider drags
    demo.uploads = uploads  # and the uploads it keeps
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           auth: tuple[str, str] | None = None, sessions: SessionLimits | None = None, **kwargs):
    """Launch with the project's settings: upload limit, monitoring off, the map-click bridge script, a
    login when `auth` (user, password) is given, the plain HTTP routes (explorer.serve.routes) on the same
    server, sessions bounded in number and idle time (explorer.ui.sessions), and malloc kept to 2 arenas
    (explorer.serve.process). Blocks like demo.launch
    unless prevent_thread_lock=True."""
    block = not kwargs.pop("prevent_thread_lock", False)
    sessions = sessions or SessionLimits()
    limit_malloc_arenas()  # before the server's threads start: memory stays level under load (explorer.serve.process)
    out = demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_UPLOAD, auth=auth,
                      enable_monitoring=False, js=JS, css=CSS, footer_links=["api"], show_error=True,
                      prevent_thread_lock=True, state_session_capacity=sessions.max_sessions, **kwargs)
    add_routes(demo.app, demo.handlers, demo.drags, auth)
    add_guards(demo.app, auth)
    add_queue_tidy(demo, sessions)  # Gradio's per-session queue bookkeeping goes with the sessions
    demo.session_limits = sessions
    demo.stop_session_sweeper = start_sweeper(demo, sessions, also=demo.uploads.sweep)
    if block:
        demo.block_thread()
    return out
