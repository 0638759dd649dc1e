"""The Sliders screen as it was before the page's own drag requests: a drag's melodies through Gradio events.

Kept out of the product for bench.browser_levers, which compares the two: `build_ui` builds the app as shipped,
with this wiring in place of the page's drags (the page's script, finding no #drag-token box, then tells Gradio
whether a slider is held through the box #slider-gesture).
"""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import gradio as gr

from explorer.ui import sliders
from explorer.ui.common import Page, user_errors
from explorer.ui.page import build_ui as product_build_ui

_build, _wire = sliders.build, sliders.wire


def build(page: Page) -> SimpleNamespace:
    """The screen as shipped, with the gesture box in place of the drag boxes."""
    c = _build(page)
    c.hold.elem_id = c.token.elem_id = "off"  # the page's script then opens no drags of its own
    # "held" while a slider is being dragged (set by the page's script, explorer.ui.assets), else "free"
    c.gesture = gr.Textbox("", visible="hidden", elem_id="slider-gesture")
    return c


def wire(page: Page, c: SimpleNamespace) -> None:
    """A drag's melodies through Gradio events (bench.browser_levers' earlier rows), the buttons as shipped."""
    h = page.h

    @user_errors
    def on_sliders(data):
        st = page.session(data)
        page.need_melody(st)
        values = [data[s] for s in page.sliders]
        held = data[c.gesture] == "held"  # a slider is still being dragged
        if sliders.as_shown(st, values):
            # The values the last drag update rendered: that melody is already playing, so only the rest of the
            # panel is new once the slider is let go (nothing, when it was shown).
            if held or st.preview is None:
                return gr.skip()
            return page.show_finish(*h.release(st, page.playback(data)))
        if held:
            return page.show_preview(*h.set_sliders(st, values, page.playback(data), preview=True))
        return page.show(*h.set_sliders(st, values, page.playback(data)), with_sliders=False)

    # One endpoint for the sliders' drag (input) and Render, so that they run in order; not .change, which
    # setting 16 sliders from Python fires 16 times. always_last: while a render runs, only the newest drag
    # position waits, so the melody follows the drag at the rate the machine sustains and nothing piles up.
    # While a slider is held, an update changes only the piano roll and the audio, with no progress overlay
    # (each costs the browser time that would delay the next update); letting it go presses Render, which
    # completes the panel. Levers measured in bench/browser-levers.md:
    # - the hidden gesture box alone tracks the progress: Gradio runs a timer on every component that does,
    #   once per frame, even with the progress hidden;
    # - not through the queue: one HTTP call per update instead of a queue join and an event stream; each is
    #   short, and the public API stays queued.
    # Not Gradio's `release` event: it is a separate event that could overtake an update still waiting, and a
    # waiting update is sent as the event that started the one before it, so only its inputs (read when it is
    # sent) can say where the gesture is.
    triggers = [s.input for s in page.sliders] + [c.render.click]
    gr.on(triggers, on_sliders, page.inputs(c.gesture, *page.sliders),
          page.main_out, api_name="sliders", api_visibility="private", trigger_mode="always_last",
          show_progress="hidden", show_progress_on=[c.gesture], queue=False)
    sliders.wire_buttons(page, c)


def build_ui(services, **kwargs) -> gr.Blocks:
    """explorer.ui.build_ui with a drag's melodies through Gradio events (nothing is launched)."""
    with mock.patch.object(sliders, "build", build), mock.patch.object(sliders, "wire", wire):
        return product_build_ui(services, **kwargs)
