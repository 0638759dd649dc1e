"""Your collections renamed and deleted (files, page, command line), and Random drawn from a collection on the map."""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from gradio.blocks import convert_component_dict_to_list

from explorer.errors import UserError
from explorer.latent import collections as col
from vae.checkpoint import data_config
from vae.corpus import music21_jobs


@pytest.fixture(scope="module")
def tunes(tmp_path_factory) -> list[Path]:
    """Six Ryan's Mammoth tunes as ABC files, which the tests' tiny corpus does not hold."""
    out = tmp_path_factory.mktemp("manage_files")
    return [Path(shutil.copy(j.path, out)) for j in music21_jobs(("ryans",))[30:36]]


@pytest.fixture(scope="module")
def cfg(tiny_services):
    return data_config(tiny_services.model.meta)


def _two(tunes, cfg, root) -> tuple[col.Collection, col.Collection]:
    a, _ = col.read_collection("Mine A", tunes[:3], cfg, root=root)
    b, _ = col.read_collection("Mine B", tunes[3:], cfg, root=root)
    return a, b


def test_rename_moves_everything_and_keeps_the_encodings_and_the_learned_model(tiny_services, tunes, cfg, tmp_path):
    a, b = _two(tunes, cfg, tmp_path)
    col.encoded(tiny_services, a)  # cached in its folder
    (a.folder / "model" / "last").mkdir(parents=True)
    (a.folder / "model" / "last" / "checkpoint.json").write_text("{}")
    renamed = col.rename_collection("Mine A", "  Reels of mine ", tmp_path)
    assert renamed.name == "Reels of mine" and col.saved_collections(tmp_path) == ["Mine B", "Reels of mine"]
    assert {m["collection"] for m in renamed.corpus.tunes} == {"Reels of mine"}
    assert json.loads((renamed.folder / "collection.json").read_text())["name"] == "Reels of mine"
    assert np.array_equal(renamed.corpus.tokens, a.corpus.tokens)
    assert (renamed.folder / "model" / "last" / "checkpoint.json").exists() and not a.folder.exists()
    assert col.latents_path(tiny_services.base.index.key, renamed).exists()  # no encoding again
    joined = col.join(tiny_services, [renamed, col.load_collection("Mine B", tmp_path)], threads=1)
    assert "Reels of mine" in joined.style_names and "Mine A" not in joined.style_names
    assert set(joined.map_figure_data()["collection"]) >= {"Reels of mine", "Mine B"}
    # the other collection is untouched
    assert np.array_equal(col.load_collection("Mine B", tmp_path).corpus.tokens, b.corpus.tokens)


@pytest.mark.parametrize("taken", ["Pop", "pop", "Reels", "jigs", "essen", "Mine B", "mine b", "../x", ""])
def test_a_rename_to_a_taken_or_unusable_name_is_refused_with_a_sentence(tunes, cfg, tmp_path, taken):
    _two(tunes, cfg, tmp_path)
    with pytest.raises(UserError) as exc:
        col.rename_collection("Mine A", taken, tmp_path)
    assert str(exc.value).endswith((".", ")")) and "\n" not in str(exc.value)
    assert col.saved_collections(tmp_path) == ["Mine A", "Mine B"]
    with pytest.raises(UserError, match="no saved collection"):
        col.rename_collection("Not mine", "Whatever", tmp_path)


def test_delete_takes_the_folder_with_its_learned_model_and_nothing_else(tunes, cfg, tmp_path):
    a, b = _two(tunes, cfg, tmp_path)
    (a.folder / "model" / "last").mkdir(parents=True)
    col.delete_collection("Mine A", tmp_path)
    assert col.saved_collections(tmp_path) == ["Mine B"] and not a.folder.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["Mine B"]  # no trash left behind
    assert np.array_equal(col.load_collection("Mine B", tmp_path).corpus.tokens, b.corpus.tokens)
    with pytest.raises(UserError, match="no saved collection"):
        col.delete_collection("Mine A", tmp_path)


