"""Shared fixtures: a small real corpus from the bundled music21 files and a tiny model trained on it."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from contextlib import contextmanager  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from vae.config import get_preset  # noqa: E402
from vae.corpus import build_corpus, music21_jobs  # noqa: E402
from vae.tokenizer import Note  # noqa: E402


def notes(*triples: tuple[int, int, int]) -> list[Note]:
    """Build a note list from (pitch, start_step, end_step) tuples."""
    return [Note(*t) for t in triples]


def small_jobs():
    """A real subset of the bundled corpus: 3 O'Neill books, 2 Essen books, 30 Bach chorales, 1 Aird book."""
    return (music21_jobs(("oneills",))[:3] + music21_jobs(("essen",))[:2] + music21_jobs(("bach",))[:30]
            + music21_jobs(("airds",))[:1])


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    cfg = get_preset("tiny").data
    return build_corpus(cfg, small_jobs(), tmp_path_factory.mktemp("corpus"), workers=2, progress=False)


@pytest.fixture(scope="session")
def tiny_checkpoint(small_corpus, tmp_path_factory) -> Path:
    from vae.train import train

    out = tmp_path_factory.mktemp("tiny_run")
    tiny = get_preset("tiny")
    # validated once, at the end: the tiny preset validates every 12 s of wall time, so "best" would be the
    # step a busy or a fast machine happened to reach then (and the tests would see another model on each)
    once = replace(tiny, train=replace(tiny.train, valid_every_minutes=1e9))
    train(once, out, corpus=small_corpus, max_steps=120, progress=False, threads=1)
    return out / "best"


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint):
    from vae.inference import TrainedModel

    return TrainedModel.load(tiny_checkpoint)


@pytest.fixture(scope="session")
def lively_checkpoint(tiny_model, tmp_path_factory) -> Path:
    """The tiny model with its decoder made to listen to z (random weights added on the context inputs).

    The tiny model's own greedy melodies are silent, so an empty MIDI file, a zero event accuracy or two
    reconstructions compared would pass for it; this one plays notes that differ from one z to the next.
    """
    import copy

    import torch

    from vae.checkpoint import save_checkpoint

    model = copy.deepcopy(tiny_model.model)
    with torch.no_grad():
        w = model.decoder.weight_ih_l0
        e = model.cfg.embed_dim  # the decoder's input is [previous token embedding, context]
        w[:, e:] += torch.randn(w[:, e:].shape, generator=torch.Generator().manual_seed(0))
    tiny = get_preset("tiny")
    path = tmp_path_factory.mktemp("lively") / "ck"
    save_checkpoint(path, model, tiny.data, tiny.train, step=1)
    return path


@pytest.fixture(scope="session")
def lively_model(lively_checkpoint):
    from vae.inference import TrainedModel

    return TrainedModel.load(lively_checkpoint)


@pytest.fixture(scope="session")
def explorer_cache(tmp_path_factory) -> Path:
    """The explorer's index/feature cache folder, shared by every test that builds services."""
    return tmp_path_factory.mktemp("explorer_cache")


@pytest.fixture(scope="session")
def tiny_services(tiny_checkpoint, tiny_model, small_corpus, explorer_cache):
    """LatentSpace over the tiny model and the small corpus (built once per session)."""
    from explorer.latent.space import LatentSpace

    return LatentSpace.build(tiny_checkpoint, small_corpus, explorer_cache, progress=False, threads=1,
                                  model=tiny_model, sweep_n=12, sweep_pairs=1500)


@pytest.fixture(scope="module")
def h(tiny_services, tmp_path_factory):
    """The explorer's actions (explorer.session.handlers.Handlers) over the tiny services, one per test module,
    writing into a folder of its own."""
    from explorer.session.handlers import Handlers

    return Handlers(tiny_services, out_dir=tmp_path_factory.mktemp("handler_files"))


@pytest.fixture(scope="session")
def shipped_services():
    """LatentSpace over the shipped model and corpus, built once for every module that needs real melodies (it
    takes seconds and ~0.5 GB to build)."""
    from explorer.latent.space import LatentSpace
    from vae.paths import SHIPPED

    return LatentSpace.build(SHIPPED, progress=False)


@pytest.fixture(scope="session")
def shipped_handlers(shipped_services, tmp_path_factory):
    """The explorer's actions over the shipped services (one for the session)."""
    from explorer.session.handlers import Handlers

    return Handlers(shipped_services, out_dir=tmp_path_factory.mktemp("shipped_files"))


@pytest.fixture(scope="session")
def shipped_waypoints(shipped_handlers):
    """A session (immutable: shared by the Compose modules) with three held-out corpus windows of 8 note-ons or more
    as Compose waypoints, on the shipped model."""
    return held_out_waypoints(shipped_handlers)


