"""Compose says which waypoints a form used and which it left out (AABA takes two of three)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.media.files import Playback
from explorer.session.compose import left_out_notice
from explorer.session.state import Waypoint, new_state

SAMPLED = Playback(temperature=1.0, seed=3)


@pytest.fixture(scope="module")
def three_waypoints(h):
    st = new_state()
    for row, name in ((10, "Reel"), (300, "Jig"), (700, "Air")):
        st, _ = h.load_window(st, row, Playback())
        st = h.add_waypoint(st.but(title=name))
    return st


def test_aaba_names_the_waypoint_it_left_out(h, three_waypoints):
    piece = h.compose(three_waypoints, 16, SAMPLED, "AABA")
    assert piece["used"] == [1, 2] and piece["left_out"] == [3]
    assert piece["notice"].startswith("AABA uses waypoints 1 (A: Reel) and 2 (B: Jig); it left out waypoint 3 (Air).")


def test_a_piece_through_every_waypoint_says_nothing(h, three_waypoints):
    piece = h.compose(three_waypoints, 16, SAMPLED, "through")
    assert piece["used"] == [1, 2, 3] and piece["left_out"] == [] and piece["notice"] == ""
    two = three_waypoints.but(waypoints=three_waypoints.waypoints[:2])
    assert h.compose(two, 16, SAMPLED, "AABA")["notice"] == ""  # AABA of two waypoints uses both


def test_the_notice_names_several_left_out():
    wps = [Waypoint(np.zeros(4, np.float32), t) for t in ("Reel", "Jig", "Air", "")]
    assert left_out_notice("AABA", wps, [1, 2], [3, 4]).startswith(
        "AABA uses waypoints 1 (A: Reel) and 2 (B: Jig); it left out waypoints 3 (Air) and 4 (untitled).")
