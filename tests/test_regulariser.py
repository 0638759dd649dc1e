"""Attribute regularisation: the loss orders latent dims like their attributes, and training makes it so."""

from dataclasses import replace

import numpy as np
import torch

from vae.attributes import compute_attributes
from vae.config import get_preset
from vae.controls import spearman
from vae.corpus import TRAIN
from vae.model import MelodyVAE
from vae.regulariser import attribute_loss
from vae.train import train_step


def test_loss_is_zero_when_ordered_two_when_reversed_and_skips_undefined():
    a = torch.tensor([[0.0], [1.0], [2.0], [float("nan")]])
    z = torch.tensor([[0.0], [1.0], [2.0], [-50.0]])
    assert float(attribute_loss(z, a, scale=50.0)[0]) < 1e-6
    assert abs(float(attribute_loss(-z, a, scale=50.0)[0]) - 2.0) < 1e-6
    ties = torch.tensor([[1.0], [1.0]])
    assert float(attribute_loss(torch.tensor([[0.0], [0.0]]), ties)[0]) == 0.0
    assert float(attribute_loss(torch.tensor([[0.0], [1.0]]), ties)[0]) > 0.9


def test_training_with_the_regulariser_orders_the_latent_by_attribute(small_corpus):
    preset = get_preset("tiny")
    names = ("note_density", "mean_pitch")
    tcfg = replace(preset.train, attr_names=names, attr_weight=0.2, attr_scale=10.0, beta_warmup_steps=100)
    x_all = small_corpus.tokens[small_corpus.split == TRAIN].astype(np.int64)
    attrs = compute_attributes(x_all)
    a_all = np.stack([attrs[n] for n in names], 1)
    held = small_corpus.tokens[small_corpus.split != TRAIN][:300].astype(np.int64)
    held_attrs = compute_attributes(held)
    torch.manual_seed(0)
    model = MelodyVAE(preset.model)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)

    def held_rho():
        with torch.no_grad():
            mu = model.encode(torch.as_tensor(held))[0].numpy()
        return [spearman(mu[:, k], held_attrs[n]) for k, n in enumerate(names)]

    before = held_rho()
    rng = np.random.default_rng(0)
    losses = []
    for step in range(300):
        idx = rng.choice(len(x_all), 32, replace=False)
        res = train_step(model, opt, torch.as_tensor(x_all[idx]), torch.as_tensor(a_all[idx]), tcfg, step)
        losses.append(res["attr"])
    after = held_rho()
    assert np.mean(losses[-30:]) < 0.6 * np.mean(losses[:30])
    assert all(b > 0.7 and b > a + 0.3 for a, b in zip(before, after, strict=True)), (before, after)
