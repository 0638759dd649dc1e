"""The explorer: latent-space services over a trained model, a Gradio-free API, and the UI on top.
Public names are importable from here (`from explorer import LatentSpace, UserError`), each loaded on
first use, so importing the package loads neither torch nor gradio."""

from importlib import import_module

_EXPORTS = {
    "LatentSpace": "explorer.latent.space", "Handlers": "explorer.session.handlers", "Playback": "explorer.media.files",
    "Session": "explorer.session.state", "new_state": "explorer.session.state", "UserError": "explorer.errors",
    "Sliders": "explorer.latent.directions", "render": "explorer.media.audio", "api": "explorer.serve.api",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name == "api":
        return import_module("explorer.serve.api")
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
