"""Musical attributes on hand-written windows with known values, and key finding from the notes."""

import numpy as np
import pytest
from conftest import notes

from vae.attributes import ATTRIBUTES, compute_attributes, pitch_class_histogram, tune_keys
from vae.music import estimate_keys, pitch_name
from vae.tokenizer import MelodyTokenizer

TOK = MelodyTokenizer()


def window(*triples):
    return TOK.encode(notes(*triples), 64)


QUARTERS = window(*[(60, s, s + 4) for s in range(0, 64, 4)])  # 16 quarter notes, all C4
SCALE = window(*[(p, 2 * i, 2 * i + 2) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])])  # then 3 bars rest
SYNCO = window((60, 0, 2), (62, 2, 6), (64, 6, 8), (72, 9, 10))  # 62 held over the beat at step 4
EMPTY = np.zeros(64, np.int64)


def test_known_values():
    a = compute_attributes(np.stack([QUARTERS, SCALE, SYNCO, EMPTY]))
    assert set(a) == set(ATTRIBUTES)
    assert a["note_density"].tolist() == [4.0, 2.0, 1.0, 0.0]
    assert a["mean_pitch"][:3] == pytest.approx([60.0, 66.25, 64.5])
    assert a["pitch_range"][:3].tolist() == [0.0, 12.0, 12.0]
    # entropy of inter-onset intervals: all 4 / all 2 -> 0 bits; SYNCO has intervals 2, 4, 3 -> log2(3)
    assert a["rhythmic_complexity"][:3] == pytest.approx([0.0, 0.0, np.log2(3)])
    assert a["syncopation"][:3] == pytest.approx([0.0, 0.0, 0.25])
    assert a["stepwise"][:3] == pytest.approx([1.0, 1.0, 2 / 3])
    assert a["rest_share"].tolist() == pytest.approx([0.0, 48 / 64, 1 - 9 / 64, 1.0])
    steps, pitches = np.arange(0, 16, 2), [60, 62, 64, 65, 67, 69, 71, 72]
    assert a["contour"][:2] == pytest.approx([0.0, np.polyfit(steps, pitches, 1)[0] * 16], rel=1e-4)
    for name in ("mean_pitch", "pitch_range", "stepwise", "contour", "minorness", "rhythmic_complexity"):
        assert np.isnan(a[name][3]), name


def test_contour_sign_and_single_window():
    up = compute_attributes(window((60, 0, 16), (64, 16, 32), (67, 32, 48), (72, 48, 64)))
    down = compute_attributes(window((72, 0, 16), (67, 16, 32), (64, 32, 48), (60, 48, 64)))
    assert up["contour"].shape == (1,) and up["contour"][0] > 0 > down["contour"][0]


def test_histogram_is_duration_weighted():
    h = pitch_class_histogram(window((60, 0, 12), (62, 12, 14)))[0]
    assert h[0] == 12 and h[2] == 2 and h.sum() == 14


def test_key_finding_major_and_minor():
    c_major = window((60, 0, 8), (64, 8, 12), (67, 12, 16), (72, 16, 32), (67, 32, 40), (64, 40, 44), (62, 44, 48),
                     (60, 48, 64))
    a_minor = window((57, 0, 8), (60, 8, 12), (64, 12, 16), (68, 16, 20), (69, 20, 32), (64, 32, 40), (62, 40, 44),
                     (60, 44, 48), (59, 48, 52), (57, 52, 64))
    k = estimate_keys(pitch_class_histogram(np.stack([c_major, a_minor])))
    assert k["tonic"].tolist() == [0, 9]
    assert k["minor"].tolist() == [False, True]
    assert k["minorness"][0] < 0 < k["minorness"][1]
    assert k["name"].tolist() == ["C major", "A minor"]
    # transposing keeps the mode and moves the tonic
    up3 = np.where(a_minor >= 2, a_minor + 3, a_minor)
    k3 = estimate_keys(pitch_class_histogram(up3))
    assert k3["tonic"][0] == 0 and bool(k3["minor"][0])


def test_tune_keys_aggregate_windows():
    c_major = window((60, 0, 16), (64, 16, 32), (67, 32, 48), (72, 48, 64))
    k = tune_keys(np.stack([c_major, c_major, EMPTY]), np.array([0, 0, 1]), 2)
    assert k["name"][0] == "C major" and k["tonic"][1] == -1 and np.isnan(k["minorness"][1])


def test_corpus_attributes_defined(small_corpus):
    a = compute_attributes(small_corpus.tokens)
    assert all(v.shape == (len(small_corpus),) for v in a.values())
    # corpus windows have at least two notes, so only stepwise-free cases could be NaN
    assert np.isfinite(a["mean_pitch"]).all() and np.isfinite(a["contour"]).all()
    assert (a["note_density"] >= 0.5).all() and ((a["rest_share"] >= 0) & (a["rest_share"] <= 1)).all()


def test_one_spelling_for_pitch_and_key_names():
    assert [pitch_name(p) for p in (60, 61, 63, 70, 21, 108)] == ["C4", "C#4", "Eb4", "Bb4", "A0", "C8"]
    e_flat = window((63, 0, 8), (67, 8, 16), (70, 16, 24), (63, 24, 32), (65, 32, 40), (67, 40, 48), (70, 48, 64))
    assert str(estimate_keys(pitch_class_histogram(e_flat[None]))["name"][0]) == "Eb major"


def test_rhythmic_complexity_is_variety_not_density():
    sixteenths = window(*[(60 + s % 5, s, s + 1) for s in range(64)])
    dotted = window(*[(60, s, s + 3) if s % 4 == 0 else (62, s, s + 1) for s in range(0, 64) if s % 4 in (0, 3)])
    a = compute_attributes(np.stack([QUARTERS, sixteenths, dotted]))
    assert a["note_density"][1] > a["note_density"][2] > a["note_density"][0]
    assert a["rhythmic_complexity"][0] == a["rhythmic_complexity"][1] == 0.0
    p3 = 16 / 31  # 32 onsets: 16 intervals of 3 steps, 15 of 1
    assert a["rhythmic_complexity"][2] == pytest.approx(-(p3 * np.log2(p3) + (1 - p3) * np.log2(1 - p3)), rel=1e-5)
