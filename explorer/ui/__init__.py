"""The Gradio app, the only package that imports gradio: the page, one module per screen, the launcher."""

from explorer.ui.page import build_ui, launch

__all__ = ["build_ui", "launch"]
