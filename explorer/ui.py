"""The Gradio app: the only module that imports gradio. Layout and wiring over explorer.handlers."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.components.plot import PlotData

from explorer import figures
from explorer.handlers import (
    ACCOMPANIMENTS,
    INSTRUMENTS,
    SLIDER_RANGE,
    Handlers,
    Playback,
    Rendered,
    default_threads,
    neighbours_rows,
    new_state,
)
from explorer.services import ExplorerServices
from vae.corpus import COLLECTION_LABELS
from vae.errors import MusicReadError

MAX_UPLOAD = "5mb"
NEIGHBOUR_HEADERS = ["#", "title", "collection", "meter", "bars", "distance"]

# Plotly has no click event in gr.Plot: bridge plotly_click to a hidden textbox (GRADIO6.md), and keep
# the page URL carrying the current melody's share code.
JS = """
() => {
  const bind = () => {
    for (const gd of document.querySelectorAll('#corpus-map .js-plotly-plot')) {
      if (gd.__melodyBound || !gd.on) continue;
      gd.__melodyBound = true;
      gd.on('plotly_click', (ev) => {
        const p = ev && ev.points && ev.points[0];
        if (!p || p.customdata === undefined || p.customdata === null) return;
        const box = document.querySelector('#map-click textarea, #map-click input');
        if (!box) return;
        box.value = String(p.customdata) + '|' + Date.now();
        box.dispatchEvent(new Event('input', {bubbles: true}));
      });
    }
  };
  setInterval(bind, 400);
}
"""
SET_URL_JS = """
(code) => {
  if (code) { const u = new URL(window.location.href); u.searchParams.set('m', code); window.history.replaceState(null, '', u); }
  return code;
}
"""
MOVE_STAR_JS = """
(pos) => {
  const gd = document.querySelector('#corpus-map .js-plotly-plot');
  if (!pos || !gd || !gd.data || !window.Plotly) return pos;
  const [x, y] = pos.split(',').map(Number);
  const i = gd.data.findIndex((t) => t.name === 'current melody');
  if (i >= 0) window.Plotly.restyle(gd, {x: [[x]], y: [[y]]}, [i]);
  return pos;
}
"""
COPY_LINK_JS = "() => { navigator.clipboard && navigator.clipboard.writeText(window.location.href); }"
CSS = """
#title-md p { font-size: 1.05em; margin: 0; }
.slider-grid .gr-slider { margin-bottom: 0; }
footer { display: none !important; }
"""


def plot(spec: dict | None) -> PlotData | None:
    """A figure spec (explorer.figures) as gr.Plot's payload, skipping plotly's slow validation."""
    return None if spec is None else PlotData(type="plotly", plot=figures.to_json(spec))


def user_errors(fn):
    """Turn the sentences our code raises for bad input into a gr.Error the musician sees."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, MusicReadError) as exc:
            raise gr.Error(str(exc)) from exc

    return wrapper


