"""Checks for the exercises of chapter 11 (image-to-image translation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .core import Case, run_check


def check_cycle_consistency_loss(fn) -> None:
    """Chapter 11: ``fn(x, y, G, F)`` -> mean |F(G(x)) - x| + mean |G(F(y)) - y|."""
    gen = torch.Generator().manual_seed(10)
    x, y = torch.randn(4, 1, 5, 5, generator=gen), torch.randn(4, 1, 5, 5, generator=gen)

    def double(t):
        return 2 * t

    def halve(t):
        return t / 2

    def shift(t):
        return t + 1

    hint = "translate there and back: F(G(x)) should return x and G(F(y)) should return y; use the L1 mean"
    cases = [
        Case((x, y, double, halve), 0.0, hint=hint, describe="G = 2x, F = x/2: inverse maps"),
        Case((x, y, double, double), (3 * x).abs().mean() + (3 * y).abs().mean(), atol=1e-5,
             hint=hint, describe="G = F = 2x"),
        Case((x, y, shift, shift), torch.tensor(4.0), atol=1e-5, hint=hint,
             describe="G = F = x + 1: each cycle is off by 2 everywhere"),
    ]
    run_check("cycle_consistency_loss", fn, cases)


def check_pix2pix_generator_loss(fn) -> None:
    """Chapter 11: ``fn(fake_logits, fake, target, l1_weight)`` -> -mean log D + l1_weight * mean |fake - target|."""
    gen = torch.Generator().manual_seed(11)
    logits = torch.randn(3, 1, 7, 7, generator=gen)
    fake, target = torch.rand(3, 1, 28, 28, generator=gen), torch.rand(3, 1, 28, 28, generator=gen)

    def reference(lg, f, t, w):
        return F.softplus(-lg).mean() + w * (f - t).abs().mean()

    hint = ("the adversarial part is the non-saturating -log sigmoid(logit) = softplus(-logit), "
            "averaged over every patch; add l1_weight times the mean absolute error")
    cases = [Case((logits, fake, target, 100.0), reference(logits, fake, target, 100.0), atol=1e-4,
                  hint=hint, describe="random patch logits, lambda = 100"),
             Case((logits, fake, target, 0.0), reference(logits, fake, target, 0.0), atol=1e-5,
                  hint=hint, describe="lambda = 0: the adversarial term alone"),
             Case((torch.zeros(1, 1, 7, 7), target, target, 100.0), torch.log(torch.tensor(2.0)),
                  atol=1e-5, hint="logit 0 means D(x) = 1/2, so -log D = log 2",
                  describe="perfect output, undecided D")]
    run_check("pix2pix_generator_loss", fn, cases)