# --- the page's actions -----------------------------------------------------------------------------------
@pytest.fixture
def hh(tiny_services, tmp_path):
    from explorer.session.handlers import Handlers

    h = Handlers(tiny_services, out_dir=tmp_path / "renders")
    h.collections_root = tmp_path / "collections"
    return h


def test_the_page_renames_and_deletes_and_the_map_and_styles_follow_at_once(hh, tunes, tiny_services):
    hh.add_collection("Mine A", [str(p) for p in tunes[:3]])
    hh.add_collection("Mine B", [str(p) for p in tunes[3:]])
    assert {"Mine A", "Mine B"} <= set(hh.s.style_names)
    folder_a = hh.collections_root / "Mine A"
    (folder_a / "model" / "last").mkdir(parents=True)
    (folder_a / "model" / "last" / "checkpoint.json").write_text("{}")
    sentence = hh.rename_saved_collection("Mine A", "Tunes of mine")
    assert "now called **Tunes of mine**" in sentence
    assert "Tunes of mine" in hh.s.style_names and "Mine A" not in hh.s.style_names
    names = {t.get("name") for t in hh.map_figure("collection")["data"]}
    assert "Tunes of mine" in names and "Mine A" not in names and "Mine B" in names
    with pytest.raises(UserError, match="already a collection"):
        hh.rename_saved_collection("Tunes of mine", "MINE B")
    ask = hh.delete_summary("Tunes of mine")
    assert "with the model that learned its style" in ask and "Mine B" not in ask
    assert "the model that learned its style" not in hh.delete_summary("Mine B")
    n_before = len(hh.s.corpus)
    a_windows = next(c.windows for c in hh.s.collections if c.name == "Tunes of mine")
    said = hh.delete_saved_collection("Tunes of mine")
    assert "deleted" in said and "model that learned its style" in said and "left the map" in said
    assert [c.name for c in hh.s.collections if not c.builtin] == ["Mine B"]
    assert "Tunes of mine" not in hh.s.style_names and "Mine B" in hh.s.style_names
    assert len(hh.s.corpus) == n_before - a_windows
    assert hh.saved_collection_names() == ["Mine B"]
    hh.delete_saved_collection("Mine B")
    assert hh.s is tiny_services.base and hh.saved_collection_names() == []


def test_a_collection_being_learned_or_played_is_not_pulled_away(hh, tunes):
    from types import SimpleNamespace

    hh.add_collection("Mine A", [str(p) for p in tunes[:3]])
    hh.learning = SimpleNamespace(running=True, name="Mine A")
    with pytest.raises(UserError, match="learning 'Mine A' now"):
        hh.delete_saved_collection("Mine A")
    hh.learning = None
    played = hh.s.checkpoint
    try:
        hh.s.checkpoint = hh.collections_root / "Mine A" / "model" / "last"
        with pytest.raises(UserError, match="without --learned"):
            hh.rename_saved_collection("Mine A", "Other")
    finally:
        hh.s.checkpoint = played
    assert hh.saved_collection_names() == ["Mine A"]


def test_a_shared_demo_refuses_rename_and_delete(hh, tunes):
    from explorer.session.collections import HOSTED

    hh.add_collection("Mine A", [str(p) for p in tunes[:3]])
    hh.add_collections = False
    for act in (lambda: hh.delete_saved_collection("Mine A"), lambda: hh.rename_saved_collection("Mine A", "X")):
        with pytest.raises(UserError) as exc:
            act()
        assert str(exc.value) == HOSTED
    assert (hh.collections_root / "Mine A").exists()