def held_out_waypoints(h, n: int = 3, min_notes: int = 8):
    """A session with n held-out corpus windows of min_notes note-ons or more as Compose waypoints."""
    import numpy as np

    from explorer.media.files import Playback
    from explorer.session.state import new_state
    from vae.constants import FIRST_NOTE_ON
    from vae.corpus import TEST

    s = h.s
    ok = np.flatnonzero((s.index.split == TEST) & ((s.corpus.tokens >= FIRST_NOTE_ON).sum(1) >= min_notes))
    st = new_state()
    for w in ok[:: len(ok) // n][:n]:
        st, _ = h.load_window(st, int(w), Playback())
        st = h.add_waypoint(st)
    return st


def busy_train_window(corpus, min_notes: int = 12, after: int = 0) -> int:
    """The first training window from row `after` on that starts with a note and has >= `min_notes` note-ons."""
    import numpy as np

    from vae.constants import FIRST_NOTE_ON
    from vae.corpus import TRAIN

    tok = corpus.tokens
    ok = (corpus.split == TRAIN) & (tok[:, 0] >= FIRST_NOTE_ON) & ((tok >= FIRST_NOTE_ON).sum(1) >= min_notes)
    return int(np.nonzero(ok[after:])[0][0]) + after


def window_midi(corpus, window: int, path: Path) -> Path:
    """Corpus window `window` written as a one-track MIDI file (reads back to the same tokens)."""
    from vae.midi_export import notes_to_midi
    from vae.tokenizer import MelodyTokenizer

    notes_to_midi(MelodyTokenizer().decode(corpus.tokens[window]), path)
    return path


def band_midi(path: Path, melody: list[Note]) -> Path:
    """A 4-track song (drums on channel 10, bass, chords, then the melody on a flute track), written by the
    product's own writer (vae.midi_export.tracks_to_midi)."""
    from vae.midi_export import Track, tracks_to_midi

    drums = [Note(p, s, s + 1) for s in range(0, 64, 4) for p in (36, 42)]
    bass = [Note(p, s, s + 8) for s, p in zip(range(0, 64, 8), [36, 43, 41, 43, 36, 41, 43, 36], strict=True)]
    chords = [Note(p + r, s, s + 8) for s, p in zip(range(0, 64, 8), [60, 65, 67, 60, 60, 65, 67, 60], strict=True)
              for r in (0, 4, 7)]
    tracks_to_midi([Track(drums, 0, "Drums", drums=True), Track(bass, 33, "Bass"), Track(chords, 0, "Piano"),
                    Track(melody, 73, "Melody")], path)
    return path


@contextmanager
def live_explorer(services, cache: Path, handlers=None, env: dict | None = None, **build):
    """The real Gradio app over `services`, served in this process on a free loopback port, its Gradio cache in
    `cache` and `env` set while it runs (both restored after). `handlers` default to the app's own (renders inside
    the cache); `build` goes to explorer.ui.build_ui (add_collections=False: a hosted page).

    Yields an object with `url`, `demo`, `handlers` and `services`; the server is closed at the end."""
    import socket
    from types import SimpleNamespace

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    env = {"GRADIO_TEMP_DIR": str(cache), **(env or {})}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from explorer import ui
        from explorer.session.handlers import Handlers

        # as the app does (explorer.ui.page.build_ui): renders inside the Gradio cache, so they are not copied
        if handlers is None:
            handlers = Handlers(services, out_dir=cache / "renders")
        demo = ui.build_ui(services, handlers=handlers, **build)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ui.launch(demo, port=port, prevent_thread_lock=True, quiet=True)
        try:
            yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", demo=demo, handlers=handlers, services=services)
        finally:
            demo.close()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def explorer_server(tiny_services, tmp_path_factory):
    """The real Gradio app over the tiny services (live_explorer), one for the session."""
    with live_explorer(tiny_services, tmp_path_factory.mktemp("gradio_cache")) as server:
        yield server


@pytest.fixture(scope="module")
def page(explorer_server, tmp_path_factory):
    """A Chromium tab on the live explorer (tests/browser_support.py), one per test module: the tests of a module
    run on it in order, like a user; its script errors collect in `page.page_errors`."""
    from browser_support import ARTIFACTS, chromium_context, first_page, open_explorer

    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_context(tmp_path_factory.mktemp("chromium")) as ctx:
        pg = first_page(ctx)
        open_explorer(pg, explorer_server.url)  # so that each test also runs on its own
        yield pg


@pytest.fixture
def chromium(tmp_path):
    """A fresh Chromium context of this test's own, no page opened yet (tests/browser_support.py)."""
    from browser_support import chromium_context

    with chromium_context(tmp_path / "chromium") as ctx:
        yield ctx
