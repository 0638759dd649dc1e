"""Singable pushes: range and leap of a melody, and steered moves that keep to a voice's limits."""

import numpy as np
from conftest import notes

from vae.controls import Controls
from vae.sweep import steer
from vae.tokenizer import MelodyTokenizer
from vae.voice import VoiceLimits, excess, range_and_leap, within

TOK = MelodyTokenizer()


def test_range_leap_and_excess_of_written_melodies():
    step = TOK.encode(notes((60, 0, 4), (62, 4, 8), (64, 8, 12), (67, 12, 16)), 64)
    wide = TOK.encode(notes((48, 0, 4), (72, 4, 8), (50, 8, 12), (79, 12, 16)), 64)
    one = TOK.encode(notes((60, 0, 4)), 64)
    span, leap = range_and_leap(np.stack([step, wide, one]))
    assert span.tolist() == [7, 31, 0] and leap.tolist() == [3, 29, 0]
    lim = VoiceLimits(max_range=19, max_leap=12)
    assert excess(np.stack([step, wide, one]), lim).tolist() == [0, 12 + 17, 0]
    assert within(np.stack([step, wide, one]), lim).tolist() == [True, False, True]


def test_a_steered_push_keeps_to_the_limits_when_a_candidate_can():
    """A decoder where more of the attribute also means a wider line: without limits the push takes the
    widest candidate that meets the request best; with limits it takes a singable one."""
    controls = Controls(mean=np.zeros(2, np.float32), basis=np.array([[1.0, 0.0]], np.float32),
                        readout=np.array([[1.0, 0.0]], np.float32), attributes=("note_density",),
                        variance_share=np.ones(1, np.float32), units=np.ones(1, np.float32))

    def decode(z):
        out = []
        for v in np.asarray(z)[:, 0]:
            k = int(np.clip(round(4 + 6 * v), 1, 16))  # more notes as z grows ...
            pitches = [60 + (i % 2) * int(np.clip(4 * v, 0, 40)) for i in range(k)]  # ... and wider leaps
            out.append(TOK.encode(notes(*[(p, 4 * i, 4 * i + 4) for i, p in enumerate(pitches)]), 64))
        return np.stack(out)

    std = {"note_density": 2.0 / 64}
    z = np.zeros((1, 2), np.float32)
    lim = VoiceLimits(max_range=12, max_leap=12)
    free = steer(decode, controls, z, np.zeros((1, 1)), np.full((1, 1), 6.0), std)
    kept = steer(decode, controls, z, np.zeros((1, 1)), np.full((1, 1), 6.0), std, limits=lim)
    assert not within(decode(free), lim)[0] and within(decode(kept), lim)[0]
    assert (decode(kept) >= 2).sum() > (decode(z) >= 2).sum()  # still more notes than before


def test_an_instruments_limits_count_straight_sixteenths_beyond_a_bar():
    """With "Keep it singable" off the limits are an instrument's: 3 octaves, leaps of an octave and a fifth, and
    at most a bar of straight sixteenths (Notes +3 made 64 of them)."""
    from vae.voice import INSTRUMENT, longest_run

    run64 = TOK.encode(notes(*[(60 + k % 5, k, k + 1) for k in range(64)]), 64)
    run16 = TOK.encode(notes(*[(60 + k % 5, k, k + 1) for k in range(16)], (67, 20, 24)), 64)
    assert list(longest_run(np.stack([run64, run16]))) == [64, 16]
    assert list(excess(np.stack([run64, run16]), INSTRUMENT)) == [48, 0]
    assert excess(run64, VoiceLimits())[0] == 0  # a voice's limits count range and leaps only, as before
    wide = TOK.encode(notes((48, 0, 4), (79, 4, 8), (50, 8, 12)), 64)  # a 31-semitone leap
    assert excess(wide, INSTRUMENT)[0] == 31 - 19  # the leap beyond 19 (its 31-semitone range is within 36)
