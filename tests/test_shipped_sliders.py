"""The shipped model's sliders do what their labels say, on melodies written here (not from the corpus)."""

import numpy as np
import pytest

from explorer.session.slider_move import SLIDER_RANGE
from vae.attributes import compute_attributes
from vae.controls import CONTROLS_FILE, load_controls, slider_words
from vae.inference import TrainedModel
from vae.paths import SHIPPED
from vae.sweep import NAME_RULE, steer, summarise
from vae.tokenizer import Note


def melody(pitches_durs: list[tuple[int, int]]) -> list[Note]:
    """Consecutive notes from (MIDI pitch, length in 16ths) pairs; pitch 0 is a rest."""
    out, t = [], 0
    for p, d in pitches_durs:
        if p:
            out.append(Note(p, t, t + d))
        t += d
    return out


TUNES = {  # 4 bars each, 64 sixteenths
    "major scale walk": [(60, 4), (62, 4), (64, 4), (65, 4), (67, 8), (65, 4), (64, 4), (62, 4), (64, 4), (60, 8),
                         (67, 4), (65, 4), (64, 4), (62, 4)],
    "minor jig-like": [(69, 2), (72, 2), (76, 4), (74, 2), (72, 2), (71, 4), (69, 4), (64, 4), (69, 2), (71, 2),
                       (72, 4), (74, 4), (76, 8), (72, 4), (71, 4), (69, 4)],
    "leaping hymn": [(67, 8), (72, 8), (64, 8), (69, 8), (65, 8), (71, 8), (72, 16)],
    "syncopated riff": [(62, 3), (65, 3), (69, 2), (0, 2), (67, 6), (65, 3), (62, 3), (60, 2), (0, 4), (62, 3),
                        (65, 3), (69, 2), (72, 8), (69, 8), (0, 8)],
    "falling line": [(79, 4), (77, 4), (76, 4), (74, 4), (72, 4), (71, 4), (69, 4), (67, 4), (65, 4), (64, 4),
                     (62, 4), (60, 4), (59, 4), (57, 4), (55, 8)],
}


@pytest.fixture(scope="module")
def shipped():
    got = load_controls(SHIPPED / CONTROLS_FILE)
    assert got is not None, f"the shipped model must carry its sliders ({CONTROLS_FILE}): run `python -m vae controls`"
    return TrainedModel.load(SHIPPED), got[0], got[1], got[2]


def test_the_shipped_sliders_are_named_by_their_own_sweep(shipped):
    _, controls, sweep, rest = shipped
    assert controls.k == 16 and len(sweep) == 16
    assert rest["summary"] == summarise(sweep)
    for r in sweep:
        ok = r["spearman"] >= NAME_RULE["spearman"] and r["specificity"] >= NAME_RULE["specificity"]
        if r["attribute"] is None:  # a direction fitted to no attribute carries no name
            assert r["name"] is None, r
        else:  # a fitted one is named exactly when its sweep passes the rule
            assert (r["name"] is not None) == ok, r
    fitted = [r["attribute"] for r in sweep if r["attribute"]]
    assert len(fitted) == 9 and len(set(fitted)) == 9


def test_every_named_slider_moves_its_attribute_the_labelled_way(shipped):
    """On melodies written here (not from the corpus), through the same steered move the explorer makes, from
    one end of the slider's range in the UI to the other."""
    model, controls, sweep, rest = shipped
    z = model.encode([melody(t) for t in TUNES.values()])[0]
    std = rest["settings"]["attr_std"]
    named = [(i, r["name"]) for i, r in enumerate(sweep) if r["name"]]
    assert named
    for i, name in named:
        cur = controls.coords(z)
        lo, hi = cur.copy(), cur.copy()
        lo[:, i], hi[:, i] = -SLIDER_RANGE, SLIDER_RANGE
        if rest["settings"].get("steered"):
            z_lo, z_hi = steer(model.decode, controls, z, cur, lo, std), steer(model.decode, controls, z, cur, hi, std)
        else:
            z_lo, z_hi = controls.with_coords(z, lo), controls.with_coords(z, hi)
        a_lo = compute_attributes(model.decode(z_lo))[name]
        a_hi = compute_attributes(model.decode(z_hi))[name]
        rises = int(np.sum(a_hi > a_lo))
        assert rises >= len(TUNES) - 1, f"{slider_words(name)}: rose on {rises} of {len(TUNES)} melodies"
