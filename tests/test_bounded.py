"""Parses of user input run in a worker process with a time limit: a stuck parse is stopped, not waited for."""

from __future__ import annotations

import time

import pytest

from vae.abc_reader import read_abc_text
from vae.bounded import BoundedPool, ParseTimeout
from vae.errors import MusicReadError


def _sleep_then(x: int) -> int:
    time.sleep(x)
    return x


def test_a_call_past_its_limit_is_stopped_and_the_pool_keeps_working():
    pool = BoundedPool()
    try:
        with pytest.raises(ParseTimeout, match="took longer than 0.5 seconds"):
            pool.call(0.5, "the test", _sleep_then, 600)  # would hold a thread for ten minutes
        assert pool.call(60, "the test", _sleep_then, 0) == 0  # a fresh worker answers the next call
    finally:
        pool.close()


def test_a_typed_tune_is_read_through_the_pool():
    pool = BoundedPool()
    try:
        tune = pool.call(60, "the ABC text", read_abc_text, "X:1\nM:6/8\nL:1/8\nK:G\nGAB cBA|")
        assert [n.pitch for n in tune.notes] == [67, 69, 71, 72, 71, 69]
    finally:
        pool.close()


@pytest.mark.parametrize("text, words", [
    ("X:1\nM:99999/1\nK:C\nCDEF|", "meter M:99999/1"),  # kept a worker busy for over 13 minutes
    ("X:1\nM:999/1\nK:C\nCDEF|", "meter M:999/1"),
    ("X:1\nK:C\n[M:999/1]CDEF|", "meter M:999/1"),  # inline field
    ("X:1\nM:0/0\nK:C\nCDEF|", "meter M:0/0"),  # ZeroDivisionError before
    ("X:1\nL:0/0\nK:C\nCDEF|", "unit note length L:0/0"),
    ("X:1\nL:1/99999\nK:C\nCDEF|", "unit note length"),
    ("X:1\nK:C\nCDEF ü|", "'ü'"),  # read as a C, then a traceback
    ("X:1\nK:C\nC999999999D|", "note length of 999999999"),  # 125 million bar lines
    ("X:1\nK:C\n[CEG]99999|", "note length of 99999"),
    ("Hello my friend, this is a tune", "letters that are not notes"),  # prose became a 3-note tune
    ("X:1\nK:Q\n|:zzzz xyz qqq|]", "K:Q is not a key"),  # 'unknown pitch name' and a traceback before
])
def test_absurd_abc_is_refused_at_once_with_a_sentence(text, words):
    with pytest.raises(MusicReadError) as err:
        read_abc_text(text)
    assert words in str(err.value) and "Error" not in str(err.value)


def test_real_meters_and_lengths_are_accepted():
    for text in ("X:1\nM:21/8\nL:1/16\nK:D\nDEFG ABcd|", "X:1\nM:(2+2+3)/8\nK:Am\nABc ded B2|", "X:1\nM:C|\nK:G\nG4 A4|",
                 "X:1\nT:Grüß Gott\nM:3/4\nK:F\nw:Grü-ße\nF2 A2 c2|"):
        assert read_abc_text(text).notes


def test_the_checks_pass_the_tunes_of_the_corpus():
    """Real ABC as people paste it: the music21 corpus's tunes pass the checks (99.9%: a handful of files use
    letters as private decorations on nearly every note)."""
    from pathlib import Path

    import music21

    from vae.abc_reader import check_fields, split_tunes
    from vae.text import decode_text

    root = Path(music21.__file__).parent / "corpus"
    tunes = [body for p in sorted(root.rglob("*.abc")) for _, body in split_tunes(decode_text(p.read_bytes()))]
    refused = 0
    for body in tunes:
        try:
            check_fields(body)
        except MusicReadError:
            refused += 1
    assert len(tunes) > 10_000 and refused / len(tunes) < 0.002, (refused, len(tunes))
