"""Checks for the exercises of chapter 10 (StyleGAN ideas)."""
from __future__ import annotations

import torch

from .core import Case, run_check


def check_adain(fn) -> None:
    """Chapter 10: ``fn(x, gamma, beta)`` -> AdaIN of feature maps x (N, C, H, W)
    with per-sample, per-channel styles gamma, beta (N, C); eps = 1e-5 inside the std."""
    gen = torch.Generator().manual_seed(9)
    x = 3 + 2 * torch.randn(2, 3, 4, 4, generator=gen)
    gamma, beta = torch.randn(2, 3, generator=gen), torch.randn(2, 3, generator=gen)

    def reference(x, gamma, beta):
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + 1e-5).sqrt()
        return gamma[:, :, None, None] * (x - mean) / std + beta[:, :, None, None]

    hint = ("normalize each (sample, channel) map over its H x W pixels (biased variance, "
            "+ 1e-5 inside the square root), then scale by gamma and shift by beta")
    flat = torch.ones(1, 2, 3, 3)
    cases = [
        Case((x, gamma, beta), reference(x, gamma, beta), atol=1e-4, hint=hint,
             describe="random maps (2, 3, 4, 4) and styles"),
        Case((x, torch.ones(2, 3), torch.zeros(2, 3)), reference(x, torch.ones(2, 3), torch.zeros(2, 3)),
             atol=1e-4, hint="with gamma = 1, beta = 0 AdaIN is plain instance normalization",
             describe="gamma = 1, beta = 0"),
        Case((flat, torch.ones(1, 2), torch.tensor([[0.5, -2.0]])),
             torch.tensor([0.5, -2.0])[None, :, None, None].expand(1, 2, 3, 3), atol=1e-4,
             hint="a constant map normalizes to 0 (the eps keeps 0/0 away), so only beta remains",
             describe="constant maps: the output is beta"),
    ]
    run_check("adain", fn, cases)


def check_truncation(fn) -> None:
    """Chapter 10: ``fn(w, w_avg, psi)`` -> the truncated latents w_avg + psi (w - w_avg)."""
    w = torch.tensor([[2.0, -1.0], [0.0, 4.0]])
    w_avg = torch.tensor([1.0, 1.0])
    hint = "move each w towards w_avg: w_avg + psi * (w - w_avg)"
    cases = [Case((w, w_avg, 1.0), w, hint=hint, describe="psi = 1 changes nothing"),
             Case((w, w_avg, 0.0), w_avg.expand(2, 2), hint=hint, describe="psi = 0 gives w_avg"),
             Case((w, w_avg, 0.5), torch.tensor([[1.5, 0.0], [0.5, 2.5]]), hint=hint,
                  describe="psi = 0.5"),
             Case((w, w_avg, -1.0), torch.tensor([[0.0, 3.0], [2.0, -2.0]]), hint=hint,
                  describe="psi = -1 reflects through w_avg")]
    run_check("truncation", fn, cases)
