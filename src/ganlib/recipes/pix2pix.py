"""Train the shipped pix2pix outline -> digit translator of chapter 11.

    python -m ganlib.recipes.pix2pix [--max-epochs 15] [--minutes M] [--threads 1] [--seed 0]

``UNetGenerator`` (outline in, digit out, skip connections) against a
``PatchDiscriminator`` that judges (image, outline) pairs patch by patch,
the non-saturating loss on every patch plus 100 x the L1 distance to the
real digit (Isola et al., 2017), Adam (lr 2e-4, beta1 = 0.5), batch 64. The
pairs are MNIST's training digits and their outlines
(``morphological_edges``): chapter 11's full profile, which reads this same
``CONFIG``. The card reports, on the outlines of all 10,000 test digits
(never trained on), the mean L1 error and how often the classifier reads the
translation as the digit the outline came from.
"""
from __future__ import annotations

import torch

from ..data import TensorBatches
from ..latent import ImageToImage
from ..models.pix2pix import PatchDiscriminator, UNetGenerator, morphological_edges
from .common import TrainingConfig, main

L1_WEIGHT = 100.0

CONFIG = TrainingConfig(
    name="pix2pix",
    generator=UNetGenerator, generator_kwargs={"width": 32},
    discriminator=PatchDiscriminator, discriminator_kwargs={"width": 32},
    epochs=15, batch_size=64, loss="non-saturating", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
    summary=("UNetGenerator(width 32): outline (1x28x28) -> digit (1x28x28), two down and two up "
             "blocks with skip connections, dropout; PatchDiscriminator(width 32): 7x7 logits of 18x18 patches"),
    notes={"g_extra_loss": f"{L1_WEIGHT:g} x mean |G(outline) - digit| (L1)"},
)


def l1_to_target(fake, real, latents):
    """pix2pix's reconstruction term: L1_WEIGHT x mean |G(x) - y|."""
    return L1_WEIGHT * (fake - real).abs().mean()


def outline_pairs(config: TrainingConfig, data):
    """(digit, outline) batches, and the outline-conditioned inputs for train_gan."""
    outlines = morphological_edges(data.images)
    batches = TensorBatches(data.images, outlines, batch_size=config.batch_size)
    return batches, {"latents": ImageToImage(outlines[:64]), "g_extra_loss": l1_to_target}


@torch.no_grad()
def held_out_scores(generator, args=None) -> dict:
    """L1 and the classifier's accuracy on translations of the test outlines (all 10,000,
    or the first ``args.score_samples`` in smoke runs)."""
    from ..classifier import score_digits
    from ..data import load_mnist

    test = load_mnist("test", verbose=False, limit=getattr(args, "score_samples", None))
    generator.eval()
    outputs = torch.cat([generator(morphological_edges(test.images[i:i + 1000]))
                         for i in range(0, len(test), 1000)])
    score = score_digits(outputs, test.labels)
    real = score_digits(test.images, test.labels)
    return {f"held-out test outlines ({len(test):,}, never trained on)": {
        "L1 to the real digit (pixels in [-1, 1])": round((outputs - test.images).abs().mean().item(), 4),
        "classifier reads the outline's digit": round(score.label_accuracy, 4),
        "confident share": round(score.confident_share, 4),
        "the same classifier on the real test digits": round(real.label_accuracy, 4)}}


def run(argv=None):
    """Train, score and ship ``pix2pix`` (the command line's entry point)."""
    return main(CONFIG, __doc__, argv, extra_card=held_out_scores, prepare=outline_pairs)


if __name__ == "__main__":
    run()
