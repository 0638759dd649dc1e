"""The report's chord section: both harmonisers and both baselines on held-out human chords, POP909 skipped with a
sentence where its folder is absent."""

from explorer.report import format_harmony, measure_harmony
from vae.harmony import METHODS


def test_harmony_section_scores_folk_and_skips_absent_pop(tmp_path):
    h = measure_harmony(songs=3, pop_dir=tmp_path / "absent")
    assert "POP909" in h["sets"]["pop909"]["skipped"] and "absent" in h["sets"]["pop909"]["skipped"]
    folk = h["sets"]["folk (abc)"]
    assert folk["windows"] > 0 and folk["beats"] > 0
    assert set(folk["accuracy"]) == {*METHODS, "tonic", "best triad"}
    for a in folk["accuracy"].values():
        assert 0.0 <= a["full"] <= a["triad"] <= a["root"] <= 1.0
    text = "\n".join(format_harmony(h))
    assert "skipped" in text and "best triad" in text and h["default"] in text
