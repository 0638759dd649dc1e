"""The learned harmoniser: its transitions file (provenance, candidates), and the chords it gives simple tunes."""

import json

import numpy as np
import pytest

from tests.test_harmony import C_ARPEGGIO, MINOR, SECONDARY, TO_G7, names
from vae.chords import chord_name
from vae.harmony import DEFAULT_METHOD, METHODS, TRANSITIONS, candidate_names, harmonise, learned_tables


def test_transitions_file_says_where_it_came_from_and_matches_the_candidates():
    data = json.loads(TRANSITIONS.read_text())
    assert data["made_by"].startswith("python -m bench.harmony_learn")
    assert "held_out" in data["provenance"] and "700" in data["provenance"]["held_out"]
    for minor, mode in ((False, "major"), (True, "minor")):
        assert data[mode]["chords"] == candidate_names(minor)
        n = len(data[mode]["chords"])
        for k in ("bar", "mid"):
            rows = np.exp(np.asarray(data[mode][k]))
            assert rows.shape == (n, n)
            assert np.allclose(rows.sum(axis=1), 1.0, atol=0.02)  # each row a probability distribution
    assert TRANSITIONS.stat().st_size < 64_000


def test_a_file_for_other_candidates_is_refused(tmp_path):
    data = json.loads(TRANSITIONS.read_text())
    data["major"]["chords"] = data["major"]["chords"][::-1]
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="bench.harmony_learn"):
        learned_tables(bad)


@pytest.mark.parametrize("method", METHODS)
def test_both_methods_harmonise_plain_tunes(method):
    assert names(harmonise(C_ARPEGGIO, method=method)) == [(0, 16, "C"), (16, 32, "C"), (32, 48, "C"), (48, 64, "C")]
    assert [n[2] for n in names(harmonise(MINOR, method=method))] == ["Am", "Dm", "E", "Am"]
    assert [chord_name(c) for _, _, c in harmonise(TO_G7, method=method)][-1] == "C"
    assert any(c.root == 2 and c.quality in ("7", "maj") for _, _, c in harmonise(SECONDARY, method=method))


def test_default_and_unknown_method():
    assert DEFAULT_METHOD in METHODS
    assert harmonise(TO_G7) == harmonise(TO_G7, method=DEFAULT_METHOD)
    with pytest.raises(ValueError, match="rules"):
        harmonise(TO_G7, method="neural")
