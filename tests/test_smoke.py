"""A reader's path through ganlib in one file, on real MNIST: import, train,
resume, load and score every shipped generator, one metric, one exercise check.

It runs with the rest of the suite, and ``make oldest`` runs it again (with one
notebook) in a venv that holds the oldest versions pyproject.toml allows
(requirements-oldest.txt), so the declared lower bounds are tested ones.
"""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ganlib
from ganlib import checks, pretrained
from ganlib.data import load_mnist
from ganlib.metrics import classifier_fid
from ganlib.models import MLPDiscriminator, MLPGenerator
from ganlib.recipes import pix2pix, scoreboard
from ganlib.train import EMA, train_gan


def train_small_mlp_gan(checkpoint, epochs):
    """Two hundred-odd MNIST training images, an MLP GAN with EMA: a few seconds."""
    ganlib.seed_everything(0)
    data = load_mnist("train", limit=256, verbose=False)
    G, D = MLPGenerator(latent_dim=16, hidden=[64]), MLPDiscriminator(hidden=[64])
    ema = EMA(0.9)
    history = train_gan(G, D, data.batches(64, with_labels=False), epochs=epochs,
                        optimizers=(torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
                                    torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))),
                        checkpoint=checkpoint, callbacks=[ema], progress=False)
    return G, ema, history


def test_training_on_mnist_resumes_exactly(tmp_path):
    G_whole, ema_whole, whole = train_small_mlp_gan(None, epochs=2)
    assert whole.records["step"][-1] == 8 and all(map(math.isfinite, whole.records["loss_D"]))
    train_small_mlp_gan(tmp_path / "run.pt", epochs=1)
    torch.manual_seed(123)  # a different random state before resuming, as in a new session
    G, ema, resumed = train_small_mlp_gan(tmp_path / "run.pt", epochs=2)
    assert resumed.records == whole.records
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G_whole.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(ema.generator.parameters(), ema_whole.generator.parameters()))


def test_every_shipped_generator_loads_and_scores():
    rows, notes = scoreboard.score_generators(n_samples=500, progress=False)
    names = {row["name"].strip("`").split("`")[0] for row in rows[1:]}
    assert names == set(scoreboard.shipped_generators()) - scoreboard.IMAGE_TO_IMAGE, notes
    real, *generated = rows
    assert real["covered"] == 10 and real["confident"] > 0.95
    for row in generated:  # trained generators, far from noise (FID ~ 400): see book/results_table.md
        assert row["fid"] < 150 and row["covered"] >= 5, row
    translator = pretrained.load_generator("pix2pix")
    held_out = pix2pix.held_out_scores(translator, SimpleNamespace(score_samples=1000))
    assert next(iter(held_out.values()))["classifier reads the outline's digit"] > 0.9


def test_a_metric_tells_real_digits_from_noise():
    test = load_mnist("test", limit=1000, verbose=False).images
    train = load_mnist("train", limit=1000, verbose=False).images
    noise = torch.rand_like(train) * 2 - 1
    real_vs_real, real_vs_noise = classifier_fid(test, train), classifier_fid(test, noise)
    assert real_vs_real < 0.1 * real_vs_noise


def test_an_exercise_check_passes_the_right_answer_and_names_a_mistake(capsys):
    def right(p_data, p_g):
        total = p_data + p_g
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)

    checks.check_optimal_discriminator(right)  # strict: a rejected right answer raises
    with pytest.raises(AssertionError, match="failed"):  # strict in tests
        checks.check_optimal_discriminator(lambda p_data, p_g: right(p_g, p_data))
    assert "the ratio is upside down" in capsys.readouterr().out
