"""A bare Gradio app whose one endpoint returns its text: the framework's own floor, for benchmarks."""

from __future__ import annotations

import gradio as gr


def echo_app(port: int, host: str = "127.0.0.1") -> gr.Blocks:
    """Launch (without blocking) a Blocks app with an `/echo` endpoint, queued like ours; returns it."""
    with gr.Blocks() as demo:
        box = gr.Textbox()
        out = gr.Textbox()
        box.submit(lambda s: s, box, out, api_name="echo")
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True)
    return demo
