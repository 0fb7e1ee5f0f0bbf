"""Train the shipped WGAN-GP MNIST generator of chapter 7.

    python -m ganlib.recipes.wgan_gp [--max-epochs 100] [--minutes M] [--threads 1] [--seed 0]

Chapter 5's ``DCGANGenerator`` of width 64 against a convolutional critic:
``DCGANDiscriminator`` of width 32 without batch norm (the penalty needs a critic
that scores each image on its own, section 7.4), reading its (64, 7, 7) features
through a dense layer of 512 units. Trained with the Wasserstein loss and a gradient
penalty (lambda = 10) and n_critic = 5, as in Gulrajani et al. (2017), with Adam at
lr 2e-4, betas (0, 0.9), batch 64, on MNIST's training split: chapter 7's full
profile, which reads this same ``CONFIG`` (section 7.6 says why these networks and
not the MLP pair of section 7.5). The shipped weights are an exponential moving
average of G's weights.
"""
from __future__ import annotations

from ..models import DCGANDiscriminator, DCGANGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="wgan_gp",
    generator=DCGANGenerator, generator_kwargs={"latent_dim": 100, "width": 64},
    discriminator=DCGANDiscriminator,
    discriminator_kwargs={"width": 32, "use_batchnorm": False, "dense_features": 512},
    epochs=100, batch_size=64, loss="wasserstein", gp_weight=10.0, n_critic=5,
    lr_g=2e-4, lr_d=2e-4, betas=(0.0, 0.9), ema_decay=0.999,
    summary=("DCGANGenerator(width=64): z -> ConvTranspose 7x7 -> 128x7x7 -> 64x14x14 -> 1x28x28 tanh, "
             "batch norm + ReLU; critic DCGANDiscriminator(width=32, use_batchnorm=False, dense_features=512): "
             "conv 32, conv 64, dense 512, LeakyReLU(0.2), one linear output, no normalization; init N(0, 0.02)"),
)

def run(argv=None):
    """Train, score and ship ``wgan_gp`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
