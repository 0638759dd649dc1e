"""Every explorer action, without Gradio: one object per app composing the screens' actions.

Session in, (Session, result) out: the UI wires these to components; tests and benchmarks call them directly.
State is one explorer.session.state.Session per browser (gr.State), never changed in place; the latent space
is shared and read-only. What each screen does lives in its own module: melody (the current melody and its
sliders), corpus, upload, blend, transform, compose, starred (history), collections (your own), learn (its
fine-tune).
"""

from __future__ import annotations

from pathlib import Path

from explorer.latent.space import LatentSpace
from explorer.latent.swap import same_encoder
from explorer.media import figures
from explorer.media.files import MelodyFiles
from explorer.media.storage import RenderStore
from explorer.session.blend import BlendActions
from explorer.session.collections import CollectionActions
from explorer.session.compose import ComposeActions
from explorer.session.corpus import CorpusActions
from explorer.session.learn import LearnActions
from explorer.session.starred import HistoryActions
from explorer.session.transform import TransformActions
from explorer.session.upload import UploadActions
from vae.fidelity import DETAIL_FOLLOW


class Handlers(CorpusActions, UploadActions, BlendActions, TransformActions, ComposeActions, HistoryActions,
               CollectionActions, LearnActions):
    """The explorer's actions over a shared latent space; files go to a private temporary folder."""

    def __init__(self, services: LatentSpace, soundfont: str | Path | None = None, out_dir: Path | None = None):
        self.s = services
        self.store = RenderStore(out_dir)
        self.out_dir = self.store.folder
        self.files = MelodyFiles(services.format, self.store, soundfont)  # WAV and MIDI of every render
        self.labels = self.s.direction_labels()
        self.map_max_points = figures.MAP_POINTS_MAX  # more tunes than this: the map draws a density and a sample
        self._map_figures: dict = {}  # (colouring, map_max_points) -> the map's figure without its markers
        self.detail_follow = DETAIL_FOLLOW  # how an upload's detail follows a slider move (bench.slider_uploads)

    def use_space(self, services: LatentSpace) -> None:
        """Serve from another latent space of the same model (the corpus with a collection joined), or of a model
        with the same encoder (a fine-tuned decoder: explorer.session.learn), so every session's z stays valid:
        its slider labels, and the map drawn afresh."""
        if services.model is not self.s.model and not same_encoder(services.model, self.s.model):
            raise ValueError("use_space keeps the encoder: a space of another one would move every session's melody")
        self.s = services
        self.labels = services.direction_labels()
        self._map_figures = {}
        self.__dict__.pop("_map_data", None)  # explorer.session.corpus builds it (and its hover text) on first use
        self.__dict__.pop("_map_hover", None)
