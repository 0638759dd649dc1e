"""Your own collection (explorer.latent.collections): real files read, saved, loaded back and joined to the map."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import window_midi
from gradio.blocks import convert_component_dict_to_list

from explorer.errors import UserError
from explorer.latent import collections as col
from vae.checkpoint import data_config
from vae.config import get_preset
from vae.corpus import build_corpus, music21_jobs
from vae.pop909 import DATA as POP909

NAME = "My tunes"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Real files the tiny model never saw: four Ryan's Mammoth tunes as ABC, three windows of three others
    written as MIDI, a broken MIDI file and a text file."""
    out = tmp_path_factory.mktemp("my_files")
    jobs = music21_jobs(("ryans",))
    paths = {}
    for j in jobs[:4]:
        paths[Path(j.path).name] = Path(shutil.copy(j.path, out))
    other = build_corpus(get_preset("tiny").data, jobs[10:13], tmp_path_factory.mktemp("ryans_more"), workers=1,
                         progress=False)
    for t in range(3):
        row = int(np.nonzero(other.tune == t)[0][0])
        paths[f"tune{t}.mid"] = window_midi(other, row, out / f"tune{t}.mid")
    (out / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06 this is not MIDI")
    paths["broken.mid"] = out / "broken.mid"
    (out / "notes.txt").write_text("play it slowly")
    paths["notes.txt"] = out / "notes.txt"
    return paths


@pytest.fixture(scope="module")
def cfg(tiny_services):
    return data_config(tiny_services.model.meta)


@pytest.fixture(scope="module")
def added(files, cfg, tmp_path_factory):
    """The collection made from every file at once (the broken ones included), and that add's report."""
    root = tmp_path_factory.mktemp("collections")
    coll, report = col.read_collection(NAME, list(files.values()), cfg, root=root)
    return coll, report, root


@pytest.fixture(scope="module")
def joined(tiny_services, added):
    return col.join(tiny_services, [added[0]], threads=1)


def test_a_bad_file_gets_its_sentence_and_the_good_ones_are_kept(added, files):
    coll, report, _ = added
    by_name = {f.name: f for f in report}
    assert set(by_name) == set(files)
    assert not by_name["broken.mid"].added and not by_name["notes.txt"].added
    for bad in ("broken.mid", "notes.txt"):
        sentence = by_name[bad].sentence()
        assert sentence.startswith(f"{bad}: refused — ") and sentence.endswith(".") and "\n" not in sentence
    assert "not a MIDI" in by_name["notes.txt"].problem
    good = [f for f in report if f.added]
    assert len(good) == 7 and all(f.windows > 0 for f in good)
    assert coll.windows == sum(f.windows for f in good) == len(coll.corpus.tokens)
    assert {t["collection"] for t in coll.corpus.tunes} == {NAME}
    assert sorted(p.name for p in (coll.folder / "files").iterdir()) == sorted(f.name for f in good)


def test_the_collection_joins_the_map_neighbours_styles_and_copy_check(tiny_services, joined, added):
    coll = added[0]
    n0 = len(tiny_services.corpus)
    assert len(joined.corpus) == n0 + coll.windows and len(tiny_services.corpus) == n0  # the base is untouched
    assert NAME in joined.style_names and NAME not in tiny_services.style_names
    assert joined.base is tiny_services and joined.model is tiny_services.model
    data = joined.map_figure_data()
    assert (data["collection"] == NAME).sum() == len(coll.corpus.tunes)
    # a collection window the base corpus does not hold is its own nearest neighbour, and its own copy
    base_rows = {r.tobytes() for r in tiny_services.corpus.tokens}
    row = next(n0 + i for i, r in enumerate(coll.corpus.tokens) if r.tobytes() not in base_rows and (r >= 2).sum() >= 6)
    w = joined.window(row)
    assert w["collection"] == NAME and w["split"] == "train"
    near = joined.neighbours(w["mu"], k=3)
    assert near[0]["window"] == row and near[0]["collection"] == NAME
    assert joined.originality(w["tokens"])["collection"] == NAME
    assert joined.originality(w["tokens"])["likely_copy"]
    assert tiny_services.originality(w["tokens"])["collection"] != NAME
    assert np.isclose(sum(joined.style_of(w["mu"]).values()), 1.0)
    moved = joined.move_to_style(tiny_services.window(0)["mu"], NAME)
    assert moved.shape == (joined.latent_dim,)
    # what the base knew is where it was: the same windows, encodings and copy check
    assert np.array_equal(joined.index.mu[:n0], tiny_services.index.mu)
    assert joined.originality(tiny_services.corpus.tokens[0])["window"] >= 0


def test_handlers_swap_to_the_joined_space_and_draw_the_collection(h, tiny_services, joined):
    before = h.map_figure("collection")
    assert NAME not in {t.get("name") for t in before["data"]}
    try:
        h.use_space(joined)
        names = {t.get("name") for t in h.map_figure("collection")["data"]}
        assert NAME in names
        assert len(h.labels) == len(tiny_services.direction_labels())
    finally:
        h.use_space(tiny_services)
    assert NAME not in {t.get("name") for t in h.map_figure("collection")["data"]}


def test_saved_loaded_back_and_added_to_without_losing_anything(added, files, cfg, tiny_services):
    coll, _, root = added
    assert col.saved_collections(root) == [NAME]
    back = col.load_collection(NAME, root)
    assert np.array_equal(back.corpus.tokens, coll.corpus.tokens) and back.corpus.tunes == coll.corpus.tunes
    assert [f.name for f in back.files] == [f.name for f in coll.files]
    # encoded once per model: joining the loaded collection reads its windows' encoding from its folder
    assert list(coll.folder.glob("latents-*.npz"))
    again = col.join(tiny_services, [back], threads=1)
    assert np.allclose(again.index.mu, col.join(tiny_services, [coll], threads=1).index.mu)
    # another add: a file already there is refused, a broken one too, and nothing added before is lost
    extra = Path(shutil.copy(music21_jobs(("ryans",))[20].path, root))
    more, report = col.read_collection(NAME, [files["tune0.mid"], files["broken.mid"], extra], cfg, root=root)
    by_name = {f.name: f for f in report}
    assert "already in the collection" in by_name["tune0.mid"].problem
    assert not by_name["broken.mid"].added and by_name[extra.name].added
    assert np.array_equal(more.corpus.tokens[: coll.windows], coll.corpus.tokens)
    assert more.windows == coll.windows + by_name[extra.name].windows
    # an add where every file fails keeps the collection as it was
    kept, report = col.read_collection(NAME, [files["broken.mid"]], cfg, root=root)
    assert kept.windows == more.windows and not report[0].added
    assert not [p for p in root.iterdir() if p.name.startswith(".staging")]


def test_names_that_cannot_be_used_are_refused_with_a_sentence(tmp_path):
    for bad in ("", "../up", "a/b", "essen", "Bach chorales (soprano)", "x" * 41, ".hidden"):
        with pytest.raises(UserError):
            col.check_name(bad)
    assert col.check_name("  My songs 2 ") == "My songs 2"
    with pytest.raises(FileNotFoundError, match="collection add"):
        col.load_collection("Nothing here", tmp_path)


def _zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = 0o120777 << 16
            z.writestr(info, "/etc/passwd")
    return path


def test_a_zip_is_read_member_by_member_and_a_hostile_one_is_refused_whole(files, cfg, tmp_path):
    midi = files["tune1.mid"].read_bytes()
    good = _zip(tmp_path / "songs.zip", {"set/a.mid": midi, "set/b.MID": files["tune2.mid"].read_bytes(),
                                         "__MACOSX/set/._a.mid": b"junk", "set/inner.zip": b"PK", "set/cover.jpg": b"x",
                                         "set/reel.abc": files[next(n for n in files if n.endswith(".abc"))].read_bytes()})
    climb = _zip(tmp_path / "climb.zip", {"ok.mid": midi, "../../evil.mid": midi})
    absolute = _zip(tmp_path / "absolute.zip", {"/tmp/evil.mid": midi})
    linked = _zip(tmp_path / "linked.zip", {"ok.mid": midi}, link="passwd.mid")
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip at all")
    root = tmp_path / "collections"
    coll, report = col.read_collection("Zipped", [good, climb, absolute, linked, fake], cfg, root=root)
    by_name = {f.name: f for f in report}
    assert by_name["songs.zip/set/a.mid"].added and by_name["songs.zip/set/b.MID"].added
    assert by_name["songs.zip/set/reel.abc"].added
    assert "zip inside a zip" in by_name["songs.zip/set/inner.zip"].problem
    assert "not a MIDI" in by_name["songs.zip/set/cover.jpg"].problem
    assert not any("__MACOSX" in n for n in by_name)
    assert "leaves the archive" in by_name["climb.zip"].problem and "leaves the archive" in by_name["absolute.zip"].problem
    assert "link" in by_name["linked.zip"].problem and "not a zip" in by_name["fake.zip"].problem
    assert not any(n.startswith(("climb.zip/", "linked.zip/", "absolute.zip/")) for n in by_name)  # nothing read
    assert not (tmp_path / "evil.mid").exists() and not (root.parent / "evil.mid").exists()
    assert coll.windows == sum(f.windows for f in report if f.added) > 0
    # a zip that would unpack past the limits is refused before anything is unpacked
    big = _zip(tmp_path / "big.zip", {f"s{i}.mid": midi for i in range(5)})
    _, report = col.read_collection("Limited", [big], cfg, root=root,
                                    limits=col.Limits(max_total_bytes=len(midi) * 3))
    assert len(report) == 1 and "unpack to more than" in report[0].problem
    _, report = col.read_collection("Limited", [big], cfg, root=root, limits=col.Limits(max_files=3))
    assert "at most 3" in report[0].problem
    assert "Limited" not in col.saved_collections(root)  # nothing added: no collection made


def test_pop909_songs_become_a_collection(cfg, tmp_path):
    songs = sorted(POP909.glob("7[0-9][0-9]/7[0-9][0-9].mid"))[:2]
    if not songs:
        pytest.skip(f"POP909 songs 700-799 are not at {POP909} (../shared/data/pop909-dev beside the checkout)")
    coll, report = col.read_collection("My pop songs", songs, cfg, root=tmp_path)
    assert all(f.added for f in report), [f.sentence() for f in report]
    assert coll.windows >= 2 * 8  # a pop song's sung line holds many 4-bar windows


# --- the page, the command line and start-up ------------------------------------------------------------
def _page(tiny_services, tmp_path, add_collections: bool):
    from explorer.session.handlers import Handlers
    from explorer.ui import build_ui

    h = Handlers(tiny_services, out_dir=tmp_path / "renders")
    h.collections_root = tmp_path / "collections"
    demo = build_ui(tiny_services, handlers=h, add_collections=add_collections)
    add = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "collection-add")
    dep = next(d for d in demo.fns.values() if any(t[0] == add._id for t in d.targets))
    return demo, h, add, dep