def build_ui(services: ExplorerServices, soundfont: str | Path | None = None, handlers: Handlers | None = None) -> gr.Blocks:
    """Build the Blocks app over shared, read-only services (nothing is launched)."""
    default_threads()
    h = handlers or Handlers(services, soundfont)
    labels = h.labels
    k = len(labels)
    attributes = services.attribute_names
    styles = services.style_names
    style_choices = [(COLLECTION_LABELS.get(s, s), s) for s in styles]
    meta = services.model.meta
    scores = meta.get("scores", {})

    with gr.Blocks(title="Melody Explorer", delete_cache=(3600, 3600)) as demo:
        state = gr.State(new_state())
        gr.Markdown(
            "# Melody Explorer\n"
            f"A variational autoencoder trained on {len(services.corpus.tunes):,} folk tunes and chorales turns every "
            "4-bar melody into a point in a latent space. Drag the sliders, click the map, upload a MIDI file, "
            "blend and transform melodies — and take the MIDI into your DAW. "
            f"<small>Model step {meta.get('step')}, held-out greedy note accuracy "
            f"{scores.get('greedy_event_accuracy', float('nan')):.2f}.</small>")
        with gr.Row():
            # ---------------- the current melody ----------------
            with gr.Column(scale=5):
                title_md = gr.Markdown("", elem_id="title-md")
                roll = gr.Plot(label="Piano roll", elem_id="piano-roll")
                audio = gr.Audio(label="Listen", type="filepath", autoplay=True, elem_id="melody-audio",
                                 interactive=False)
                orig_md = gr.Markdown("", elem_id="originality")
                files = gr.File(label="Download MIDI and WAV", file_count="multiple", elem_id="downloads",
                                interactive=False)
                with gr.Row():
                    share_box = gr.Textbox(label="Share code (the page URL carries it)", elem_id="share-code",
                                           scale=4, max_lines=1, buttons=["copy"])
                    copy_btn = gr.Button("Copy link", scale=1, size="sm")
                with gr.Accordion("Playback", open=True):
                    with gr.Row():
                        instrument = gr.Dropdown(list(INSTRUMENTS), value="Piano", label="Instrument")
                        accompaniment = gr.Radio(list(ACCOMPANIMENTS), value="None", label="Backing")
                    with gr.Row():
                        tempo = gr.Slider(40, 240, value=120, step=1, label="Tempo (quarter notes/min)")
                        temperature = gr.Slider(0.0, 1.5, value=0.0, step=0.05,
                                                label="Temperature (0 = the most likely melody)")
                        seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
                map_pos = gr.Textbox(visible="hidden", elem_id="map-pos")
            # ---------------- the tools ----------------
            with gr.Column(scale=6):
                with gr.Tabs():
                    with gr.Tab("Sliders", id="sliders"):
                        gr.Markdown("Each named slider moves one musical attribute of the melody, measured: swept "
                                    "from -2 to +2 on held-out melodies it moved that attribute steadily and at "
                                    "least twice as far as any other (the figures are under each slider). The "
                                    "others are free directions of the latent space with no single effect. The "
                                    "melody renders when you release a slider (or press **Render** after using "
                                    "the keyboard).")
                        sliders = []
                        with gr.Row(elem_classes="slider-grid"):
                            for col in range(2):
                                with gr.Column():
                                    for i in range(col * ((k + 1) // 2), min(k, (col + 1) * ((k + 1) // 2))):
                                        sliders.append(gr.Slider(-SLIDER_RANGE, SLIDER_RANGE, value=0.0, step=0.05, label=labels[i]["label"],
                                                                 info=labels[i]["info"], elem_id=f"pc-{i + 1}"))
                        with gr.Row():
                            render_btn = gr.Button("Render", variant="primary", elem_id="render-btn")
                            random_btn = gr.Button("Random", elem_id="random-btn")
                            similar_btn = gr.Button("Similar", elem_id="similar-btn")
                            reset_btn = gr.Button("Reset to original", elem_id="reset-btn")
                        similarity = gr.Slider(0.0, 1.0, value=0.8, step=0.05, label="Similarity for 'Similar'")
                    with gr.Tab("Map", id="map") as map_tab:
                        with gr.Row():
                            color_by = gr.Dropdown(["collection", *attributes], value="collection", label="Colour by",
                                                   scale=2)
                            gr.Markdown("One point per tune. **Click a point** to load it; the ★ is the current melody.",
                                        elem_id="map-help")
                        corpus_map = gr.Plot(label="Corpus map", elem_id="corpus-map")
                        map_click = gr.Textbox(visible="hidden", elem_id="map-click")
                    with gr.Tab("Upload", id="upload"):
                        upload_file = gr.File(label="Drop a MIDI file (.mid .midi .kar .rmi, ≤ 5 MB)", type="filepath",
                                              file_types=[".mid", ".midi", ".kar", ".rmi", ".MID", ".MIDI"],
                                              elem_id="upload-file")
                        upload_status = gr.Markdown("", elem_id="upload-status")
                        with gr.Row():
                            cand_dd = gr.Dropdown([], label="Melody candidate (best first)", type="index",
                                                  elem_id="cand-dd")
                            window_dd = gr.Dropdown([], label="4-bar window", type="index", elem_id="window-dd")
                        extracted = gr.Plot(label="Extracted melody (the left panel shows the model's reconstruction)")
                        neigh_df = gr.Dataframe(headers=NEIGHBOUR_HEADERS, label="Nearest corpus melodies (click a row to load)",
                                                interactive=False, elem_id="neighbours")
                        upload_map = gr.Plot(label="Where it sits on the map")
                    with gr.Tab("Blend", id="blend"):
                        gr.Markdown("Store melodies in slots, then blend A→B or explore the A/B/C/D grid.")
                        with gr.Row():
                            slot_btns = {s: gr.Button(f"Use current as {s}", size="sm") for s in "ABCD"}
                        slots_md = gr.Markdown("Slots: empty")
                        with gr.Row():
                            steps = gr.Slider(3, 11, value=7, step=1, label="Steps from A to B")
                            blend_btn = gr.Button("Blend A → B", variant="primary", elem_id="blend-btn")
                        blend_plot = gr.Plot(label="Interpolation strip")
                        with gr.Row():
                            blend_audio = gr.Audio(label="The whole blend", type="filepath", interactive=False)
                            blend_files = gr.File(label="Blend MIDI and WAV", file_count="multiple", interactive=False)
                        blend_pick = gr.Slider(1, 7, value=1, step=1, label="Load step into the player")
                        gr.Markdown("**Grid** (Beat Blender): A top-left, B top-right, C bottom-left, D bottom-right.")
                        with gr.Row():
                            grid_x = gr.Slider(0, 1, value=0.5, step=0.05, label="x (A/C → B/D)")
                            grid_y = gr.Slider(0, 1, value=0.5, step=0.05, label="y (A/B → C/D)")
                    with gr.Tab("Transform", id="transform"):
                        gr.Markdown("Push the current melody along a musical attribute, or toward another collection's "
                                    "style. Amounts are measured from where you started; loading a melody resets it.")
                        with gr.Row():
                            attr_dd = gr.Dropdown(attributes, value=attributes[0] if attributes else None, label="Attribute")
                            attr_amount = gr.Slider(-2.0, 2.0, value=0.0, step=0.1, label="Less ← amount → more")
                        attr_md = gr.Markdown("")
                        with gr.Row():
                            style_dd = gr.Dropdown(style_choices, value=styles[0] if styles else None, label="Toward style")
                            style_amount = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label="Amount")
                        style_md = gr.Markdown("")
                        gr.Markdown("**New melodies in a style**")
                        with gr.Row():
                            draw_style = gr.Dropdown(style_choices, value=styles[0] if styles else None, label="Style")
                            draw_n = gr.Slider(1, 8, value=4, step=1, label="How many")
                            draw_btn = gr.Button("Draw", elem_id="draw-btn")
                        draw_plot = gr.Plot(label="New melodies")
                        draw_pick = gr.Slider(1, 8, value=1, step=1, label="Load melody into the player")
                    with gr.Tab("Compose", id="compose"):
                        gr.Markdown("Choose waypoints (any melody you load), and the app walks through latent space "
                                    "from one to the next, one 4-bar section at a time.")
                        with gr.Row():
                            add_wp = gr.Button("Add current as waypoint", elem_id="add-wp")
                            clear_wp = gr.Button("Clear waypoints")
                        wp_md = gr.Markdown("No waypoints yet.")
                        with gr.Row():
                            bars = gr.Slider(8, 64, value=16, step=4, label="Length in bars")
                            compose_btn = gr.Button("Compose", variant="primary", elem_id="compose-btn")
                        compose_plot = gr.Plot(label="The piece")
                        with gr.Row():
                            compose_audio = gr.Audio(label="Listen to the piece", type="filepath", interactive=False)
                            compose_files = gr.File(label="Piece MIDI and WAV", file_count="multiple", interactive=False)
                    with gr.Tab("API", id="api"):
                        api_components = _api_tab(h)

        play_inputs = [instrument, tempo, temperature, seed, accompaniment]
        main_out = [state, title_md, roll, audio, files, orig_md, share_box, map_pos]
        main_and_sliders = main_out + sliders

        def show(st: dict, r: Rendered, with_sliders: bool = True) -> list:
            out = [st, f"**{r.title}**", plot(r.figure), r.wav_path, [r.midi_path, r.wav_path], r.originality_md,
                   r.share_code, f"{r.map_xy[0]:.4f},{r.map_xy[1]:.4f}"]
            return out + (list(r.sliders) if with_sliders else [])

        # ---- page load: a shared link, else a corpus melody ----
        # Gradio injects gr.Request / gr.SelectData only into positional parameters before any *args, so
        # these handlers name their inputs (with `*args, request=` the share link was silently ignored).
        @user_errors
        def on_load(st, instrument, tempo, temperature, seed, accompaniment, request: gr.Request = None):
            play = Playback(instrument, tempo, temperature, seed, accompaniment)
            code = request.query_params.get("m") if request is not None else None
            if code:
                try:
                    st, r, play = h.from_share_code(st, code, play)
                    return [*show(st, r), play.instrument, play.tempo, play.temperature, play.seed, plot(h.map_figure("collection", r.map_xy))]
                except ValueError as exc:
                    gr.Warning(str(exc))
            st, r = h.load_window(st, h.welcome_window(), play)
            return [*show(st, r), play.instrument, play.tempo, play.temperature, play.seed, plot(h.map_figure("collection", r.map_xy))]

        demo.load(on_load, [state, *play_inputs], main_and_sliders + [instrument, tempo, temperature, seed, corpus_map],
                  api_name="load", api_visibility="undocumented")

        # ---- sliders: render on release (one endpoint for 16 triggers) and on the Render button ----
        @user_errors
        def on_sliders(st, *args):
            play = Playback(*args[:5])
            st, r = h.set_sliders(st, list(args[5:]), play)
            return show(st, r, with_sliders=False)

        gr.on([s.release for s in sliders] + [render_btn.click], on_sliders, [state, *play_inputs, *sliders], main_out,
              api_name="sliders", api_visibility="undocumented", trigger_mode="always_last", concurrency_limit=4)

        @user_errors
        def on_playback(st, *args):
            if st.get("z") is None:
                raise ValueError("Load or create a melody first.")
            return show(st, h.render(st, Playback(*args)), with_sliders=False)

        gr.on([instrument.input, accompaniment.input, tempo.release, temperature.release, seed.submit], on_playback,
              [state, *play_inputs], main_out, api_name="playback", api_visibility="undocumented")

        @user_errors
        def on_random(st, *args):
            play = Playback(*args)
            seed_val = int(np.random.default_rng().integers(0, 2**31 - 1))
            return show(*h.random(st, play, seed_val))

        random_btn.click(on_random, [state, *play_inputs], main_and_sliders, api_name="random", api_visibility="undocumented")

        @user_errors
        def on_similar(st, sim, *args):
            if st.get("z") is None:
                raise ValueError("Load or create a melody first.")
            seed_val = int(np.random.default_rng().integers(0, 2**31 - 1))
            return show(*h.similar(st, Playback(*args), float(sim), seed_val))

        similar_btn.click(on_similar, [state, similarity, *play_inputs], main_and_sliders, api_name="vary",
                          api_visibility="undocumented")

        @user_errors
        def on_reset(st, *args):
            if st.get("origin_z") is None:
                raise ValueError("Nothing to reset to yet.")
            return show(*h.reset(st, Playback(*args)))

        reset_btn.click(on_reset, [state, *play_inputs], main_and_sliders, api_name="reset", api_visibility="undocumented")
        share_box.change(None, [share_box], [share_box], js=SET_URL_JS)
        map_pos.change(None, [map_pos], [map_pos], js=MOVE_STAR_JS)
        copy_btn.click(None, None, None, js=COPY_LINK_JS)

        # ---- map ----
        @user_errors
        def on_map_click(st, value, *args):
            if not value:
                raise ValueError("Click a point on the map.")
            tune = int(str(value).split("|")[0])
            return show(*h.load_tune(st, tune, Playback(*args)))

        map_click.change(on_map_click, [state, map_click, *play_inputs], main_and_sliders, api_name="map_click",
                         api_visibility="undocumented")

        def on_map_view(st, color):
            xy = h.s.place(st["z"]) if st.get("z") is not None else None
            return plot(h.map_figure(color, xy))

        color_by.input(on_map_view, [state, color_by], corpus_map, api_name="map", api_visibility="undocumented")
        map_tab.select(on_map_view, [state, color_by], corpus_map, api_visibility="private")

        # ---- upload ----
        @user_errors
        def on_upload(st, path, *args):
            st = h.upload(st, path)
            up = st["upload"]
            return [*_upload_outputs(h, st, 0, 0, Playback(*args)),
                    # (label, index) pairs: value 0 is then a valid choice, and equal labels (channels of
                    # one track) still pick their own candidate
                    gr.update(choices=[(c["label"], i) for i, c in enumerate(up["candidates"])], value=0)]

        def _upload_outputs(h, st, cand, win, play):
            st, r, info = h.choose_upload(st, cand, win, play)
            up = st["upload"]
            c = up["candidates"][info["candidate"]]
            st["neighbours"] = [n["window"] for n in info["neighbours"]]
            warn = " ".join(up["warnings"])
            status = (f"**{up['name']}**: {len(up['candidates'])} melody candidate(s); showing "
                      f"{c['label']}, window {info['window'] + 1} of {len(c['windows'])}. {warn}")
            extracted_fig = figures.piano_roll(info["extracted"], 64, title="Extracted from your file", height=220)
            umap = h.map_figure("collection", None, {"your melody": info["map_xy"]})
            windows = [f"bars {s // 16 + 1}-{s // 16 + 4}" for s in c["starts"]]
            return [*show(st, r), status, gr.update(choices=windows, value=windows[info["window"]]), plot(extracted_fig),
                    neighbours_rows(info["neighbours"]), plot(umap)]

        upload_out = main_and_sliders + [upload_status, window_dd, extracted, neigh_df, upload_map]
        upload_file.upload(on_upload, [state, upload_file, *play_inputs], upload_out + [cand_dd], api_name="upload",
                           api_visibility="undocumented")

        @user_errors
        def on_candidate(st, cand, win, *args):
            if cand is None:
                raise ValueError("Upload a MIDI file first.")
            return _upload_outputs(h, st, cand, win or 0, Playback(*args))

        cand_dd.input(lambda st, c, *a: on_candidate(st, c, 0, *a), [state, cand_dd, *play_inputs], upload_out,
                      api_visibility="private")
        window_dd.input(on_candidate, [state, cand_dd, window_dd, *play_inputs], upload_out, api_visibility="private")

        @user_errors
        def on_neighbour(st, instrument, tempo, temperature, seed, accompaniment, evt: gr.SelectData):
            rows = st.get("neighbours") or []
            row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
            if not rows or row >= len(rows):
                raise ValueError("Upload a file to see its neighbours first.")
            return show(*h.load_window(st, rows[row], Playback(instrument, tempo, temperature, seed, accompaniment)))

        neigh_df.select(on_neighbour, [state, *play_inputs], main_and_sliders, api_visibility="private")

        # ---- blend and grid ----
        def slots_text(st):
            slots = st.get("slots", {})
            return "  \n".join(f"**{s}**: {slots[s]['title']}" for s in "ABCD" if s in slots) or "Slots: empty"

        for s, btn in slot_btns.items():
            btn.click(user_errors(lambda st, s=s: (lambda st2: (st2, slots_text(st2)))(h.set_slot(st, s))), [state],
                      [state, slots_md], api_visibility="private")

        @user_errors
        def on_blend(st, n, *args):
            b = h.blend(st, int(n), Playback(*args))
            st = dict(st)
            st["blend_z"] = b["z"]
            return st, plot(b["figure"]), b["wav"], [b["midi"], b["wav"]], gr.update(maximum=len(b["z"]), value=1)

        blend_btn.click(on_blend, [state, steps, *play_inputs], [state, blend_plot, blend_audio, blend_files, blend_pick],
                        api_name="blend", api_visibility="undocumented")

        @user_errors
        def on_blend_pick(st, i, *args):
            zs = st.get("blend_z")
            if zs is None:
                raise ValueError("Blend two melodies first.")
            i = min(max(int(i) - 1, 0), len(zs) - 1)
            st = h.set_z(st, zs[i], f"Blend step {i + 1} of {len(zs)}", as_origin=False)
            return show(st, h.render(st, Playback(*args)))

        blend_pick.release(on_blend_pick, [state, blend_pick, *play_inputs], main_and_sliders, api_visibility="private")

        @user_errors
        def on_grid(st, x, y, *args):
            return show(*h.grid_point(st, x, y, Playback(*args)))

        gr.on([grid_x.release, grid_y.release], on_grid, [state, grid_x, grid_y, *play_inputs], main_and_sliders,
              api_visibility="private")

        # ---- transform ----
        @user_errors
        def on_push(st, attr, amount, *args):
            st, r, info = h.push(st, attr, amount, Playback(*args))
            b, a = info["before"], info["after"]
            fmt = lambda v: "–" if v is None or not np.isfinite(v) else f"{v:.2f}"  # noqa: E731
            return [*show(st, r), f"**{attr}**: {fmt(b)} → {fmt(a)} (measured on the decoded melodies)"]

        attr_amount.release(on_push, [state, attr_dd, attr_amount, *play_inputs], main_and_sliders + [attr_md],
                            api_name="push_attribute", api_visibility="undocumented")

        @user_errors
        def on_style(st, to, amount, *args):
            st, r, info = h.move_style(st, to, amount, Playback(*args))
            before = max(info["before"], key=info["before"].get)
            after_p = info["after"].get(to, 0.0)
            txt = (f"Started nearest to **{COLLECTION_LABELS.get(before, before)}**; now "
                   f"P({COLLECTION_LABELS.get(to, to)}) = {after_p:.2f}")
            return [*show(st, r), txt]

        style_amount.release(on_style, [state, style_dd, style_amount, *play_inputs], main_and_sliders + [style_md],
                             api_name="move_to_style", api_visibility="undocumented")

        @user_errors
        def on_draw(st, style, n, *args):
            seed_val = int(np.random.default_rng().integers(0, 2**31 - 1))
            d = h.draw_in_style(st, style, int(n), Playback(*args), seed_val)
            st = dict(st)
            st["drawn"] = {"z": d["z"], "style": style}
            return st, plot(d["figure"]), gr.update(maximum=len(d["z"]), value=1)

        draw_btn.click(on_draw, [state, draw_style, draw_n, *play_inputs], [state, draw_plot, draw_pick],
                       api_name="draw_in_style", api_visibility="undocumented")

        @user_errors
        def on_draw_pick(st, i, *args):
            d = st.get("drawn")
            if not d:
                raise ValueError("Draw some melodies first.")
            i = min(max(int(i) - 1, 0), len(d["z"]) - 1)
            st = h.set_z(st, d["z"][i], f"New melody in the style of {COLLECTION_LABELS.get(d['style'], d['style'])} (#{i + 1})")
            return show(st, h.render(st, Playback(*args)))

        draw_pick.release(on_draw_pick, [state, draw_pick, *play_inputs], main_and_sliders, api_visibility="private")

        # ---- compose ----
        def wp_text(st):
            wps = st.get("waypoints", [])
            return "  \n".join(f"{i + 1}. {w['title']}" for i, w in enumerate(wps)) or "No waypoints yet."

        add_wp.click(user_errors(lambda st: (lambda s2: (s2, wp_text(s2)))(h.add_waypoint(st))), [state], [state, wp_md],
                     api_visibility="private")
        clear_wp.click(lambda st: ({**st, "waypoints": []}, "No waypoints yet."), [state], [state, wp_md],
                       api_visibility="private")

        @user_errors
        def on_compose(st, n_bars, *args):
            c = h.compose(st, int(n_bars), Playback(*args))
            return plot(c["figure"]), c["wav"], [c["midi"], c["wav"]]

        compose_btn.click(on_compose, [state, bars, *play_inputs], [compose_plot, compose_audio, compose_files],
                          api_name="compose", api_visibility="undocumented")
        _wire_api(h, api_components)
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


# ------------------------------------------------------------------------------------------------------
# Public API: stable names mirroring Magenta.js MusicVAE verbs; JSON in, JSON and files out.
# ------------------------------------------------------------------------------------------------------
def _api_tab(h: Handlers) -> dict:
    gr.Markdown(
        "Call the explorer from code with `gradio_client` (see README). Each endpoint below is also usable here.\n\n"
        "```python\nfrom gradio_client import Client, handle_file\nc = Client('http://127.0.0.1:7860/')\n"
        "enc = c.predict(handle_file('song.mid'), api_name='/encode')\n"
        "midi, wav, notes = c.predict(json.dumps({'z': enc['z']}), 0.0, 0, 120, 0, api_name='/decode')\n```")
    comps = {}
    with gr.Accordion("/encode: MIDI file → melody, z, slider values, map position", open=False):
        comps["enc_in"] = gr.File(label="MIDI file", type="filepath")
        comps["enc_btn"] = gr.Button("encode")
        comps["enc_out"] = gr.JSON(label="result")
    with gr.Accordion("/decode: z or slider values → MIDI, WAV, notes", open=False):
        comps["dec_in"] = gr.Textbox(label='JSON: {"z": [...]} or {"sliders": [...16 values]}', lines=2)
        with gr.Row():
            comps["dec_temp"] = gr.Number(0.0, label="temperature")
            comps["dec_seed"] = gr.Number(0, precision=0, label="seed")
            comps["dec_tempo"] = gr.Number(120, label="tempo")
            comps["dec_prog"] = gr.Number(0, precision=0, label="GM program")
        comps["dec_btn"] = gr.Button("decode")
        comps["dec_midi"] = gr.File(label="MIDI")
        comps["dec_wav"] = gr.File(label="WAV")
        comps["dec_notes"] = gr.JSON(label="notes")
    with gr.Accordion("/sample, /similar", open=False):
        with gr.Row():
            comps["n"] = gr.Number(4, precision=0, label="n")
            comps["temp"] = gr.Number(0.5, label="temperature")
            comps["seed"] = gr.Number(0, precision=0, label="seed")
            comps["sim"] = gr.Number(0.8, label="similarity (for /similar)")
        comps["sim_in"] = gr.Textbox(label='JSON for /similar: {"z": [...]}', lines=1)
        with gr.Row():
            comps["sample_btn"] = gr.Button("sample")
            comps["similar_btn"] = gr.Button("similar")
        comps["gen_out"] = gr.JSON(label="melodies")
    with gr.Accordion("/interpolate: two MIDI files → blend", open=False):
        with gr.Row():
            comps["int_a"] = gr.File(label="A", type="filepath")
            comps["int_b"] = gr.File(label="B", type="filepath")
            comps["int_steps"] = gr.Number(7, precision=0, label="steps")
        comps["int_btn"] = gr.Button("interpolate")
        comps["int_midi"] = gr.File(label="MIDI")
        comps["int_wav"] = gr.File(label="WAV")
        comps["int_out"] = gr.JSON(label="steps")
    with gr.Accordion("/neighbours: z or MIDI → nearest corpus melodies", open=False):
        comps["nb_json"] = gr.Textbox(label='JSON {"z": [...]} (or leave empty and give a file)', lines=1)
        comps["nb_file"] = gr.File(label="MIDI file", type="filepath")
        comps["nb_k"] = gr.Number(10, precision=0, label="k")
        comps["nb_btn"] = gr.Button("neighbours")
        comps["nb_out"] = gr.JSON(label="neighbours")
    return comps


def _parse_z(h: Handlers, text: str | dict | None) -> np.ndarray:
    """z from JSON text/dict: {"z": [...]} (latent) or {"sliders": [...]} (slider values from the origin)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ValueError('Give a JSON object like {"z": [...]} or {"sliders": [...]}.')
    try:
        d = json.loads(text) if isinstance(text, str) else dict(text)
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"The input is not valid JSON: {exc}") from exc
    if isinstance(d, list):
        d = {"z": d}
    if "z" in d:
        z = np.asarray(d["z"], dtype=np.float32).ravel()
        if z.shape != (h.s.latent_dim,) or not np.isfinite(z).all():
            raise ValueError(f"z must be {h.s.latent_dim} finite numbers.")
        return z
    if "sliders" in d:
        v = np.asarray(d["sliders"], dtype=np.float32).ravel()
        if len(v) != len(h.labels) or not np.isfinite(v).all():
            raise ValueError(f"sliders must be {len(h.labels)} finite numbers.")
        base = np.asarray(d.get("base_z", np.zeros(h.s.latent_dim)), dtype=np.float32)
        return h.s.z_from_sliders(base, v)
    raise ValueError('Give a JSON object like {"z": [...]} or {"sliders": [...]}.')


def _melody_json(h: Handlers, z: np.ndarray, tokens: np.ndarray) -> dict:
    return {"z": [round(float(v), 5) for v in z], "sliders": [round(float(v), 3) for v in h.s.sliders_of(z)],
            "notes": [list(map(int, n)) for n in h.s.notes(tokens)], "tokens": [int(t) for t in tokens]}


def _wire_api(h: Handlers, c: dict) -> None:
    @user_errors
    def api_encode(path: str) -> dict:
        st = h.upload(new_state(), path)
        up = st["upload"]
        cand = up["candidates"][0]
        tokens = cand["windows"][0]
        z = h.s.encode(tokens)
        x, y = h.s.place(z)
        return {"file": up["name"], "candidate": cand["label"], "windows": len(cand["windows"]),
                "candidates": [cc["label"] for cc in up["candidates"]], "map": [x, y],
                "reconstruction": [list(map(int, n)) for n in h.s.notes(h.s.decode(z))], **_melody_json(h, z, tokens)}

    c["enc_btn"].click(api_encode, c["enc_in"], c["enc_out"], api_name="encode")

    @user_errors
    def api_decode(text: str, temperature: float, seed: float, tempo: float, program: float):
        z = _parse_z(h, text)
        tokens = h.s.decode(z, float(temperature or 0), int(seed or 0))
        notes = h.s.notes(tokens)
        inst = next((k for k, v in INSTRUMENTS.items() if v == int(program or 0)), "Piano")
        wav, mid = h.write_outputs(notes, Playback(inst, float(tempo or 120)), "decode")
        return mid, wav, _melody_json(h, z, tokens)

    c["dec_btn"].click(api_decode, [c["dec_in"], c["dec_temp"], c["dec_seed"], c["dec_tempo"], c["dec_prog"]],
                       [c["dec_midi"], c["dec_wav"], c["dec_notes"]], api_name="decode")

    @user_errors
    def api_sample(n: float, temperature: float, seed: float):
        n = int(n or 1)
        if not 1 <= n <= 32:
            raise ValueError("n must be between 1 and 32.")
        z, tokens = h.s.sample(n, float(temperature or 0), int(seed or 0))
        return [_melody_json(h, zz, t) for zz, t in zip(z, tokens, strict=True)]

    c["sample_btn"].click(api_sample, [c["n"], c["temp"], c["seed"]], c["gen_out"], api_name="sample")

    @user_errors
    def api_similar(text: str, similarity: float, n: float, temperature: float, seed: float):
        z0 = _parse_z(h, text)
        n = int(n or 1)
        if not 1 <= n <= 32:
            raise ValueError("n must be between 1 and 32.")
        z, tokens = h.s.similar(z0, n, float(similarity), float(temperature or 0), int(seed or 0))
        return [_melody_json(h, zz, t) for zz, t in zip(z, tokens, strict=True)]

    c["similar_btn"].click(api_similar, [c["sim_in"], c["sim"], c["n"], c["temp"], c["seed"]], c["gen_out"],
                           api_name="similar")

    @user_errors
    def api_interpolate(a: str, b: str, n: float):
        st = new_state()
        for slot, path in (("A", a), ("B", b)):
            st = h.upload(st, path)
            st, _, _ = h.choose_upload(st, 0, 0, Playback())
            st = h.set_slot(st, slot)
        n = int(n or 7)
        if not 2 <= n <= 32:
            raise ValueError("steps must be between 2 and 32.")
        res = h.blend(st, n, Playback())
        return res["midi"], res["wav"], [_melody_json(h, z, t) for z, t in zip(res["z"], res["tokens"], strict=True)]

    c["int_btn"].click(api_interpolate, [c["int_a"], c["int_b"], c["int_steps"]], [c["int_midi"], c["int_wav"], c["int_out"]],
                       api_name="interpolate")

    @user_errors
    def api_neighbours(text: str, path: str | None, k: float):
        if text and text.strip():
            z = _parse_z(h, text)
        elif path:
            st = h.upload(new_state(), path)
            z = h.s.encode(st["upload"]["candidates"][0]["windows"][0])
        else:
            raise ValueError('Give {"z": [...]} or a MIDI file.')
        k = int(k or 10)
        if not 1 <= k <= 100:
            raise ValueError("k must be between 1 and 100.")
        return [{key: (v if not isinstance(v, np.generic) else v.item()) for key, v in n.items()} for n in h.s.neighbours(z, k)]

    c["nb_btn"].click(api_neighbours, [c["nb_json"], c["nb_file"], c["nb_k"]], c["nb_out"], api_name="neighbours")


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, share: bool = False, **kwargs):
    """Launch with the project's settings: upload limit, monitoring off, the map-click bridge script."""
    return demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_UPLOAD,
                       enable_monitoring=False, js=JS, css=CSS, footer_links=["api"], show_error=True, **kwargs)
