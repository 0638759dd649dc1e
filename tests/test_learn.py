"""Learn my style (explorer.session.learn): the tiny model fine-tuned on a saved collection in a thread, saved in
the collection's folder, stoppable and resumable, and served by the explorer with every encoding reused."""

from __future__ import annotations

import copy
import inspect
import shutil
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
from gradio.blocks import convert_component_dict_to_list

from explorer.errors import UserError
from explorer.latent import collections as col
from explorer.latent.swap import same_encoder
from explorer.session import learn
from explorer.session.handlers import Handlers
from vae.checkpoint import data_config, read_meta
from vae.controls import CONTROLS_FILE
from vae.corpus import music21_jobs
from vae.finetune import CURVE_FILE, FinetuneConfig
from vae.inference import TrainedModel

NAME = "Ryan tunes"
# a few steps of small batches: the behaviour, not the music (bench/finetune.md measures that)
QUICK = FinetuneConfig(minutes=5.0, mix=0.5, adapt="decoder", batch_size=8, valid_windows=16, max_steps=3)
WAIT = 600  # seconds a test waits for a run before failing (a run here takes a few)


@pytest.fixture(scope="module")
def saved(tiny_services, tmp_path_factory):
    """A saved collection of six bundled Ryan's Mammoth tunes (the tiny model never saw them), and its root."""
    root = tmp_path_factory.mktemp("learn_collections")
    paths = [j.path for j in music21_jobs(("ryans",))[:6]]
    coll, report = col.read_collection(NAME, paths, data_config(tiny_services.model.meta), root=root)
    assert coll is not None and coll.windows > 0, report
    return coll, root


def handlers(tiny_services, saved, tmp_path) -> Handlers:
    """Actions over the tiny corpus with the collection joined, saving collections under the fixture's root."""
    coll, root = saved
    shutil.rmtree(learn.model_folder(coll), ignore_errors=True)  # every test starts from the base model
    h = Handlers(tiny_services, out_dir=tmp_path / "files")
    h.collections_root = root
    h.use_space(col.join(tiny_services, [coll], threads=1))
    return h


def finished(run: learn.LearnRun) -> dict:
    assert run.wait(WAIT), "the run did not end"
    assert not run.error, run.error
    assert run.result is not None
    return run.result


def decoder_weight(model) -> torch.Tensor:
    return model.model.out.weight.detach().clone()


def test_a_run_saves_a_loadable_checkpoint_and_the_explorer_switches_to_it(tiny_services, saved, tmp_path):
    h = handlers(tiny_services, saved, tmp_path)
    coll = saved[0]
    before_space, old_model = h.s, h.s.model
    run = h.start_learning(NAME, 2, config=QUICK)
    r = finished(run)
    last = coll.folder / "model" / "last"
    assert r["checkpoint"] == str(last) and r["steps"] == 3 and not r["stopped"] and not r["resumed"]
    assert read_meta(last)["extra"]["finetune"]["steps"] == 3
    loaded = TrainedModel.load(last)  # loadable like any other checkpoint
    assert (last / CONTROLS_FILE).exists()  # the sliders come with it: a start with it does not measure them
    # the explorer serves the new model: the decoder learned, the encoder and every encoding are the same
    assert h.s.model is not old_model and h.s.checkpoint == last
    assert not torch.equal(decoder_weight(h.s.model), decoder_weight(old_model))
    assert torch.equal(decoder_weight(h.s.model), decoder_weight(loaded))
    assert same_encoder(h.s.model, old_model) and r["reused_encodings"]
    assert h.s.index.mu is before_space.index.mu and h.s.base.index.mu is before_space.base.index.mu
    assert h.s.collections == before_space.collections and len(h.s.corpus) == len(before_space.corpus)
    np.testing.assert_array_equal(h.s.encode(coll.corpus.tokens[:4]), before_space.encode(coll.corpus.tokens[:4]))
    assert h.s.index.key != before_space.index.key  # filed under the new weights' key
    tokens = h.s.decode(before_space.index.mu[:2])  # it decodes with the new decoder
    np.testing.assert_array_equal(tokens, loaded.decode(before_space.index.mu[:2]))
    # what the page shows: before -> after, the curve from minute 0, and how to start with it next time
    assert set(r["before"]) >= {"collection", "base"} and set(r["after"]) == {"collection", "base"}
    text = h.learn_status(run)
    assert "3 steps" in text and learn.start_command(NAME) in text and str(last) in text
    fig = h.learn_figure(run)
    mine, folk = fig["data"]
    assert mine["x"][0] == 0 and len(mine["x"]) == 2 and len(folk["y"]) == 2


def test_a_second_start_continues_the_last_checkpoint(tiny_services, saved, tmp_path):
    h = handlers(tiny_services, saved, tmp_path)
    coll = saved[0]
    first = finished(h.start_learning(NAME, 1, config=QUICK))
    after_first = decoder_weight(h.s.model)
    r = finished(h.start_learning(NAME, 1, config=replace(QUICK, max_steps=2)))
    last = coll.folder / "model" / "last"
    assert r["resumed"] and r["steps"] == 2 and read_meta(last)["extra"]["finetune"]["steps"] == 5
    assert r["before"] == first["before"]  # the curve starts at the model before the first run
    assert not torch.equal(decoder_weight(h.s.model), after_first)
    rows = (coll.folder / "model" / CURVE_FILE).read_text().strip().splitlines()
    assert len(rows) == 1 + 2  # header, then one validation per run
    assert len(h.learn_figure()["data"][0]["x"]) == 3


