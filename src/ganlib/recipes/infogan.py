"""Train the shipped InfoGAN MNIST generator of chapter 8.

    python -m ganlib.recipes.infogan [--max-epochs 20] [--minutes M] [--threads 1] [--seed 2]

``InfoGANGenerator`` (62 noise dimensions, a categorical code of 10 values and
two continuous codes in [-1, 1], DCGAN-style layers of width 64) against an
``InfoGANDiscriminator`` (convolutions of width 64 and 128, then a dense layer
of 1024 features, as in the paper) whose body the Q head reads, the
non-saturating loss plus the mutual-information term (the categorical
cross-entropy + the Gaussian negative log-likelihood of the continuous codes,
unit variance, both weighted 1), Adam with lr 1e-3 for G and Q and 2e-4 for D,
betas (0.5, 0.999), and batch 128, on MNIST's training split: the settings of
Chen et al.'s (2016) MNIST launcher. This is chapter 8's full profile, which
reads this same ``CONFIG``.

One choice differs from their code: the Q head is a part of the generator module
(``generator.q``) and steps with G's optimizer, reading D's body, which stays
frozen during G's step; in Chen et al.'s code Q and the shared body are D's and
step with D's optimizer (``q_steps_with="discriminator"`` trains that way). With
these settings, seed 0 and 25 epochs on an H200, Q with D gave a code/digit
agreement of 58% (50% at batch 64) and codes that moved slant and stroke width by
at most 0.7 standard deviations; Q with G gave 94% and one code that moved stroke
width by 3.3 standard deviations.

Which attribute each continuous code captures, and how cleanly, depends on the
seed. Of seeds 0 (25 epochs), 1, 2 and 3 (20 epochs) of these settings, seed 2
(``SEED``, shipped) met every target of ``ganlib.metrics.codes.code_steering``
(each code moves its attribute by 2 or more standard deviations of real digits',
monotonically in 90% of sweeps, the other attribute by at most half as much) with
99% agreement; seed 1 missed by a little (one code moved slant by 1.95); seeds 0
and 3 each had a code that mixed slant and stroke width. The card reports how well
the categorical code alone recovers the digit: 10,000 samples (every code value
equally often) read by the MNIST classifier, codes matched to digits by the best
one-to-one assignment.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

from ..latent import InfoGANCodes
from ..models.infogan import InfoGANDiscriminator, InfoGANGenerator, info_loss_term
from ..train import adam
from .common import TrainingConfig, main

SEED = 2                 # the shipped run's seed (see above); chapter 8's full profile trains with it
AGREEMENT_SAMPLES = 10_000
AGREEMENT_TARGET = 0.90
Q_SIDES = ("generator", "discriminator")   # whose optimizer steps the Q head


@dataclass(frozen=True)
class InfoGANConfig(TrainingConfig):
    """A :class:`TrainingConfig` plus the weights of InfoGAN's mutual-information term."""

    cat_weight: float = 1.0
    cont_weight: float = 0.1
    q_steps_with: str = "generator"

    def __post_init__(self):
        super().__post_init__()
        if self.q_steps_with not in Q_SIDES:
            raise ValueError(f"q_steps_with must be one of {Q_SIDES}, got {self.q_steps_with!r}")

    def optimizers(self, generator, discriminator):
        """With ``q_steps_with="discriminator"`` (Chen et al.'s code) Q's parameters leave G's Adam and
        join D's, at D's learning rate; otherwise as for every recipe."""
        if self.q_steps_with == "generator":
            return super().optimizers(generator, discriminator)
        q_params = {id(p) for p in generator.q.parameters()}
        return (adam([p for p in generator.parameters() if id(p) not in q_params], lr=self.lr_g, betas=self.betas),
                adam([*discriminator.parameters(), *generator.q.parameters()], lr=self.lr_d, betas=self.betas))

    def train_kwargs(self, generator, discriminator, callbacks=()):
        """As for every recipe, plus the information term (``g_extra_loss``, and ``d_extra_loss`` when Q
        steps with D) and the codes (``latents``)."""
        kwargs = super().train_kwargs(generator, discriminator, callbacks)
        term = info_loss_term(discriminator, generator.q, self.cat_weight, self.cont_weight)
        kwargs["g_extra_loss"] = term
        if self.q_steps_with == "discriminator":
            kwargs["d_extra_loss"] = term   # on the (detached) fakes: trains Q and D's body
        kwargs["latents"] = InfoGANCodes(generator.latent_dim, **generator.latent_codes)
        return kwargs

    def describe(self) -> dict:
        variance = "learned" if self.generator_kwargs.get("q_learn_std") else "unit"
        described = {**super().describe(),
                     "g_extra_loss": (f"InfoGAN's mutual-information term: {self.cat_weight:g} x categorical "
                                      f"cross-entropy + {self.cont_weight:g} x Gaussian NLL ({variance} variance) of "
                                      "the continuous codes, from the Q head (generator.q) on D's body features")}
        if self.q_steps_with == "discriminator":
            described["q_head"] = ("steps with D's optimizer (lr D); the term is added to D's loss too, so it also "
                                   "shapes D's body features (Chen et al.'s code)")
        return described


WIDTH, FEATURES = 64, 1024  # conv width of both networks; size of D's body features (Q's input)
CONFIG = InfoGANConfig(
    name="infogan",
    generator=InfoGANGenerator,
    generator_kwargs={"noise_dim": 62, "n_categories": 10, "n_continuous": 2, "width": WIDTH,
                      "q_in_features": FEATURES},
    discriminator=InfoGANDiscriminator, discriminator_kwargs={"width": WIDTH, "feature_dim": FEATURES},
    epochs=20, batch_size=128, loss="non-saturating", lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999),
    cat_weight=1.0, cont_weight=1.0,
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
    """Train, score and ship ``infogan`` (the command line's entry point); the seed is ``SEED``
    unless ``--seed`` says otherwise."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--seed" or a.startswith("--seed=") for a in argv):
        argv += ["--seed", str(SEED)]
    return main(CONFIG, __doc__, argv, extra_card=agreement_card)


if __name__ == "__main__":
    run()
