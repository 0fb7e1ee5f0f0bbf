"""Train the shipped DCGAN MNIST generator of chapter 5.

    python -m ganlib.recipes.dcgan [--max-epochs 60] [--minutes M] [--threads 1] [--seed 0]

``DCGANGenerator`` of width 32 (Radford et al.'s guidelines: strided
transposed convolutions, batch norm, ReLU, tanh output, N(0, 0.02) init)
against a ``DCGANDiscriminator`` of width 32 (strided convolutions,
LeakyReLU(0.2)) whose batch norm is replaced by spectral normalization, trained
with the hinge loss (Miyato et al., 2018), Adam with beta1 = 0.5 and learning
rates 1e-3 for G and 2e-4 for D (as in chapter 4), batch 64, on MNIST's
training split: chapter 5's full profile, which reads this same ``CONFIG``
(section 5.5 explains the changes). The shipped weights are an exponential
moving average of G's weights.
"""
from __future__ import annotations

from ..models import DCGANDiscriminator, DCGANGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="dcgan",
    generator=DCGANGenerator, generator_kwargs={"latent_dim": 100, "width": 32},
    discriminator=DCGANDiscriminator,
    discriminator_kwargs={"width": 32, "use_batchnorm": False, "spectral_norm": True},
    epochs=60, batch_size=64, loss="hinge", lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999),
    ema_decay=0.999,
    summary=("DCGANGenerator(width=32): z -> ConvTranspose 7x7 -> 64x7x7 -> 32x14x14 -> 1x28x28 tanh, "
             "batch norm + ReLU; init N(0, 0.02)"),
)

def run(argv=None):
    """Train, score and ship ``dcgan`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
