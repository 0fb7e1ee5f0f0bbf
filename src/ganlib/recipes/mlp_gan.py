"""Train the shipped MLP GAN generator of chapter 4.

    python -m ganlib.recipes.mlp_gan [--max-epochs 30] [--minutes M] [--threads 1] [--seed 0]

``MLPGenerator`` (100 -> 256 -> 512 -> 784, tanh) against ``MLPDiscriminator``
(784 -> 512 -> 256 -> 1 logit), the non-saturating loss, Adam with beta1 = 0.5
and a learning rate of 1e-3 for G against 2e-4 for D (D has the easier job on
MNIST; the larger step keeps G level with it, as InfoGAN's MNIST setting does),
batch 64, on MNIST's training split: chapter 4's full profile, which reads this
same ``CONFIG``. The shipped weights are an exponential moving average of G's
weights (chapter 4 explains why).
"""
from __future__ import annotations

from ..models import MLPDiscriminator, MLPGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="mlp_gan",
    generator=MLPGenerator, generator_kwargs={"latent_dim": 100, "hidden": [256, 512]},
    discriminator=MLPDiscriminator, discriminator_kwargs={"hidden": [512, 256]},
    epochs=30, batch_size=64, loss="non-saturating", lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999),
    ema_decay=0.999,
    summary="MLPGenerator: 100 -> 256 -> 512 -> 784 tanh, LeakyReLU 0.2, 1x28x28 images in [-1, 1]",
)

def run(argv=None):
    """Train, score and ship ``mlp_gan`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
