"""The explorer: latent-space services over a trained model, a Gradio-free API, and the UI on top.
Public names are importable from here (`from explorer import ExplorerServices, UserError`), each loaded on
first use, so importing the package loads neither torch nor gradio."""

from importlib import import_module

_EXPORTS = {
    "ExplorerServices": "explorer.services", "Handlers": "explorer.handlers", "Playback": "explorer.handlers",
    "Session": "explorer.session", "new_state": "explorer.session", "UserError": "explorer.errors",
    "Sliders": "explorer.directions", "render": "explorer.audio", "api": "explorer.api",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name == "api":
        return import_module("explorer.api")
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