def test_stop_ends_a_run_early_and_leaves_a_loadable_checkpoint(tiny_services, saved, tmp_path, monkeypatch):
    h = handlers(tiny_services, saved, tmp_path)
    old_model = h.s.model
    training = threading.Event()
    real = learn.finetune

    def watched(*args, should_stop, **kwargs):  # tells the test when the steps have begun
        def check() -> bool:
            training.set()
            return should_stop()

        return real(*args, should_stop=check, **kwargs)

    monkeypatch.setattr(learn, "finetune", watched)
    run = h.start_learning(NAME, 15, config=replace(QUICK, max_steps=None))  # would train for 15 minutes
    assert training.wait(WAIT)
    assert h.stop_learning() is run and "Stopping" in h.learn_status(run)
    r = finished(run)
    assert r["stopped"] and r["minutes"] < 15
    last = learn.learned_checkpoint(saved[0])
    assert last is not None and TrainedModel.load(last).latent_dim == old_model.latent_dim
    assert h.s.model is not old_model and same_encoder(h.s.model, old_model)
    assert "stopped after" in h.learn_status(run)
    assert h.stop_learning() is None  # nothing runs any more


def test_learning_is_refused_on_a_shared_deployment_and_for_bad_input(tiny_services, saved, tmp_path):
    h = handlers(tiny_services, saved, tmp_path)
    h.add_collections = False
    with pytest.raises(UserError, match="on your own computer"):
        h.start_learning(NAME, 5, config=QUICK)
    assert h.saved_collection_names() == [] and h.learn_status() == learn.HOSTED_LEARN
    h.add_collections = True
    assert h.saved_collection_names() == [NAME]
    with pytest.raises(UserError, match="no saved collection"):
        h.start_learning("Nobody's songs", 5, config=QUICK)
    with pytest.raises(UserError, match="1 to 15 minutes"):
        h.start_learning(NAME, 20, config=QUICK)
    assert h.learning is None and learn.learned_checkpoint(saved[0]) is None


def test_a_model_with_another_encoder_is_not_served_as_the_same_map(tiny_services, lively_model):
    """use_space takes a fine-tuned decoder, never a model whose z would mean something else."""
    h = Handlers(tiny_services)
    assert same_encoder(lively_model, tiny_services.model)  # the lively model changed only the decoder's input
    changed = TrainedModel(copy.deepcopy(lively_model.model), lively_model.meta)
    with torch.no_grad():
        changed.model.to_mu.weight.add_(1.0)
    assert not same_encoder(changed, tiny_services.model)
    with pytest.raises(ValueError, match="keeps the encoder"):
        h.use_space(tiny_services.swapped(changed))
    h.use_space(tiny_services.swapped(lively_model))
    assert h.s.model is lively_model


def test_the_tab_wires_start_stop_and_the_curve(tiny_services, saved, tmp_path):
    from explorer import ui

    h = handlers(tiny_services, saved, tmp_path)
    h.learn_config = QUICK
    demo = ui.build_ui(tiny_services, handlers=h)
    by_id = {b.elem_id: b for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    for elem_id in ("learn-collection", "learn-minutes", "learn-start", "learn-stop", "learn-status", "learn-curve"):
        assert elem_id in by_id
    minutes = by_id["learn-minutes"]
    assert (minutes.minimum, minutes.maximum, minutes.value) == (1, 15, 5)

    def event(elem_id):
        return next(d for d in demo.fns.values() if any(t[0] == by_id[elem_id]._id for t in d.targets))

    def ids(blocks):
        return {demo.blocks[b if isinstance(b, int) else b._id].elem_id for b in blocks}

    start, stop = event("learn-start"), event("learn-stop")
    assert start.api_name == "learn_style"
    assert {"learn-collection", "learn-minutes", "learn-resweep"} <= ids(start.inputs)
    assert {"learn-status", "learn-curve", "pc-1"} <= ids(start.outputs)
    assert inspect.isgeneratorfunction(start.fn)  # reports while it runs
    assert stop.api_name == "stop_learning" and ids(stop.outputs) == {"learn-status"}
    # Start followed to the end: progress while it runs, then the new model's slider labels
    data = {demo.blocks[b if isinstance(b, int) else b._id]: None for b in start.inputs}
    for comp in list(data):
        data[comp] = {"learn-collection": NAME, "learn-minutes": 1, "learn-resweep": False}.get(comp.elem_id,
                                                                                                 comp.value)
    updates = list(start.fn(data))
    outs = [demo.blocks[b if isinstance(b, int) else b._id] for b in start.outputs]
    status, curve, *sliders = convert_component_dict_to_list(outs, updates[-1])
    assert "3 steps" in status and learn.start_command(NAME) in status
    assert "Learning" in curve.plot or "accuracy" in curve.plot
    assert len(sliders) == h.slider_count and sliders[0]["label"] == h.labels[0]["label"]
    assert h.learning.result is not None and h.s.checkpoint == learn.learned_checkpoint(saved[0])
