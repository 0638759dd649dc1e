"""The API tab: the public endpoints (explorer.serve.api) with a small form each; stable api_names for gradio_client."""

from __future__ import annotations

import re
from contextlib import nullcontext
from types import SimpleNamespace

import gradio as gr

from explorer.serve import api
from explorer.session.regenerate import MAX_ALTERNATIVES
from explorer.ui.common import Page, api_errors, checked_number

# /decode calls running at once. Their decodes are batched (explorer.latent.batching: 16 melodies cost about twice
# one) and their renders share a synth per core (explorer.media.audio.SynthPool), so calls let in together cost
# less CPU each than calls let in four at a time, and none waits in Gradio's queue (where every start sends each
# waiting call an estimate). The page's own events keep the app's --concurrency.
DECODE_CONCURRENCY = 16
EXAMPLE_URL = "http://127.0.0.1:7860/"  # replaced by the page's own address when the page loads (usage_for)
USAGE = ("Call the explorer from code with `gradio_client` (see README). Each endpoint below is also usable here.\n\n"
         f"```python\nimport json\nfrom gradio_client import Client, handle_file\nc = Client('{EXAMPLE_URL}')\n"
         "enc = c.predict(handle_file('song.mid'), api_name='/encode')\n"
         "# enc['melody']: the melody as the page plays it (z and its per-bar detail); enc['reconstruction']: its notes\n"
         "midi, wav, mel = c.predict(json.dumps({'melody': enc['melody']}), 0.0, 0, 120, 0, api_name='/decode')\n"
         "assert mel['tokens'] == enc['reconstruction_tokens']  # the same tune the page plays\n"
         "sliders = list(mel['sliders'])  # full precision: sent back unchanged, nothing moves\n"
         "sliders[0] += 1.0  # move one slider; only it is asked to move (steered as the page's sliders)\n"
         "midi, wav, moved = c.predict(json.dumps({'melody': mel['melody'], 'sliders': sliders}), 0.0, 0, 120, 0,\n"
         "                             api_name='/decode')\n"
         "more = c.predict(json.dumps({'melody': moved['melody']}), 0.8, 4, 0.5, 0, api_name='/similar')\n"
         "song = json.dumps({'melody': mel['melody']})\n"
         "harm = c.predict(song, None, '', api_name='/harmonise')  # harm['chords']: [{'chord': 'Am7', 'start': 0, "
         "'end': 16}, ...]\n"
         "fitted = c.predict(song, None, 'Am F C G', api_name='/harmonise')  # the melody fitted to your chords\n"
         "alts = c.predict(song, None, '1 2', False, False, 4, 0, api_name='/regenerate')  # bars 1-2 kept\n```\n\n"
         "Every melody an endpoint returns can be sent back as it is: `{'melody': code}` (present when a code carries "
         "it exactly), `{'z': z}` or `{'sliders': sliders, 'base_z': z}`. The code also opens the melody on the page "
         "(`?m=code`) and works with `POST /v1/decode`.")


def usage_for(request: gr.Request) -> str:
    """The usage text with the address this page was opened at (its host and port, https behind a proxy)."""
    headers = getattr(request, "headers", None) or {}
    host = re.sub(r"[^A-Za-z0-9.:\[\]-]", "", str(headers.get("host", "")))[:200]
    if not host:
        return USAGE
    scheme = "https" if headers.get("x-forwarded-proto", "") == "https" else "http"
    return USAGE.replace(EXAMPLE_URL, f"{scheme}://{host}/")


def _num(name: str, value, label: str, integer: bool = False) -> gr.Number:
    lo, hi = api.LIMITS[name]
    return checked_number(name, value, label=f"{label} ({lo}–{hi})", integer=integer, minimum=lo, maximum=hi)


MELODY = 'JSON {"melody": "..."}, {"z": [...]} or {"sliders": [...]}'  # what every endpoint takes as a melody
OR_FILE = " (or leave empty and give a file)"


def _form(title: str, button: str, melody: str | None = None, lines: int = 1, file: bool = False, fields=(),
          row: bool = True, outputs=()) -> SimpleNamespace:
    """One endpoint's form, folded: a melody's JSON box (labelled `melody`, where given), a MIDI file (where
    `file`), the `fields` (functions that make each input, in a row where `row`), the button, then the `outputs`
    (functions that make each). Returns the button, and the inputs and outputs in the endpoint's order."""
    with gr.Accordion(title, open=False):
        inputs = [gr.Textbox(label=melody, lines=lines)] if melody is not None else []
        if file:
            inputs.append(gr.File(label="MIDI file", type="filepath"))
        with gr.Row() if row and fields else nullcontext():
            inputs += [make() for make in fields]
        btn = gr.Button(button)
        return SimpleNamespace(btn=btn, inputs=inputs, outputs=[make() for make in outputs])


