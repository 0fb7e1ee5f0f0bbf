"""Train the shipped WGAN-GP MNIST generator of chapter 7.

    python -m ganlib.recipes.wgan_gp [--max-epochs 200] [--minutes M] [--threads 1] [--seed 0]

A fully connected generator (``MLPGenerator``, 100 -> 256 -> 512 -> 784) and
a critic without normalization (``MLPCritic``) trained with the Wasserstein
loss and a gradient penalty (lambda = 10), n_critic = 5 and Adam with lr 1e-4,
betas (0, 0.9), as in Gulrajani et al. (2017), on MNIST's training split:
chapter 7's full profile, which reads this same ``CONFIG``. The shipped
weights are an exponential moving average of G's weights.
"""
from __future__ import annotations

from ..models import MLPCritic, MLPGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="wgan_gp",
    generator=MLPGenerator, generator_kwargs={"latent_dim": 100, "hidden": [256, 512]},
    discriminator=MLPCritic, discriminator_kwargs={},
    epochs=200, batch_size=64, loss="wasserstein", gp_weight=10.0, n_critic=5,
    lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), ema_decay=0.999,
    summary="MLPGenerator: 100 -> 256 -> 512 -> 784 tanh; critic MLPCritic 784 -> 512 -> 256 -> 1, no normalization",
)

def run(argv=None):
    """Train, score and ship ``wgan_gp`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