def test_the_collection_panel_adds_files_and_updates_the_report_map_and_style_menus(tiny_services, files, tmp_path):
    demo, h, add, dep = _page(tiny_services, tmp_path, add_collections=True)
    blocks = {b._id: b for b in demo.blocks.values()}
    block = lambda x: blocks[x if isinstance(x, int) else x._id]  # noqa: E731
    outs = [block(o) for o in dep.outputs]
    assert [getattr(o, "elem_id", None) for o in outs[:3]] == ["collection-report", "collection-files", "corpus-map"]
    assert [o.label for o in outs[3:]] == ["Toward style", "Style", "Draw from", "Your saved collections"]
    assert add.interactive is not False and dep.api_name == "add_collection"
    data = {block(i): block(i).value for i in dep.inputs}
    by_elem = {getattr(k, "elem_id", None): k for k in data}
    data[by_elem["collection-files"]] = [str(files["tune0.mid"]), str(files["broken.mid"]), str(files["tune1.mid"])]
    data[by_elem["collection-name"]] = "Page tunes"
    answer = dep.fn(data, progress=lambda *a, **k: None)  # keyed by component: in the outputs' order here
    report, cleared, figure, toward, style, draw_from, manage = convert_component_dict_to_list(outs, answer)
    assert "**Page tunes**: 2 of 3 file(s) added" in report and "*Toward style*" in report
    assert "✓ tune0.mid: added" in report and "✗ broken.mid: refused — " in report
    assert cleared is None
    assert "Page tunes" in {t.get("name") for t in json.loads(figure.plot)["data"]}
    assert ("Page tunes", "Page tunes") in toward["choices"] and toward["choices"] == style["choices"]
    assert draw_from["value"] == "Page tunes" and manage["choices"] == ["Page tunes"]  # the tab's own menus
    assert h.s.collections[0].name == "Page tunes" and "Page tunes" in h.s.style_names
    assert "Page tunes" in h.collections_summary()
    # a page opened (or reloaded) after the add gets the menus and the summary as they are now
    load = next(d for d in demo.fns.values() if [block(o) for o in d.outputs][:1] == [outs[0]] and d is not dep)
    summary, *menus, draw_from, manage = convert_component_dict_to_list([block(o) for o in load.outputs], load.fn())
    assert "Page tunes" in summary and all(("Page tunes", "Page tunes") in m["choices"] for m in menus)
    assert "Page tunes" in draw_from["choices"] and manage["choices"] == ["Page tunes"]
    assert tiny_services.collections == () and "Page tunes" not in tiny_services.style_names


