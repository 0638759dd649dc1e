"""Keys and scales (vae.scales): transposing to any key and snapping notes to a scale, on real corpus melodies."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import busy_train_window, notes
from vae.constants import MAX_PITCH, MIN_PITCH
from vae.music import estimate_key
from vae.scales import KEYS, SCALES, apply_key, snap_to_scale, tonic_of, transpose_to
from vae.tokenizer import MelodyTokenizer

G_MAJOR_TUNE = notes((67, 0, 4), (71, 4, 8), (74, 8, 12), (71, 12, 16), (72, 16, 20), (69, 20, 24), (66, 24, 28),
                     (67, 28, 40))


@pytest.fixture(scope="module")
def corpus_melodies(small_corpus):
    tok = MelodyTokenizer()
    rows, after = [], 0
    for _ in range(12):
        w = busy_train_window(small_corpus, after=after)
        rows.append(tok.decode(small_corpus.tokens[w]))
        after = w + 37
    return rows


@pytest.mark.parametrize("key", KEYS)
def test_transpose_to_every_key_keeps_the_tune(key, corpus_melodies):
    for melody in [G_MAJOR_TUNE, *corpus_melodies[:4]]:
        moved, shift = transpose_to(melody, tonic_of(key))
        assert -6 <= shift <= 5  # the smaller way round
        assert estimate_key(moved)[0] == tonic_of(key)
        steps = np.diff([n.pitch for n in moved])
        assert np.array_equal(steps, np.diff([n.pitch for n in melody]))  # same intervals
        assert [(n.start, n.end) for n in moved] == [(n.start, n.end) for n in melody]  # same rhythm


def test_transposing_a_high_melody_stays_on_the_piano():
    high = notes((104, 0, 4), (106, 4, 8), (108, 8, 12), (104, 12, 16))
    for key in KEYS:
        moved, _ = transpose_to(high, tonic_of(key))
        assert all(MIN_PITCH <= n.pitch <= MAX_PITCH for n in moved)
        assert np.array_equal(np.diff([n.pitch for n in moved]), np.diff([n.pitch for n in high]))


@pytest.mark.parametrize("scale", SCALES)
def test_snap_puts_every_note_in_the_scale_and_moves_little(scale, corpus_melodies):
    for tonic in (0, 2, 7, 10):
        allowed = {(tonic + s) % 12 for s in SCALES[scale]}
        for melody in corpus_melodies:
            snapped = snap_to_scale(melody, tonic, scale)
            assert {n.pitch % 12 for n in snapped} <= allowed
            for a, b in zip(melody, snapped, strict=True):
                assert (a.start, a.end) == (b.start, b.end)
                assert abs(a.pitch - b.pitch) <= 2
                if a.pitch % 12 in allowed:
                    assert a.pitch == b.pitch


def test_apply_key_describes_what_it_did():
    same, what = apply_key(G_MAJOR_TUNE)
    assert same == G_MAJOR_TUNE and what == "G major"
    moved, what = apply_key(G_MAJOR_TUNE, key="D")
    assert what == "D major (from G major)" and estimate_key(moved)[0] == 2
    minor, what = apply_key(G_MAJOR_TUNE, scale="minor")
    assert what == "G minor (from G major)" and 71 not in {n.pitch for n in minor}  # B -> Bb
    assert apply_key([], key="C") == ([], "no key (silent)")
    with pytest.raises(ValueError, match="key must be"):
        apply_key(G_MAJOR_TUNE, key="H")
