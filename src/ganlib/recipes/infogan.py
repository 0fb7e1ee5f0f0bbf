"""Train the shipped InfoGAN MNIST generator of chapter 8.

    python -m ganlib.recipes.infogan [--max-epochs 20] [--minutes M] [--threads 1] [--seed 0]

``InfoGANGenerator`` (62 noise dimensions, a categorical code of 10 values and
two continuous codes in [-1, 1], DCGAN-style layers of width 64) against an
``InfoGANDiscriminator`` (convolutions of width 64 and 128, then a dense layer
of 1024 features, as in the paper) whose body the Q head shares, the
non-saturating loss plus the mutual-information term (1 x the categorical
cross-entropy + 0.1 x the Gaussian negative log-likelihood of the continuous
codes), Adam with lr 1e-3 for G and Q and 2e-4 for D, betas (0.5, 0.999), as
in Chen et al.'s (2016) MNIST code, and batch 64, on MNIST's training split.
The batch and the 0.1 are ours: their MNIST launcher uses batch 128 and one
weight, 1.0, for both information terms. This is chapter 8's full profile,
which reads this same ``CONFIG``. The Q head is a part of the generator
module (``generator.q``): it is on G's side of the game and steps with G's
optimizer, reading D's body, which stays frozen during G's step (in Chen et
al.'s code Q and the shared body are D's and step with D's optimizer).

The card reports how well the categorical code alone recovers the digit: 10,000
samples (every code value equally often) read by the MNIST classifier, codes
matched to digits by the best one-to-one assignment.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..latent import InfoGANCodes
from ..models.infogan import InfoGANDiscriminator, InfoGANGenerator, info_loss_term
from .common import TrainingConfig, main

AGREEMENT_SAMPLES = 10_000
AGREEMENT_TARGET = 0.90


@dataclass(frozen=True)
class InfoGANConfig(TrainingConfig):
    """A :class:`TrainingConfig` plus the weights of InfoGAN's mutual-information term."""

    cat_weight: float = 1.0
    cont_weight: float = 0.1

    def train_kwargs(self, generator, discriminator, callbacks=()):
        """As for every recipe, plus the Q loss (``g_extra_loss``) and the codes (``latents``)."""
        kwargs = super().train_kwargs(generator, discriminator, callbacks)
        kwargs["g_extra_loss"] = info_loss_term(discriminator, generator.q, self.cat_weight, self.cont_weight)
        kwargs["latents"] = InfoGANCodes(generator.latent_dim, **generator.latent_codes)
        return kwargs

    def describe(self) -> dict:
        variance = "learned" if self.generator_kwargs.get("q_learn_std") else "unit"
        return {**super().describe(),
                "g_extra_loss": (f"InfoGAN's mutual-information term: {self.cat_weight:g} x categorical "
                                 f"cross-entropy + {self.cont_weight:g} x Gaussian NLL ({variance} variance) of the "
                                 "continuous codes, from the Q head (generator.q) on D's body features")}


WIDTH, FEATURES = 64, 1024  # conv width of both networks; size of D's body features (Q's input)
CONFIG = InfoGANConfig(
    name="infogan",
    generator=InfoGANGenerator,
    generator_kwargs={"noise_dim": 62, "n_categories": 10, "n_continuous": 2, "width": WIDTH,
                      "q_in_features": FEATURES},
    discriminator=InfoGANDiscriminator, discriminator_kwargs={"width": WIDTH, "feature_dim": FEATURES},
    epochs=25, batch_size=64, loss="non-saturating", lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999),
    cat_weight=1.0, cont_weight=0.1,
    summary=("InfoGANGenerator: [z (62), one-hot code (10), 2 continuous codes] -> Linear -> 128x7x7 -> "
             "64x14x14 -> 1x28x28 tanh, batch norm + ReLU; Q head (Linear 1024 -> 128 -> 12) shipped "
             "inside it but usable only with D's body (conv 64, conv 128, dense 1024), which is not shipped"),
    notes={"codes": "categorical c ~ Uniform{0..9}; continuous u ~ Uniform[-1, 1]^2; noise z ~ N(0, I_62)"},
)


def agreement_card(generator, args=None) -> dict:
    """The categorical code against the classifier's digits (best one-to-one assignment), on
    AGREEMENT_SAMPLES samples (``args.score_samples`` in smoke runs)."""
    from ..metrics.codes import code_digit_agreement

    n = getattr(args, "score_samples", None) or AGREEMENT_SAMPLES
    result = code_digit_agreement(generator, n=n, seed=0)
    return {f"categorical code vs digit ({n:,} samples, seed 0)": {
        "agreement (best one-to-one assignment with the classifier's digits)": round(result.agreement, 4),
        "code -> digit": result.assignment,
        "target": AGREEMENT_TARGET,
        "meets target": result.agreement >= AGREEMENT_TARGET}}


def run(argv=None):
    """Train, score and ship ``infogan`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv, extra_card=agreement_card)


if __name__ == "__main__":
    run()