def test_a_shared_demo_says_where_a_collection_lives_and_saves_none(tiny_services, files, tmp_path):
    """On a shared demo a visitor's collection is their page's only (tests/test_hosted_collections.py)."""
    demo, h, add, dep = _page(tiny_services, tmp_path, add_collections=False)
    assert add.interactive is not False and h.session_key is not None
    limits = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "collection-limits")
    assert "this page only" in limits.value and "your own computer" in limits.value and "make run" in limits.value
    with pytest.raises(UserError, match="add it on the page"):  # outside a page's session (no Gradio event here)
        h.add_collection("Mine", [str(files["tune0.mid"])])
    assert not (tmp_path / "collections").exists()


def test_the_app_adds_collections_only_on_your_own_computer(monkeypatch):
    import app

    monkeypatch.delenv("SPACE_ID", raising=False)
    assert app.local_only(app.parse_args([]))
    assert not app.local_only(app.parse_args(["--auth", "me:secret"]))
    assert not app.local_only(app.parse_args(["--host", "0.0.0.0"]))
    assert not app.local_only(app.parse_args(["--share"]))
    monkeypatch.setenv("SPACE_ID", "someone/melody-explorer")
    assert not app.local_only(app.parse_args([]))
    assert app.parse_args(["--collection", "A", "--collection", "My songs"]).collection == ["A", "My songs"]


def test_the_command_line_makes_a_collection_from_a_folder_and_the_app_refuses_an_unknown_one(
        files, tiny_checkpoint, tmp_path, monkeypatch, capsys):
    import app
    from explorer.__main__ import main

    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(files["tune1.mid"], folder / "sub")
    shutil.copy(files["broken.mid"], folder)
    (folder / "readme.txt").write_text("not music")  # not offered: a folder is read for music files and zips only
    root = tmp_path / "collections"
    assert main(["collection", "add", "From folder", str(folder), "--checkpoint", str(tiny_checkpoint),
                 "--root", str(root), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "sub/tune1.mid: added" in out and "broken.mid: refused — " in out and "readme" not in out
    assert "python app.py --collection 'From folder'" in out
    assert main(["collection", "list", "--root", str(root)]) == 0
    assert capsys.readouterr().out.strip() == "From folder"
    monkeypatch.setenv("MELODY_COLLECTIONS", str(root))
    assert app.main(["--collection", "Not there"]) == 2
    assert "no collection 'Not there'" in capsys.readouterr().err
