"""The Sliders screen: a slider per direction (MelodyActions.slider_count; named only where measured), Render,
Random, Similar, Reset, and bar locks with Regenerate (explorer.ui.regenerate_panel)."""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import gradio as gr
import numpy as np

from explorer.errors import UserError
from explorer.session.slider_move import SLIDER_RANGE
from explorer.ui import regenerate_panel
from explorer.ui.common import CheckedSlider, Page, fresh_seed, show_refusal, user_errors

HELP = ("Each named slider moves one musical attribute of the melody, measured: swept from -2 to +2 on held-out "
        "melodies it moved that attribute steadily and at least twice as far as any other (the figures are under "
        "each slider). The others are free directions of the latent space with no single effect. You hear and "
        "see the melody change while you drag a slider (or move it with the arrow keys); letting go also updates "
        "the downloads, the share link, the copy check and the history.")


def build(page: Page) -> SimpleNamespace:
    """The screen; a drag's melodies come from the page's own requests (explorer.serve.drag)."""
    labels, k = page.h.labels, page.h.slider_count
    gr.Markdown(HELP)
    with gr.Row(elem_classes="slider-grid"):
        for col in range(2):
            with gr.Column():
                for i in range(col * ((k + 1) // 2), min(k, (col + 1) * ((k + 1) // 2))):
                    page.sliders.append(CheckedSlider(-SLIDER_RANGE, SLIDER_RANGE, value=0.0, step=0.05,
                                                  label=labels[i]["label"], info=labels[i]["info"],
                                                  elem_id=f"pc-{i + 1}"))
    with gr.Row():
        render = gr.Button("Render", variant="primary", elem_id="render-btn")
        random = gr.Button("Random", elem_id="random-btn")
        similar = gr.Button("Similar", elem_id="similar-btn")
        reset = gr.Button("Reset to original", elem_id="reset-btn")
    similarity = CheckedSlider(0.0, 1.0, value=0.8, step=0.05, label="Similarity for 'Similar'")
    # the page's script writes "open|<nonce>" to open a drag (explorer.serve.drag); the app answers "<nonce>|<token>"
    hold = gr.Textbox("", visible="hidden", elem_id="slider-hold")
    token = gr.Textbox("", visible="hidden", elem_id="drag-token")
    # A number box left out of its slider's range ("<slider number>|<as typed>|<nonce>", written by the page's
    # script instead of the release, which Gradio would send clamped, or refused with no word on the page): its
    # change shows the sentence (through the queue: the release runs outside it, where no notice reaches the page)
    # and puts the sliders back.
    refusal = gr.Textbox("", visible="hidden", elem_id="slider-refusal")
    regen = regenerate_panel.build(page)
    return SimpleNamespace(render=render, random=random, similar=similar, reset=reset, similarity=similarity,
                           hold=hold, token=token, refusal=refusal, regen=regen)


def wire(page: Page, c: SimpleNamespace) -> None:
    _wire_page_drags(page, c)
    wire_buttons(page, c)


def wire_buttons(page: Page, c: SimpleNamespace) -> None:
    """Random, Similar, Reset and the regenerate panel (everything of the screen but the sliders themselves)."""
    h = page.h

    @user_errors
    def on_random(data):
        return page.show(*h.random(page.session(data), page.playback(data), fresh_seed()))

    c.random.click(on_random, page.inputs(), page.main_and_sliders, api_name="random", api_visibility="private")

    @user_errors
    def on_similar(data):
        st = page.session(data)
        page.need_melody(st)
        return page.show(*h.similar(st, page.playback(data), float(data[c.similarity]), fresh_seed()))

    c.similar.click(on_similar, page.inputs(c.similarity), page.main_and_sliders, api_name="vary",
                    api_visibility="private")

    @user_errors
    def on_reset(data):
        st = page.session(data)
        if st.origin_z is None:
            raise UserError("Nothing to reset to yet.")
        return page.show(*h.reset(st, page.playback(data)))

    c.reset.click(on_reset, page.inputs(), page.main_and_sliders, api_name="reset", api_visibility="private")
    regenerate_panel.wire(page, c.regen)


def as_shown(st, values: list[float]) -> bool:
    """Whether these slider values are the ones the session's melody shows (its own, rounded as the sliders are)."""
    if st.sliders is None:
        return False
    return bool(np.allclose(values, np.clip(np.round(st.sliders, 2), -SLIDER_RANGE, SLIDER_RANGE), atol=1e-3, rtol=0))


def shown_values(h, st) -> list[float]:
    """The slider values the page shows for the session's melody (those set, else its own; rounded and clipped)."""
    values = st.sliders if st.sliders is not None else h.s.sliders_of(st.z)
    return [round(float(v), 2) for v in np.clip(values, -SLIDER_RANGE, SLIDER_RANGE)]


def refusal_sentence(h, st, number: int, typed: str) -> str:
    """The sentence that refuses slider `number`'s (1-based) value `typed` and says where the slider is back at."""
    back = shown_values(h, st)[number - 1]
    try:
        what = f"not {float(typed):g}" if math.isfinite(float(typed)) else "and needs a number"
    except ValueError:
        what = "and needs a number"
    return (f"{h.slider_name(number - 1)} goes from {-SLIDER_RANGE:g} to {SLIDER_RANGE:g}, {what}: "
            f"it is back at {back:g}.")


def _wire_page_drags(page: Page, c: SimpleNamespace) -> None:
    """A drag's melodies from the page's own requests (explorer.serve.drag); the release through Gradio."""
    h = page.h

    @user_errors
    def on_hold(data):
        st = page.session(data)
        nonce = str(data[c.hold]).removeprefix("open|")[:40]
        if st.z is None or any(data[box] for box in c.regen.locks):
            return ""  # no live previews while bars are locked (a preview knows no locks): the release renders
        return f"{nonce}|{page.drags.open(st, page.playback(data))}"

    # The page opens a drag (the session and playback of this moment, under a token) whenever the Sliders screen
    # shows a new melody: no progress shown, not through the queue.
    c.hold.change(on_hold, page.inputs(c.hold, *c.regen.locks), [c.token], api_name="drag",
                  api_visibility="private", show_progress="hidden", queue=False)
    # a drag opened before a bar lock changed knows nothing of it: close it (the next press opens one, or none)
    gr.on([box.change for box in c.regen.locks], lambda: "", None, [c.token], api_visibility="private",
          show_progress="hidden", queue=False)

    @user_errors
    def on_sliders(data):
        st = page.session(data)
        page.need_melody(st)
        values, play = [data[s] for s in page.sliders], page.playback(data)
        locked = [b for b, box in enumerate(c.regen.locks) if data[box]]  # the Regenerate panel's bar locks
        token = str(data[c.token]).rpartition("|")[2]
        if as_shown(st, values):
            # No net move. A drag that went away and came back has shown other melodies: show this one again.
            if page.drags.moved(token, st):
                return page.show(st, h.render(st, play), with_sliders=False)
            return gr.skip()
        taken = None if locked else page.drags.take(token, st, values, play)
        if taken is not None:  # the drag's last preview is this melody: complete its panel, no second render
            after, preview = taken
            after, r = h.release(after, play)  # the history has the drag's melody from now on
            return page.show(after, replace(r, figure=preview.figure), with_sliders=False)
        return page.show(*h.set_sliders(st, values, play, locked_bars=locked), with_sliders=False)

    # Render, and the release of a slider (the page's script presses Render): one event, so they run in order.
    # The release sends the piano roll and the audio again, although the page's script drew the last preview:
    # Gradio's own components then hold the melody shown (the player's download link, a redraw on resize).
    gr.on([c.render.click], on_sliders, page.inputs(c.token, *page.sliders, *c.regen.locks), page.main_out,
          api_name="sliders", api_visibility="private", trigger_mode="always_last", show_progress="hidden", show_progress_on=[c.token],
          queue=False)

    def on_refusal(st, text):
        number, _, typed = str(text or "").rpartition("|")[0].partition("|")
        if st is None or st.z is None or not number.isdigit() or not 1 <= int(number) <= len(page.sliders):
            return gr.skip()
        show_refusal(refusal_sentence(h, st, int(number), typed[:20]), "slider")
        return dict(zip(page.sliders, shown_values(h, st), strict=True))

    c.refusal.change(on_refusal, [page.state, c.refusal], page.sliders, api_visibility="private",
                     show_progress="hidden")
