"""Fitting z to a melody: exact-note F1, and a fitted z is never a worse rendering than the encoder's."""

import numpy as np
import pytest
from conftest import notes

from vae.fidelity import fit_latent, note_f1
from vae.tokenizer import MelodyTokenizer

TOK = MelodyTokenizer()


def test_note_f1_counts_exact_pitch_and_onset():
    a = TOK.encode(notes((60, 0, 4), (62, 4, 8), (64, 8, 12), (65, 12, 16)), 64)
    same_onsets_longer = TOK.encode(notes((60, 0, 8), (64, 8, 12), (65, 12, 16)), 64)  # 62 dropped
    shifted = TOK.encode(notes((60, 1, 4), (62, 5, 8), (64, 9, 12), (65, 13, 16)), 64)
    silent = np.zeros(64, np.int64)
    assert note_f1(a, a).tolist() == [1.0]
    assert note_f1(a, same_onsets_longer)[0] == pytest.approx(2 * 3 / 7)
    assert note_f1(a, shifted)[0] == 0.0
    assert note_f1(silent, silent)[0] == 1.0 and note_f1(a, silent)[0] == 0.0
    assert note_f1(np.stack([a, a]), np.stack([a, shifted])).tolist() == [1.0, 0.0]


def test_fitting_never_renders_worse_and_usually_better(tiny_model, small_corpus):
    x = small_corpus.tokens[small_corpus.split == 2][:24].astype(np.int64)
    mu, _ = tiny_model.encode(x)
    before = note_f1(x, tiny_model.decode(mu))
    z, out, after = fit_latent(tiny_model, x, steps=30)
    assert z.shape == mu.shape and out.shape == x.shape
    assert np.array_equal(out, tiny_model.decode(z))  # the score is of what the z really decodes to
    assert np.all(after >= before - 1e-9)
    assert after.mean() > before.mean()
    z1, out1, f1 = fit_latent(tiny_model, x[0], steps=30)
    assert z1.shape == (tiny_model.latent_dim,) and f1 == pytest.approx(after[0])
    assert all(p.requires_grad for p in tiny_model.model.parameters())  # the model is left as it was
