"""Train the shipped conditional MNIST generator of chapter 6.

    python -m ganlib.recipes.cgan [--max-epochs 30] [--minutes M] [--threads 1] [--seed 0]

``ConditionalGenerator`` (noise + a learned 10-d label embedding,
concatenated; MLP 256 -> 512 -> 1024 with batch norm; tanh) against a
projection ``ConditionalDiscriminator`` (the label enters as the inner
product of a class vector with D's features), the non-saturating loss, Adam
(lr 2e-4, beta1 = 0.5), batch 64, on MNIST's training split: chapter 6's full
profile, which reads this same ``CONFIG``. The shipped weights are an
exponential moving average of G's weights. The card's label accuracy is how
often the classifier reads the digit that was asked for.
"""
from __future__ import annotations

from ..models.conditional import ConditionalDiscriminator, ConditionalGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="cgan",
    generator=ConditionalGenerator,
    generator_kwargs={"latent_dim": 100, "n_classes": 10, "label_mode": "embedding", "hidden": [256, 512, 1024]},
    discriminator=ConditionalDiscriminator,
    discriminator_kwargs={"n_classes": 10, "label_mode": "projection", "hidden": [512, 256]},
    epochs=30, batch_size=64, loss="non-saturating", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
    ema_decay=0.999,
    summary=("ConditionalGenerator: [z (100), label embedding (10)] -> Linear+BatchNorm+LeakyReLU "
             "256 -> 512 -> 1024 -> 784 tanh; projection discriminator"),
)

def run(argv=None):
    """Train, score and ship ``cgan`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