def build(page: Page) -> SimpleNamespace:
    c = SimpleNamespace(usage=gr.Markdown(USAGE, elem_id="api-usage"))
    c.encode = _form("/encode: MIDI file → melody code (as the page plays it), z, slider values, map position", "encode",
                     file=True, row=False, outputs=[lambda: gr.JSON(label="result")])
    c.decode = _form("/decode: z or slider values → MIDI, WAV, notes", "decode", lines=2,
                     melody='JSON: {"melody": "code from /encode"}, {"z": [...]} or {"sliders": '
                     f'[...{page.h.slider_count} values], "melody": "..."}}',
                     fields=[lambda: _num("temperature", 0.0, "temperature"), lambda: _num("seed", 0, "seed", True),
                             lambda: _num("tempo", 120, "tempo"), lambda: _num("program", 0, "GM program", True)],
                     outputs=[lambda: gr.File(label="MIDI"), lambda: gr.File(label="WAV"),
                              lambda: gr.JSON(label="notes")])
    # two endpoints on one form: the same n, temperature and seed
    with gr.Accordion("/sample, /similar", open=False):
        with gr.Row():
            c.n = _num("n", 4, "n", True)
            c.temp = _num("temperature", 0.5, "temperature")
            c.seed = _num("seed", 0, "seed", True)
            c.sim = _num("similarity", 0.8, "similarity (for /similar)")
        c.sim_in = gr.Textbox(label='JSON for /similar: {"melody": "..."} or {"z": [...]}', lines=1)
        with gr.Row():
            c.sample_btn = gr.Button("sample")
            c.similar_btn = gr.Button("similar")
        c.gen_out = gr.JSON(label="melodies")
    c.interpolate = _form("/interpolate: two MIDI files → blend", "interpolate",
                          fields=[lambda: gr.File(label="A", type="filepath"), lambda: gr.File(label="B", type="filepath"),
                                  lambda: _num("steps", 7, "steps", True)],
                          outputs=[lambda: gr.File(label="MIDI"), lambda: gr.File(label="WAV"),
                                   lambda: gr.JSON(label="steps")])
    c.harmonise = _form("/harmonise: a melody → its chords (as the page plays them), or the melody fitted to your chords",
                        "harmonise", melody=MELODY + OR_FILE, file=True, row=False,
                        fields=[lambda: gr.Textbox(label="Your chords (empty: harmonise): 'Am F C G', "
                                                   "'| D | G A | Bm | A7 |' or 'I vi IV V7 in G'", lines=1)],
                        outputs=[lambda: gr.JSON(label="chords (16th steps), key, melody")])
    c.regenerate = _form("/regenerate: keep some bars (or the rhythm, or the pitches), new melodies for the rest",
                         "regenerate", melody=MELODY + OR_FILE, file=True,
                         fields=[lambda: gr.Textbox(label=f"bars to keep (1-{page.h.s.format.bars}, e.g. '1 2')", lines=1),
                                 lambda: gr.Checkbox(label="keep the rhythm"), lambda: gr.Checkbox(label="keep the pitches"),
                                 lambda: checked_number("n", 4, label=f"alternatives (1–{MAX_ALTERNATIVES})", integer=True,
                                                        minimum=1, maximum=MAX_ALTERNATIVES),
                                 lambda: _num("seed", 0, "seed", True)],
                         outputs=[lambda: gr.JSON(label="alternatives")])
    c.neighbours = _form("/neighbours: z or MIDI → nearest corpus melodies", "neighbours",
                         melody='JSON {"melody": "..."} or {"z": [...]}' + OR_FILE, file=True, row=False,
                         fields=[lambda: _num("k", 10, "k", True)], outputs=[lambda: gr.JSON(label="neighbours")])
    return c


def wire(page: Page, c: SimpleNamespace) -> None:
    h = page.h

    def discard(*paths) -> None:
        """Uploads read (or refused) leave Gradio's cache at once: a script's files never pile up."""
        if page.uploads is not None:
            for p in paths:
                page.uploads.discard(p)

    @api_errors
    def encode(path: str | None) -> dict:
        try:
            return api.encode(h, path)
        finally:
            discard(path)

    @api_errors
    def decode(text: str, temperature: float, seed: float, tempo: float, program: float):
        return api.decode(h, text, temperature, seed, tempo, program)

    @api_errors
    def sample(n: float, temperature: float, seed: float):
        return api.sample(h, n, temperature, seed)

    @api_errors
    def similar(text: str, similarity: float, n: float, temperature: float, seed: float):
        return api.similar(h, text, similarity, n, temperature, seed)

    @api_errors
    def interpolate(a: str | None, b: str | None, steps: float):
        try:
            return api.interpolate(h, a, b, steps)
        finally:
            discard(a, b)

    @api_errors
    def neighbours(text: str, path: str | None, k: float):
        try:
            return api.neighbours(h, text, path, k)
        finally:
            discard(path)

    @api_errors
    def harmonise(text: str, path: str | None, chords: str | None) -> dict:
        try:
            return api.harmonise(h, text, chords if chords and chords.strip() else None, path)
        finally:
            discard(path)

    @api_errors
    def regenerate(text: str, path: str | None, keep: str, rhythm_lock: bool, pitch_lock: bool, n: float,
                   seed: float) -> dict:
        try:
            return api.regenerate(h, text, keep, rhythm_lock, pitch_lock, n, seed, path)
        finally:
            discard(path)

    c.encode.btn.click(encode, c.encode.inputs, c.encode.outputs, api_name="encode")
    c.decode.btn.click(decode, c.decode.inputs, c.decode.outputs, api_name="decode",
                       concurrency_limit=DECODE_CONCURRENCY, concurrency_id="api-decode")
    c.sample_btn.click(sample, [c.n, c.temp, c.seed], c.gen_out, api_name="sample")
    c.similar_btn.click(similar, [c.sim_in, c.sim, c.n, c.temp, c.seed], c.gen_out, api_name="similar")
    for name, fn in (("interpolate", interpolate), ("harmonise", harmonise), ("regenerate", regenerate),
                     ("neighbours", neighbours)):
        form = getattr(c, name)
        form.btn.click(fn, form.inputs, form.outputs, api_name=name)
