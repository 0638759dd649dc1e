"""Titles read right whatever the source's encoding (the Essen books, old MIDI files)."""

from pathlib import Path

import music21
import pytest

from vae.abc_reader import read_abc_file
from vae.text import decode_text


@pytest.mark.parametrize("raw, text", [
    ("MÂ\x84dchen".encode("latin-1"), "Mädchen"),  # CP437 bytes once converted to UTF-8 as Latin-1
    ("SlÃ¡n chun carraig".encode("latin-1"), "Slán chun carraig"),  # plain UTF-8
    ("Café".encode("cp1252"), "Café"),
    ("Ölmühle".encode(), "Ölmühle"),
    (b"plain", "plain"),
])
def test_decode_text(raw, text):
    assert decode_text(raw) == text


def test_essen_titles_are_not_garbled():
    root = Path(music21.__file__).parent / "corpus"
    titles = [t.title for f in ("han1.abc", "lux.abc") for t in read_abc_file(root / "essenFolksong" / f, "essen", root)[0]]
    assert "Funü ziyou ge" in titles
    assert any("ä" in t for t in titles)
    assert not [t for t in titles if any(c in t for c in "ÃÂ") or any("\x80" <= c <= "\x9f" for c in t)]
