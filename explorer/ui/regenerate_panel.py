"""Bar locks and Regenerate on the Sliders screen: lock bars (and the rhythm or the pitches), regenerate the rest, take
one of four alternatives."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from explorer.ui.common import Page, fresh_seed, plot, user_errors

TAKES = 4  # alternatives offered per Regenerate (Handlers.regenerate)
HELP = ("**Keep what you like, regenerate the rest.** Lock the bars you want to keep and press Regenerate: four new "
        "melodies keep those bars note for note. A locked bar is shaded on the piano roll; a click on the padlock "
        "beside a bar's number there locks or unlocks it too. With *Keep the rhythm* every onset and duration stays and only "
        "the pitches change; with *Keep the pitches* the same pitches come in the same order on a new rhythm (both "
        "together would leave nothing to change). Listen to each under *Hear*, then take one to make it the current melody (Undo brings the "
        "old one back, with the locks it had). The locks also act on the sliders and on Transform's pushes, and the share "
        "link carries them.")


def build(page: Page) -> SimpleNamespace:
    bars = page.h.s.format.bars
    gr.Markdown(HELP)
    with gr.Row(elem_id="bar-locks"):
        locks = [gr.Checkbox(False, label=f"Lock bar {b + 1}", elem_id=f"lock-bar-{b + 1}", min_width=100)
                 for b in range(bars)]
        rhythm = gr.Checkbox(False, label="Keep the rhythm (new notes on it)", elem_id="rhythm-lock", min_width=160)
        pitches = gr.Checkbox(False, label="Keep the pitches (a new rhythm for them)", elem_id="pitch-lock",
                              min_width=160)
        regenerate = gr.Button("Regenerate", elem_id="regenerate-btn", variant="secondary")
    page.locks = [*locks, rhythm, pitches]  # every event reads them into the session (Page.session)
    alternatives = gr.Plot(label="Alternatives", elem_id="regenerate-plot")
    hear, takes = [], []
    with gr.Row():
        for i in range(TAKES):
            with gr.Column(min_width=160):
                hear.append(gr.Audio(label=f"Hear {i + 1}", elem_id=f"hear-{i + 1}", interactive=False, buttons=[]))
                takes.append(gr.Button(f"Take {i + 1}", elem_id=f"take-{i + 1}", size="sm"))
    return SimpleNamespace(locks=locks, rhythm=rhythm, pitches=pitches, regenerate=regenerate, alternatives=alternatives, hear=hear,
                           takes=takes)


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    @user_errors
    def on_lock(data):
        st = page.session(data)  # the locks as ticked now: the history's current entry keeps them too
        if st.z is None:
            return {page.state: st}
        return {page.state: st, page.panel.share: h.share_code(st, page.playback(data))}

    # a lock needs no render, but the session (its history entry) and the share link carry it
    gr.on([box.input for box in page.locks], on_lock, page.inputs(), [page.state, page.panel.share],
          api_visibility="private", queue=False, show_progress="hidden")

    @user_errors
    def on_regenerate(data):
        st = page.session(data)
        page.need_melody(st)
        locked = [b for b, box in enumerate(c.locks) if data[box]]
        st, out = h.regenerate(st, locked, bool(data[c.rhythm]), page.playback(data), fresh_seed(),
                               pitch_lock=bool(data[c.pitches]))
        heard = out["audio"] + [None] * (TAKES - len(out["audio"]))
        return {page.state: st, c.alternatives: plot(out["figure"]), **dict(zip(c.hear, heard[:TAKES], strict=True))}

    c.regenerate.click(on_regenerate, page.inputs(*c.locks, c.rhythm, c.pitches), [page.state, c.alternatives, *c.hear],
                       api_name="regenerate_bars", api_visibility="private")

    def taker(k: int):
        @user_errors
        def on_take(data):
            return page.show(*h.take_alternative(page.session(data), k, page.playback(data)))

        return on_take

    for i, button in enumerate(c.takes):
        button.click(taker(i), page.inputs(), page.main_and_sliders, api_name=f"take_{i + 1}",
                     api_visibility="private")
