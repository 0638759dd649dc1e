"""A steered slider move keeps the melody's key (its tonic) unless the move asks for another mode (step 22: Register
+3 turned a B-flat-minor upload into C-sharp major)."""

import numpy as np
import pytest

from vae.abc_reader import read_abc_file
from vae.attributes import compute_attributes, pitch_class_histogram
from vae.checkpoint import data_config
from vae.controls import CONTROLS_FILE, load_controls
from vae.corpus import music21_corpus_root
from vae.inference import TrainedModel
from vae.music import estimate_keys
from vae.paths import SHIPPED
from vae.sweep import STEER_TONIC_FREE, steer, tonic_changed
from vae.tokenizer import MelodyTokenizer, Note
from vae.windows import tune_windows


def tonics(tokens: np.ndarray) -> np.ndarray:
    return estimate_keys(pitch_class_histogram(tokens))["tonic"]


@pytest.fixture(scope="module")
def shipped():
    got = load_controls(SHIPPED / CONTROLS_FILE)
    assert got is not None, f"the shipped model must carry its sliders ({CONTROLS_FILE})"
    return TrainedModel.load(SHIPPED), got[0], got[2]["settings"]["attr_std"]


def test_register_up_keeps_a_minor_tunes_tonic(shipped):
    """Every window of the Humour of Glen (a jig in B minor from Ryan's Mammoth Collection, in the music21 corpus)
    moved to the top of the Register slider, as the page's steered move makes it: the key finder hears the tonic
    it heard before (B, or D where a window leans to the relative major), and the melody still rises. Before the
    tonic term, 3 of its 6 windows came out with another tonic (4 of 6 with 40 candidates and no tonic term)."""
    model, controls, std = shipped
    root = music21_corpus_root()
    tunes, _ = read_abc_file(root / "ryansMammoth" / "HumourOfGlenJig.abc", "ryans", root)
    tune = tunes[0]
    assert tune.key == "Bm"
    cfg = data_config(model.meta)
    windows, _, _ = tune_windows(tune, cfg.window_steps, cfg.hop_steps, cfg.min_notes)
    assert len(windows) >= 6
    z = model.encode(windows.astype(np.int64))[0]
    was = tonics(model.decode(z))
    assert set(was.tolist()) <= {11, 2}  # B minor, or its relative D major, as loaded

    k = controls.attributes.index("mean_pitch")
    cur = controls.coords(z)
    new = cur.copy()
    new[:, k] = 3.0
    moved = model.decode(steer(model.decode, controls, z, cur, new, std))
    rose = compute_attributes(moved)["mean_pitch"] - compute_attributes(model.decode(z))["mean_pitch"]
    assert (rose > 0).all(), f"Register up must still raise every window: {rose}"
    now = tonics(moved)
    assert (now == was).all(), f"tonic before {was.tolist()}, after Register +3 {now.tolist()}"


def test_tonic_changed_spares_the_moves_that_may_change_it():
    """A candidate in another key counts as a change only where the melody had a key and its move does not ask
    for an attribute in STEER_TONIC_FREE (Mood: the relative major or minor is a fair answer)."""
    scale = [60, 62, 63, 65, 67, 68, 70, 72]  # C minor, tonic held longest
    other = [61, 63, 65, 66, 68, 70, 72, 73]  # D-flat major

    def window(pitches, hold_first: int) -> np.ndarray:
        notes, t = [], 0
        for i, p in enumerate(pitches * 2):
            d = hold_first if i % len(pitches) == 0 else 2
            notes.append(Note(p, t, t + d))
            t += d
        return MelodyTokenizer().encode(notes, 64)

    before = np.stack([window(scale, 8), window(scale, 8)])
    assert tonics(before).tolist() == [0, 0]
    cands = np.stack([window(scale, 8), window(other, 8), window(other, 8), window(scale, 8)])  # [C=2, B=2]
    names = ["mean_pitch", *STEER_TONIC_FREE]
    asked = np.array([[True, False], [False, True]])  # melody 0 moves Register, melody 1 Mood
    got = tonic_changed(before, cands, names, asked)
    # candidate 0: melody 0 kept C, melody 1 went to D-flat but asked for Mood; candidate 1: melody 0 changed
    assert got.tolist() == [0.0, 0.0, 1.0, 0.0]
