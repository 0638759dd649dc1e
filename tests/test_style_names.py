"""Styles are named by what the tunes are (reels, jigs, hornpipes, airs, German folk songs, chorales ...), read from
the tunes' own titles and meters, not by the books they come from; the books' old names still work (step 22)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from explorer.latent.styles import (
    AIRS,
    CHINESE_FOLK,
    CHORALES,
    GENRES,
    GERMAN_FOLK,
    HORNPIPES,
    JIGS,
    MARCHES,
    REELS,
    STRATHSPEYS,
    StyleModel,
    StyleNames,
    book_aliases,
    genre,
)

BOOKS = {"essen", "oneills", "ryans", "airds", "bach"}


def tune(collection: str, title: str = "", meter: str = "4/4", number: str = "1", source: str = "") -> dict:
    return {"collection": collection, "title": title, "meter": meter, "number": number, "source": source}


@pytest.mark.parametrize("meta, style", [
    (tune("ryans", "Pat: in His Glory -- Jig", "6/8"), JIGS),
    (tune("ryans", "TULLOCHGORUM -- REEL", "2/2"), REELS),
    (tune("ryans", "Pushee's -- Hornpipe", "2/4"), HORNPIPES),
    (tune("ryans", "Minstrel's Fancy -- Clog", "2/2"), HORNPIPES),
    (tune("ryans", "CARMICHAEL'S -- STRATHSPEY", "4/4"), STRATHSPEYS),
    (tune("ryans", "Riley's Favorite", "6/8"), JIGS),  # no kind in the title: the meter says
    (tune("airds", "Mrs Bell's Strathsy.", "4/4"), STRATHSPEYS),  # the book's own spelling
    (tune("airds", "Lord Bernard's March.", "4/4"), MARCHES),
    (tune("airds", "Capt. Sinclair's Reel.", "2/2"), REELS),
    (tune("airds", "Jenny Nettles.", "4/4"), AIRS),  # Aird's untitled tunes are its airs and songs
    (tune("airds", "The Knight.", "6/8"), AIRS),
    (tune("oneills", "THE BRINK OF THE WHITE ROCKS", "6/8", "57"), AIRS),  # a 6/8 air, not a jig: O'Neill's numbers
    (tune("oneills", "Smash the Windows", "6/8", "960"), JIGS),
    (tune("oneills", "Top the Candle", "9/8", "1150"), JIGS),  # a slip jig
    (tune("oneills", "The Rocks Of Cashel", "2/2", "1820"), MARCHES),
    (tune("oneills", "Sorry Too Late", "2/2", "1730"), HORNPIPES),
    (tune("oneills", "The Smoky House", "2/2", "1500"), REELS),
    (tune("oneills", "The Maid of Lismore", "3/4", "xx"), AIRS),  # no number: the meter says
    (tune("essen", "Das Hildebrandslied", "4/2", source="essenFolksong/altdeu10.abc"), GERMAN_FOLK),
    (tune("essen", "Mo li hua", "2/4", source="essenFolksong/han1.abc"), CHINESE_FOLK),
    (tune("bach", "bwv66.6", "4/4"), CHORALES),
    (tune("Pop", "POP909 song 412"), "Pop"),  # the built-in collection and yours keep their names
    (tune("My tunes", "A reel of mine", "2/2"), "My tunes"),
])
def test_a_tune_is_named_by_what_it_is(meta, style):
    assert genre(meta) == style


def _abc_fields(path: Path) -> list[dict]:
    """Every tune of an ABC file: X (number), first T (title), M (meter), R (rhythm: the tune's own kind)."""
    tunes, cur = [], None
    for line in path.read_text(encoding="latin-1").splitlines():
        key, _, value = line.partition(":")
        if key == "X":
            cur = {"number": value.strip()}
            tunes.append(cur)
        elif cur is not None and key in ("T", "M", "R") and len(line) > 1 and line[1] == ":":
            cur.setdefault({"T": "title", "M": "meter", "R": "rhythm"}[key], value.strip())
    return tunes


def test_the_names_agree_with_the_books_own_rhythm_fields():
    """O'Neill's, Ryan's and Aird's mark about 1,900 tunes with an `R:` field (reel, double jig, hornpipe ...):
    read from titles, meters and O'Neill's numbering alone, the style agrees with it for at least 95% of them,
    and for at least 90% of each book's."""
    from vae.corpus import music21_corpus_root

    kinds = {"reel": REELS, "jig": JIGS, "double jig": JIGS, "slip jig": JIGS, "slipjig": JIGS, "slide": JIGS,
             "hornpipe": HORNPIPES, "clog": HORNPIPES, "strathspey": STRATHSPEYS, "highland fling": STRATHSPEYS,
             "fling": STRATHSPEYS, "air": AIRS, "waltz": AIRS, "march": MARCHES}
    root = music21_corpus_root()
    agree: dict[str, list[bool]] = {}
    for coll, folder in (("oneills", "oneills1850"), ("ryans", "ryansMammoth"), ("airds", "airdsAirs")):
        for path in sorted((root / folder).glob("*.abc")):
            for t in _abc_fields(path):
                kind = re.sub(r"\s+", " ", t.get("rhythm", "").lower()).strip()
                if kind in kinds:
                    agree.setdefault(coll, []).append(genre({"collection": coll, **t}) == kinds[kind])
    every = [a for v in agree.values() for a in v]
    assert len(every) > 1500
    assert np.mean(every) >= 0.95
    assert all(np.mean(v) >= 0.9 for v in agree.values() if len(v) > 20), {k: np.mean(v) for k, v in agree.items()}


def _styles() -> tuple[StyleModel, dict]:
    rng = np.random.default_rng(0)
    names = [CHORALES, GERMAN_FOLK, JIGS, REELS]
    labels = np.repeat(np.arange(4), 50)
    mu = (rng.standard_normal((200, 6)) + 3 * np.eye(4, 6)[labels]).astype(np.float32)
    books = ["bach", "essen", "oneills", "ryans", "oneills", "oneills"]
    styles = [CHORALES, GERMAN_FOLK, JIGS, REELS, JIGS, REELS]
    aliases = book_aliases(books, styles, counts=[1, 1, 5, 1, 5, 1])
    return StyleModel.fit(mu, labels, names, aliases), aliases


def test_the_books_old_names_still_name_a_style():
    st, aliases = _styles()
    assert aliases["bach"] == CHORALES and aliases["Bach chorales (soprano)"] == CHORALES
    assert aliases["oneills"] == JIGS  # the style holding most of the book's windows
    assert st.index("bach") == st.index(CHORALES) and st.resolve("essen") == GERMAN_FOLK
    z = st.centroids[3]
    assert np.allclose(st.move(z, "bach", 1.0), st.move(z, CHORALES, 1.0))
    assert np.array_equal(st.sample_z("bach", 3, seed=1), st.sample_z(CHORALES, 3, seed=1))
    with pytest.raises(ValueError, match="unknown style"):
        st.index("mozart")
    names = StyleNames(st.names, st.aliases)
    assert "bach" in names and CHORALES in names and "mozart" not in names
    assert list(names) == st.names and not BOOKS & set(names)  # a menu lists the styles only


def test_a_space_names_its_styles_the_map_and_the_neighbours_by_what_the_tunes_are(tiny_services, small_corpus):
    names = list(tiny_services.style_names)
    assert set(names) <= set(GENRES) and CHORALES in names and not BOOKS & set(names)
    data = tiny_services.map_figure_data()
    assert set(data["collection"]) == set(names) and set(data["book"]) <= BOOKS
    expect = np.array([genre(small_corpus.tunes[t]) for t in data["tune"]])
    assert np.array_equal(data["collection"], expect)
    w = tiny_services.window(0)
    assert w["collection"] == genre(small_corpus.tunes[w["tune"]]) and w["book"] in BOOKS
    near = tiny_services.neighbours(w["mu"], k=5)
    assert all(n["collection"] in names for n in near)
    assert "bach" in tiny_services.style_names  # what an old link or script sends is still a style


def test_a_style_move_by_its_old_name_is_the_move_by_its_new_one(h, tiny_services):
    from explorer.media.files import Playback
    from explorer.session.state import new_state

    st, _ = h.load_tune(new_state(), 0, Playback())
    old, _, info_old = h.move_style(st, "bach", 1.0, Playback())
    new, _, info_new = h.move_style(st, CHORALES, 1.0, Playback())
    assert np.allclose(old.z, new.z) and info_old["after"] == info_new["after"]
    assert CHORALES in info_new["after"] and "bach" not in info_new["after"]