def test_random_from_my_collection_draws_where_its_melodies_lie(hh, tunes, tiny_services):
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    with pytest.raises(UserError, match="Add a collection first"):
        hh.random_from_collection(new_state(), Playback(), "", 0)
    hh.add_collection("Mine A", [str(p) for p in tunes])
    rows = np.array([k for k, t in enumerate(hh.s.corpus.tune) if hh.s.corpus.tunes[t]["collection"] == "Mine A"])
    for seed in range(3):
        st, r = hh.random_from_collection(new_state(), Playback(), "Mine A", seed)
        assert st.title == f"Random from Mine A (seed {seed})" and len(r.tokens) == hh.s.format.window_steps
        assert [e.title for e in st.history] == [st.title]  # the action records what it shows, as every action does
    # each draw is one of the collection's windows, moved within its encoding's spread (shrunk here, so the window
    # it started from is the nearest of the whole corpus: the tiny test model's spreads cover its whole map)
    narrow = copy.copy(hh.s)
    narrow.index = replace(hh.s.index, sigma=hh.s.index.sigma * 1e-3)
    z = col.draw_near(narrow, "Mine A", 40, seed=1)
    nearest = np.linalg.norm(hh.s.index.mu[None] - z[:, None], axis=2).argmin(1)
    assert np.isin(nearest, rows).all() and len(set(nearest)) > 5
    plain = hh.s.sample(40, 0.0, 1)[0]  # the page's Random lands anywhere on the map
    assert not np.isin(np.linalg.norm(hh.s.index.mu[None] - plain[:, None], axis=2).argmin(1), rows).all()
    with pytest.raises(UserError, match="not on the map"):
        hh.random_from_collection(new_state(), Playback(), "Someone else's", 0)


# --- the page's widgets and the command line ----------------------------------------------------------------
def test_the_tab_asks_before_a_delete_and_refills_its_menus(tiny_services, tunes, tmp_path):
    from explorer.session.handlers import Handlers
    from explorer.ui import build_ui

    h = Handlers(tiny_services, out_dir=tmp_path / "renders")
    h.collections_root = tmp_path / "collections"
    h.add_collection("Mine A", [str(p) for p in tunes[:3]])
    demo = build_ui(tiny_services, handlers=h, add_collections=True)
    ids = {b._id: b for b in demo.blocks.values()}
    blocks = {**ids, **{b: b for b in demo.blocks.values()}}  # a dependency holds ids or components
    by_elem = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    dep = {d.api_name: d for d in demo.fns.values()}
    ask = dep["ask_delete_collection"]
    shown, text = convert_component_dict_to_list([blocks[o] for o in ask.outputs], ask.fn("Mine A"))
    assert shown["visible"] is True and "Delete **Mine A**" in text and "not touched" in text
    delete = dep["delete_collection"]
    assert [getattr(blocks[o], "elem_id", None) for o in delete.outputs][:2] == ["collection-report", "corpus-map"]
    data = {blocks[i]: blocks[i].value for i in delete.inputs}
    data[by_elem["collection-manage"]] = "Mine A"
    out = convert_component_dict_to_list([blocks[o] for o in delete.outputs], delete.fn(data))
    assert "**Mine A** is deleted" in out[0]
    elems = [getattr(blocks[o], "elem_id", None) for o in delete.outputs]
    assert out[elems.index("collection-manage")]["choices"] == [] and out[elems.index("collection-confirm")] == {
        "__type__": "update", "visible": False}
    assert not (h.collections_root / "Mine A").exists() and "Mine A" not in h.s.style_names


def test_the_command_line_renames_and_deletes(tunes, cfg, tmp_path, capsys):
    from explorer.__main__ import main

    _two(tunes, cfg, tmp_path)
    root = ["--root", str(tmp_path)]
    assert main(["collection", "rename", "Mine A", "Pop", *root]) == 2
    assert "Pop" in capsys.readouterr().err
    assert main(["collection", "rename", "Mine A", "My reels", *root]) == 0
    assert "'My reels'" in capsys.readouterr().out
    assert main(["collection", "delete", "My reels", *root]) == 2  # not at a terminal: asks for --yes
    assert "--yes" in capsys.readouterr().err and (tmp_path / "My reels").exists()
    assert main(["collection", "delete", "My reels", "--yes", *root]) == 0
    assert main(["collection", "list", *root]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "Mine B"
