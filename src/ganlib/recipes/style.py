"""Train the shipped style-based MNIST generator of chapter 10.

    python -m ganlib.recipes.style [--max-epochs 25] [--minutes M] [--threads 1] [--seed 0]

``StyleGenerator`` (a mapping network z -> w, a learned 7x7 constant, three
AdaIN-modulated layers at 7x7, 14x14 and 28x28, per-pixel noise, style-mixing
regularization) against chapter 5's ``DCGANDiscriminator``, the
non-saturating loss, Adam (lr 2e-4, beta1 = 0.5; the mapping network at a
tenth of it: StyleGAN uses a hundredth, a tenth suits this small model), batch 128, on MNIST's training split:
chapter 10's full profile, which reads this same ``CONFIG``. The shipped
weights are an exponential moving average of G's weights; their ``w_avg``
(the centre the truncation trick pulls towards) is the average's own.
"""
from __future__ import annotations

from ..models import DCGANDiscriminator
from ..models.style import StyleGenerator
from .common import TrainingConfig, main

CONFIG = TrainingConfig(
    name="style",
    generator=StyleGenerator, generator_kwargs={"latent_dim": 32, "w_dim": 32, "width": 32},
    discriminator=DCGANDiscriminator, discriminator_kwargs={"width": 32},
    epochs=25, batch_size=128, loss="non-saturating", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
    g_lr_multipliers={"mapping.": 0.1}, ema_decay=0.999,
    summary=("StyleGenerator(latent 32, w 32, width 32): mapping MLP, constant 7x7 input, AdaIN layers "
             "at 7x7 / 14x14 / 28x28 with per-pixel noise, style mixing during training"),
)

def run(argv=None):
    """Train, score and ship ``style`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv)


if __name__ == "__main__":
    run()
