"""Train the shipped DCGAN MNIST generator of chapter 5.

    python -m ganlib.recipes.dcgan [--max-epochs 20] [--minutes M] [--threads 1] [--seed 0]

``DCGANGenerator`` of width 64 (Radford et al.'s guidelines: strided
transposed convolutions, batch norm, ReLU, tanh output, N(0, 0.02) init)
against the guidelines' ``DCGANDiscriminator`` of width 64 with one change: it
reads its (128, 7, 7) features through a hidden dense layer of 1,024 units
(batch norm, LeakyReLU) instead of one 7x7 convolution, as InfoGAN's
discriminator does (Chen et al., 2016). The non-saturating loss, Adam with
beta1 = 0.5 and learning rates 1e-3 for G and 2e-4 for D (as in chapter 4),
batch 64, on MNIST's training split: chapter 5's full profile, which reads
this same ``CONFIG`` (section 5.6 and its optional section explain the
changes). The shipped weights are an exponential moving average of G's weights.
"""
from __future__ import annotations

from ..models import DCGANDiscriminator, DCGANGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="dcgan",
    generator=DCGANGenerator, generator_kwargs={"latent_dim": 100, "width": 64},
    discriminator=DCGANDiscriminator, discriminator_kwargs={"width": 64, "dense_features": 1024},
    epochs=20, batch_size=64, loss="non-saturating", lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999),
    ema_decay=0.999,
    summary=("DCGANGenerator(width=64): z -> ConvTranspose 7x7 -> 128x7x7 -> 64x14x14 -> 1x28x28 tanh, "
             "batch norm + ReLU; init N(0, 0.02)"),
)

def run(argv=None):
    """Train, score and ship ``dcgan`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
