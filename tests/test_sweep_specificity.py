"""Per-melody specificity (vae.sweep): side effects that go opposite ways on different melodies do not cancel."""

import numpy as np

from vae.sweep import SPEC_CAP, per_melody_specificity, specificity


def test_opposite_side_effects_count_per_melody():
    # the slider raises its own attribute by 2 SD on both melodies, and drags register +3 on one, -3 on the other
    gaps = {"note_density": np.array([2.0, 2.0]), "mean_pitch": np.array([3.0, -3.0]), "contour": np.array([0.5, 0.5])}
    mean_effect = {a: float(g.mean()) for a, g in gaps.items()}
    assert specificity(mean_effect, "note_density") == 4.0  # the means cancel: register looks unmoved
    each = per_melody_specificity(gaps, "note_density")
    assert np.allclose(each, [2 / 3, 2 / 3])  # each melody hears register move further than the notes


def test_a_melody_without_side_effects_is_capped_and_undefined_targets_are_left_out():
    gaps = {"contour": np.array([1.0, np.nan, 2.0]), "rest_share": np.array([0.0, 1.0, 1.0])}
    each = per_melody_specificity(gaps, "contour")
    assert list(each) == [SPEC_CAP, 2.0]
