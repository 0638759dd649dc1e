"""The Transform screen: push the melody along an attribute or toward a style; draw new melodies in a style."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np

from explorer.ui.common import CheckedSlider, Page, fresh_seed, plot, user_errors
from vae.attributes import ATTRIBUTES
from vae.controls import WORDS, slider_words
from vae.corpus import COLLECTION_LABELS
from vae.voice import INSTRUMENT, VoiceLimits


def build(page: Page) -> SimpleNamespace:
    # in the sliders' words ("Notes: fewer ← → more"), so a push and a slider read as the same control
    attributes = [(slider_words(a) if a in WORDS else ATTRIBUTES.get(a, a), a) for a in page.h.s.attribute_names]
    styles = [(COLLECTION_LABELS.get(s, s), s) for s in page.h.s.style_names]
    first_style = styles[0][1] if styles else None
    gr.Markdown("Push the current melody along a musical attribute, or toward another collection's style. Moves "
                "stack: each new move starts from the melody as it is now (density up, then toward minor, keeps both). "
                "Moving the same amount slider again re-does that move from where it began. **Reset to original** "
                "(Sliders tab) goes back to where you started. Bars locked on the Sliders tab stay note for note: a "
                "push moves the others.")
    with gr.Row():
        attr = gr.Dropdown(attributes, value=attributes[0][1] if attributes else None, label="Attribute")
        attr_amount = CheckedSlider(-2.0, 2.0, value=0.0, step=0.1, label="Less ← amount → more")
    with gr.Row():
        singable = gr.Checkbox(True, label="Keep it singable", elem_id="singable-cb",
                               info="pushes keep to a voice's range and leaps where they can")
        max_range = CheckedSlider(7, 48, value=VoiceLimits.max_range, step=1, label="Range at most (semitones)")
        max_leap = CheckedSlider(2, 36, value=VoiceLimits.max_leap, step=1, label="Leaps at most (semitones)")
    attr_md = gr.Markdown("")
    with gr.Row():
        style = gr.Dropdown(styles, value=first_style, label="Toward style")
        style_amount = CheckedSlider(0.0, 1.0, value=0.0, step=0.05, label="Amount")
    style_md = gr.Markdown("")
    gr.Markdown("**New melodies in a style**")
    with gr.Row():
        draw_style = gr.Dropdown(styles, value=first_style, label="Style")
        draw_n = CheckedSlider(1, 8, value=4, step=1, label="How many")
        draw = gr.Button("Draw", elem_id="draw-btn")
    drawn = gr.Plot(label="New melodies")
    pick = CheckedSlider(1, 8, value=1, step=1, label="Load melody into the player")
    return SimpleNamespace(attr=attr, attr_amount=attr_amount, attr_md=attr_md, singable=singable, max_range=max_range,
                           max_leap=max_leap, style=style, style_amount=style_amount,
                           style_md=style_md, draw_style=draw_style, draw_n=draw_n, draw=draw, drawn=drawn, pick=pick)


def _fmt(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.2f}"


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    @user_errors
    def on_push(data):
        st = page.session(data)
        page.need_melody(st)
        attr = data[c.attr]
        limits = VoiceLimits(int(data[c.max_range]), int(data[c.max_leap])) if data[c.singable] else INSTRUMENT
        # on the unlocked bars only: the Sliders screen's bar locks (Page.session reads them) stay note for note
        st, r, info = h.push(st, attr, data[c.attr_amount], page.playback(data), limits, locked_bars=st.locks.bars)
        name = WORDS[attr][0] if attr in WORDS else ATTRIBUTES.get(attr, attr)
        voice = f"range {info['range']} semitones, largest leap {info['leap']}"
        if info["singable"] is False:
            voice += " — beyond your limits: no candidate kept to them (loosen them, or push less)"
        return {**page.show(st, r), c.attr_md: f"**{name}**: {_fmt(info['before'])} → {_fmt(info['after'])} "
                                               f"(measured on the decoded melodies); {voice}"
                                               + (f". {info['note']}" if info.get("note") else "")}

    c.attr_amount.release(on_push, page.inputs(c.attr, c.attr_amount, c.singable, c.max_range, c.max_leap),
                          page.main_and_sliders + [c.attr_md], api_name="push_attribute", api_visibility="private")

    @user_errors
    def on_style(data):
        st = page.session(data)
        page.need_melody(st)
        to = data[c.style]
        st, r, info = h.move_style(st, to, data[c.style_amount], page.playback(data), locked_bars=st.locks.bars)
        before = max(info["before"], key=info["before"].get)
        txt = (f"Started nearest to **{COLLECTION_LABELS.get(before, before)}**; now "
               f"P({COLLECTION_LABELS.get(to, to)}) = {info['after'].get(to, 0.0):.2f}")
        return {**page.show(st, r), c.style_md: txt}

    c.style_amount.release(on_style, page.inputs(c.style, c.style_amount), page.main_and_sliders + [c.style_md],
                           api_name="move_to_style", api_visibility="private")

    @user_errors
    def on_draw(data):
        style = data[c.draw_style]
        seed = fresh_seed()
        st, d = h.draw_in_style(page.session(data), style, int(data[c.draw_n]), page.playback(data), seed)
        return {page.state: st, c.drawn: plot(d["figure"]), c.pick: gr.update(maximum=len(d["z"]), value=1)}

    c.draw.click(on_draw, page.inputs(c.draw_style, c.draw_n), [page.state, c.drawn, c.pick], api_name="draw_in_style",
                 api_visibility="private")

    @user_errors
    def on_pick(data):
        return page.show(*h.load_drawn(page.session(data), data[c.pick], page.playback(data)))

    c.pick.release(on_pick, page.inputs(c.pick), page.main_and_sliders, api_visibility="private")
