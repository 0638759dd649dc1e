"""A slider drag heard as it moves (explorer.serve.drag): opened from a session, previewed, handed over on release."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from conftest import busy_train_window

from explorer.errors import UserError
from explorer.media.audio import read_wav
from explorer.media.files import Playback
from explorer.serve.drag import Drags, drags_for
from explorer.session.slider_move import SLIDER_RANGE
from explorer.session.state import new_state

SAMPLED = Playback(temperature=1.0, seed=3)  # sampling gives the tiny model's melodies notes


@pytest.fixture(scope="module")
def drags(h) -> Drags:
    return drags_for(h)


@pytest.fixture(scope="module")
def st(h, small_corpus):
    return h.load_window(new_state(), busy_train_window(small_corpus), SAMPLED)[0]


def moved(h, st, amount: float = 1.0) -> list[float]:
    values = h.s.sliders_of(st.z)
    values[0] += amount if values[0] < 0 else -amount
    return np.clip(np.round(values, 2), -SLIDER_RANGE, SLIDER_RANGE).tolist()


def test_a_preview_is_the_apps_own_slider_move_and_the_release_takes_it(drags, h, st):
    token = drags.open(st, SAMPLED)
    values = moved(h, st)
    r = drags.preview(token, values)
    want_st, want = h.set_sliders(st, values, SAMPLED, preview=True)
    assert np.array_equal(r.tokens, want.tokens) and r.figure == want.figure
    assert Path(r.wav_path).stat().st_size == Path(want.wav_path).stat().st_size > 1000
    after, pre = drags.take(token, st, values, SAMPLED)
    assert pre is r and np.array_equal(after.z, want_st.z) and after.preview.wav == r.wav_path
    # the release completes the panel from it: the same melody as a full render of the move
    full_st, full = h.set_sliders(st, values, SAMPLED)
    done = h.finish(after, SAMPLED)
    assert done.wav_path == r.wav_path and done.share_code == full.share_code and done.sliders == full.sliders


def test_the_release_renders_afresh_unless_it_is_the_last_preview_of_this_melody(drags, h, st):
    token = drags.open(st, SAMPLED)
    assert drags.take(token, st, moved(h, st), SAMPLED) is None  # no preview yet
    assert not drags.moved(token, st)
    drags.preview(token, moved(h, st, 1.0))
    assert drags.moved(token, st)
    assert drags.take(token, st, moved(h, st, 0.5), SAMPLED) is None  # another position
    assert drags.take(token, st, moved(h, st, 1.0), Playback(temperature=1.0, seed=4)) is None  # other playback
    other = h.set_sliders(st, moved(h, st, 0.5), SAMPLED)[0]
    assert drags.take(token, other, moved(h, st, 1.0), SAMPLED) is None  # the session moved on meanwhile
    assert not drags.moved(token, other)
    assert drags.take("no such token", st, moved(h, st, 1.0), SAMPLED) is None
    assert drags.take(token, st, moved(h, st, 1.0), SAMPLED) is not None


class _Announcing(threading.Condition):
    """A drag's condition that says when someone starts waiting on it (a release waiting for a preview)."""

    def __init__(self):
        super().__init__()
        self.waiting = threading.Event()

    def wait_for(self, predicate, timeout=None):
        self.waiting.set()
        return super().wait_for(predicate, timeout)


def test_a_release_waits_for_the_preview_of_its_own_values(h, st):
    """The page's request for the final position may still be rendering when the release arrives."""
    drags = Drags(partial(h.set_sliders, preview=True), h.slider_count, wait_s=120)  # no race with a busy machine
    token = drags.open(st, SAMPLED)
    values = moved(h, st, 1.5)
    drag = drags.begin(token)  # asked for, not rendered yet
    drag.changed = _Announcing()
    got = {}
    waiter = threading.Thread(target=lambda: got.update(taken=drags.take(token, st, values, SAMPLED)))
    waiter.start()
    assert drag.changed.waiting.wait(60)  # the release waits for the preview, not rendering on its own
    assert waiter.is_alive() and "taken" not in got
    r = drags.render(drag, values)
    waiter.join(60)
    assert got["taken"] is not None and got["taken"][1] is r


def test_bad_values_and_unknown_drags_are_refused(drags, h, st):
    token = drags.open(st, SAMPLED)
    k = h.slider_count
    for bad in ([0.0] * (k - 1), [float("nan")] * k, [SLIDER_RANGE + 1] + [0.0] * (k - 1), "fast", None,
                [[0.0]] * k):
        with pytest.raises(UserError, match=f"list of {k} numbers"):
            drags.preview(token, bad)
    assert drags._drags[token].pending == 0  # a refused preview is not waited for
    for unknown in ("x" * 22, None, 42, ["a"]):
        with pytest.raises(KeyError):
            drags.preview(unknown, [0.0] * k)


def test_drags_are_bounded_in_number_and_age(h, st):
    now = [100.0]  # the drags' clock, moved by hand: their age does not depend on how busy the machine is
    drags = Drags(partial(h.set_sliders, preview=True), h.slider_count, SLIDER_RANGE, max_drags=3, ttl_s=0.5,
                  clock=lambda: now[0])
    tokens = [drags.open(st, SAMPLED) for _ in range(5)]
    assert len(drags) == 3 and len(set(tokens)) == 5 and all(len(t) >= 22 for t in tokens)
    with pytest.raises(KeyError):
        drags.preview(tokens[0], moved(h, st))  # dropped: the oldest beyond max_drags
    now[0] += 0.5
    drags.preview(tokens[-1], moved(h, st))  # as old as ttl_s: still there
    now[0] += 0.25
    with pytest.raises(KeyError):
        drags.preview(tokens[-1], moved(h, st))  # expired
    assert len(drags) == 3  # expired drags are dropped when the next one opens
    drags.open(st, SAMPLED)
    assert len(drags) == 1  # opening one drops the expired


def test_the_page_hears_a_preview_as_mp3_or_as_the_wav_kept_for_the_release(drags, h, st):
    token = drags.open(st, SAMPLED)
    r = drags.preview(token, moved(h, st))
    samples, rate = read_wav(r.wav_path)
    mp3, mime, seconds = drags.sound(r)
    assert mime == "audio/mpeg" and seconds == pytest.approx(len(samples) / rate) and seconds > 4
    assert mp3[0] == 0xFF and mp3[1] & 0xE0 == 0xE0  # an MPEG audio frame
    # constant bit rate: the bytes follow the length and the rate (LAME's own frame and padding aside)
    assert len(mp3) == pytest.approx(seconds * drags.kbps * 1000 / 8, rel=0.1)
    wav, mime, _ = drags.sound(r, "wav")  # what a page on a fast link asks for
    assert mime == "audio/wav" and wav == Path(r.wav_path).read_bytes() and len(mp3) < len(wav) / 4
    assert drags.sound(r, "flac")[1] == drags.sound(r, None)[1] == "audio/mpeg"  # anything else: MP3
    try:
        drags.audio = "mp3"  # forced (bench.browser_levers)
        assert drags.sound(r, "wav")[1] == "audio/mpeg"
    finally:
        drags.audio = "auto"
