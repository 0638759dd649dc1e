"""The Blend screen: slots A-D, an A → B interpolation strip, and the A/B/C/D grid (Beat Blender)."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.ui.common import CheckedSlider, Page, plot, user_errors


def build(page: Page) -> SimpleNamespace:
    gr.Markdown("Store melodies in slots, then blend A→B or explore the A/B/C/D grid.")
    with gr.Row():
        slot_btns = {s: gr.Button(f"Use current as {s}", size="sm") for s in "ABCD"}
    slots_md = gr.Markdown("Slots: empty")
    with gr.Row():
        steps = CheckedSlider(3, 11, value=7, step=1, label="Steps from A to B")
        blend = gr.Button("Blend A → B", variant="primary", elem_id="blend-btn")
    strip = gr.Plot(label="Interpolation strip")
    with gr.Row():
        audio = gr.Audio(label="The whole blend", type="filepath", interactive=False, elem_id="blend-audio")
        files = gr.File(label="Blend MIDI and WAV", file_count="multiple", interactive=False)
    pick = CheckedSlider(1, 7, value=1, step=1, label="Load step into the player")
    gr.Markdown("**Grid** (Beat Blender): A top-left, B top-right, C bottom-left, D bottom-right.")
    with gr.Row():
        grid_x = CheckedSlider(0, 1, value=0.5, step=0.05, label="x (A/C → B/D)")
        grid_y = CheckedSlider(0, 1, value=0.5, step=0.05, label="y (A/B → C/D)")
    return SimpleNamespace(slot_btns=slot_btns, slots_md=slots_md, steps=steps, blend=blend, strip=strip, audio=audio,
                           files=files, pick=pick, grid_x=grid_x, grid_y=grid_y)


def slots_text(st) -> str:
    return "  \n".join(f"**{s}**: {st.slots[s].title}" for s in "ABCD" if s in st.slots) or "Slots: empty"


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    def slot_setter(slot: str):
        @user_errors
        def set_slot(st):
            st = h.set_slot(st, slot)
            return {page.state: st, c.slots_md: slots_text(st)}

        return set_slot

    for s, btn in c.slot_btns.items():
        btn.click(slot_setter(s), [page.state], [page.state, c.slots_md], api_visibility="private")

    @user_errors
    def on_blend(data):
        st, b = h.blend_kept(page.session(data), int(data[c.steps]), page.playback(data))
        return {page.state: st, c.strip: plot(b["figure"]), c.audio: b["wav"], c.files: [b["midi"], b["wav"]],
                c.pick: gr.update(maximum=len(b["z"]), value=1)}

    c.blend.click(on_blend, page.inputs(c.steps), [page.state, c.strip, c.audio, c.files, c.pick], api_name="blend",
                  api_visibility="private")

    @user_errors
    def on_pick(data):
        return page.show(*h.load_blend_step(page.session(data), data[c.pick], page.playback(data)))

    c.pick.release(on_pick, page.inputs(c.pick), page.main_and_sliders, api_visibility="private")

    @user_errors
    def on_grid(data):
        return page.show(*h.grid_point(page.session(data), data[c.grid_x], data[c.grid_y], page.playback(data)))

    gr.on([c.grid_x.release, c.grid_y.release], on_grid, page.inputs(c.grid_x, c.grid_y), page.main_and_sliders,
          api_visibility="private")
