"""The built-in "Pop" collection: POP909's sung lines (songs 401-699) shipped as derived windows
(vae/pretrained/pop909-windows.npz), joined to the map, the neighbours and the style moves, with its held-out split.

Runs on the shipped file alone: nothing here needs ../shared/data/pop909-dev."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.errors import UserError
from explorer.latent import collections as col
from vae import pop909
from vae.constants import FIRST_NOTE_ON
from vae.corpus import TEST, TRAIN, VALID, Corpus


@pytest.fixture(scope="module")
def shipped() -> Corpus:
    return pop909.load_windows()


def test_the_shipped_windows_are_small_sung_lines_of_songs_401_to_699_with_a_held_out_split(shipped):
    size = pop909.WINDOWS.stat().st_size
    assert 20_000 < size < 2_000_000  # small enough to commit, big enough to hold the songs
    songs = {m["song"] for m in shipped.tunes}
    assert len(songs) >= 250 and min(songs) >= 401 and max(songs) <= 699  # nothing of 700-909, which stays held out
    assert shipped.tokens.shape[1] == 64 and shipped.tokens.dtype == np.uint8 and shipped.tokens.max() < 90
    assert (shipped.tokens >= FIRST_NOTE_ON).sum(axis=1).min() >= 2  # every window sings something
    assert len(shipped.tune) == len(shipped.start) == len(shipped.split) == len(shipped)
    assert shipped.tune.max() == len(shipped.tunes) - 1 and (np.diff(shipped.tune) >= 0).all()
    counts = np.bincount(shipped.split, minlength=3)
    assert counts[TRAIN] > 10 * counts[VALID] > 0 and counts[TEST] > 0  # the fine-tune's own split, kept
    for m in shipped.tunes[:50]:
        assert m["collection"] == "Pop" and m["title"].startswith(f"POP909 song {m['song']}")
        assert m["split"] in ("train", "valid", "test")
    # a tune is on one side of the split
    for t in range(len(shipped.tunes)):
        assert len(np.unique(shipped.split[shipped.tune == t])) == 1


def test_the_attribution_travels_beside_the_windows():
    text = pop909.ATTRIBUTION.read_text()
    for words in ("POP909", "Wang", "ISMIR 2020", "MIT", "copyrighted", "non-commercial", "401-699", "python -m vae.pop909"):
        assert words in text


def _tiny_pop(shipped: Corpus, songs: int = 4) -> Corpus:
    """The shipped windows of a few songs, with held-out tunes among them."""
    held = sorted({t for t in range(len(shipped.tunes)) if shipped.tunes[t]["split"] != "train"})[:2]
    train = [t for t in range(len(shipped.tunes)) if shipped.tunes[t]["split"] == "train"][:songs]
    return shipped.subset_tunes(np.array(sorted(held + train)))


def test_windows_round_trip_and_only_songs_401_to_699_may_be_shipped(shipped, tmp_path):
    small = _tiny_pop(shipped)
    raw = Corpus(small.tokens, small.tune, small.start, small.split,
                 [{"source": f"{m['song']:03d}.mid"} for m in small.tunes], {"settings": {"window_bars": 4}}, tmp_path)
    path = pop909.save_windows(raw, tmp_path / "pop.npz")
    back = pop909.load_windows(path)
    assert np.array_equal(back.tokens, small.tokens) and np.array_equal(back.split, small.split)
    assert np.array_equal(back.tune, small.tune) and np.array_equal(back.start, small.start)
    assert [m["song"] for m in back.tunes] == [m["song"] for m in small.tunes]
    assert (tmp_path / "pop.md").read_text() == pop909.ATTRIBUTION_TEXT
    raw.tunes[0] = {"source": "712.mid"}
    with pytest.raises(ValueError, match="401-699"):
        pop909.save_windows(raw, tmp_path / "held.npz")


def test_pop_is_a_built_in_name_a_collection_of_yours_cannot_take():
    for name in ("Pop", "pop", "Reels", "Chorales"):
        with pytest.raises(UserError, match="corpus's own"):
            col.check_name(name)
    assert col.check_name("My pop songs") == "My pop songs"


@pytest.fixture(scope="module")
def small_pop(shipped, tmp_path_factory, monkeypatch_module):
    """A shipped-windows file of a few songs, put where the package looks for it."""
    small = _tiny_pop(shipped)
    raw = Corpus(small.tokens, small.tune, small.start, small.split,
                 [{"source": f"{m['song']:03d}.mid"} for m in small.tunes], {"settings": {}}, small.path)
    path = pop909.save_windows(raw, tmp_path_factory.mktemp("pretrained") / "pop909-windows.npz")
    monkeypatch_module.setattr(pop909, "WINDOWS", path)
    return pop909.load_windows(path)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def with_pop(tiny_checkpoint, tiny_model, small_corpus, explorer_cache, small_pop):
    from explorer.latent.space import LatentSpace

    return LatentSpace.build(tiny_checkpoint, small_corpus, explorer_cache, progress=False, threads=1,
                             model=tiny_model, sweep_n=12, sweep_pairs=1500, builtins=True)


def test_a_corpus_handed_in_gets_no_built_in_collection_unless_asked(tiny_services, with_pop, small_pop):
    assert "Pop" not in tiny_services.style_names and not tiny_services.collections
    assert [c.name for c in with_pop.collections] == ["Pop"] and with_pop.collections[0].builtin
    assert len(with_pop.corpus) == len(tiny_services.corpus) + len(small_pop)
    # its latents are cached with the explorer's caches, never beside the shipped file
    assert with_pop.collections[0].folder != pop909.WINDOWS.parent
    assert not list(pop909.WINDOWS.parent.glob("latents-*"))


def test_pop_is_on_the_map_in_the_neighbours_and_a_style_to_move_toward(with_pop, small_pop):
    assert "Pop" in with_pop.style_names
    data = with_pop.map_figure_data()
    assert (data["collection"] == "Pop").sum() == len(small_pop.tunes)
    n0 = len(with_pop.base.corpus)
    row = n0 + int(np.nonzero((small_pop.split == TRAIN) & ((small_pop.tokens >= FIRST_NOTE_ON).sum(1) >= 6))[0][0])
    w = with_pop.window(row)
    song = small_pop.tunes[int(small_pop.tune[row - n0])]["song"]
    assert w["collection"] == "Pop" and w["title"].startswith(f"POP909 song {song}")
    near = with_pop.neighbours(w["mu"], k=3)
    assert near[0]["window"] == row and near[0]["title"].startswith("POP909 song") and near[0]["collection"] == "Pop"
    moved = with_pop.move_to_style(with_pop.window(0)["mu"], "Pop")
    assert moved.shape == (with_pop.latent_dim,)
    assert with_pop.style_of(moved)["Pop"] > with_pop.style_of(with_pop.window(0)["mu"])["Pop"]


def test_pop_keeps_its_held_out_split_out_of_the_styles_and_the_copy_check(with_pop, small_pop):
    n0 = len(with_pop.base.corpus)
    assert np.array_equal(with_pop.corpus.split[n0:], small_pop.split)
    assert np.array_equal(with_pop.index.split[n0:], small_pop.split)
    k = with_pop.styles.names.index("Pop")
    assert with_pop.styles.counts[k] == int((small_pop.split == TRAIN).sum())
    held = n0 + np.nonzero(small_pop.split != TRAIN)[0]
    train = n0 + np.nonzero(small_pop.split == TRAIN)[0]
    rows = set(with_pop.originality_index.corpus_row.tolist())
    assert rows.isdisjoint(held.tolist()) and rows.issuperset(train.tolist())


def test_pop_stays_when_your_collection_joins(with_pop, tiny_services, small_corpus, tmp_path):
    mine = col.Collection("Mine", tmp_path, small_corpus.subset_tunes(np.array([0, 1])))
    # new dicts: the subset shares its tunes' dicts with the session's small corpus, which other tests read
    mine.corpus.tunes = [{**t, "collection": "Mine"} for t in mine.corpus.tunes]
    joined = col.join(with_pop, [mine], threads=1)
    assert [c.name for c in joined.collections] == ["Pop", "Mine"]
    assert {"Pop", "Mine"} <= set(joined.style_names)
    again = col.join(joined.base, list(joined.collections), threads=1)  # as the page joins one more of yours
    assert [c.name for c in again.collections] == ["Pop", "Mine"]


def test_every_map_gives_pop_and_each_style_a_colour_of_its_own(with_pop, tmp_path):
    """The map as every screen draws it (Handlers.map_figure: page load, upload, Map tab, your collection) colours
    each style's trace in its own colour (explorer.latent.styles.style_color), Pop included."""
    from explorer.latent.styles import style_color
    from explorer.session.handlers import Handlers

    h = Handlers(with_pop, out_dir=tmp_path)
    d = with_pop.map_figure_data()
    fig = h.map_figure("collection")
    traces = {t["name"]: t["marker"]["color"] for t in fig["data"] if t.get("name") in set(d["collection"])}
    assert traces["Pop"] == style_color("Pop") and len(set(traces.values())) == len(traces)
    assert "#777" not in traces.values()
