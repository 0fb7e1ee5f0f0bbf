"""Checks for the exercises of chapter 5 (DCGAN)."""
from __future__ import annotations

import math

import torch

from .core import Case, run_check


def check_conv_transpose_output_size(fn) -> None:
    """Chapter 5: ``fn(size, kernel, stride, padding, output_padding=0)`` -> output size
    of ``nn.ConvTranspose2d`` along one side."""
    hint = ("a transposed convolution undoes a convolution's size arithmetic: "
            "(size - 1) * stride - 2 * padding + kernel + output_padding")
    cases = [Case((1, 7, 1, 0), 7, hint=hint, describe="1x1 noise, kernel 7: the DCGAN's first layer"),
             Case((7, 4, 2, 1), 14, hint=hint, describe="7 -> ? with kernel 4, stride 2, padding 1"),
             Case((14, 4, 2, 1), 28, hint=hint, describe="14 -> ? with kernel 4, stride 2, padding 1"),
             Case((7, 3, 2, 1), 13, hint=hint, describe="kernel 3, stride 2, padding 1 (odd result)"),
             Case((7, 3, 2, 1, 1), 14, hint=hint + "; output_padding adds to one side",
                  describe="the same with output_padding=1"),
             Case((4, 5, 3, 2), 10, hint=hint, describe="kernel 5, stride 3, padding 2")]
    run_check("conv_transpose_output_size", fn, cases)


def check_slerp(fn) -> None:
    """Chapter 5: ``fn(z0, z1, t)`` -> spherical interpolation between two 1-D latent vectors."""
    def reference(z0, z1, t):
        omega = math.acos(float(torch.dot(z0, z1) / (z0.norm() * z1.norm())))
        return (math.sin((1 - t) * omega) * z0 + math.sin(t * omega) * z1) / math.sin(omega)

    gen = torch.Generator().manual_seed(5)
    a, b = torch.randn(100, generator=gen), torch.randn(100, generator=gen)
    e0, e1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    hint = "sin((1 - t) w) / sin(w) * z0 + sin(t w) / sin(w) * z1, with cos(w) = z0.z1 / (|z0| |z1|)"
    cases = [Case((a, b, 0.0), a, atol=1e-5, hint="at t = 0 slerp must return z0", describe="t = 0"),
             Case((a, b, 1.0), b, atol=1e-5, hint="at t = 1 slerp must return z1", describe="t = 1"),
             Case((e0, e1, 0.5), torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-5, hint=hint,
                  describe="halfway along a quarter circle: (cos 45deg, sin 45deg)"),
             Case((a, b, 0.3), reference(a, b, 0.3), atol=1e-4, hint=hint,
                  describe="two 100-d Gaussian vectors, t = 0.3"),
             Case((2 * e0, 2 * e1, 1 / 3), torch.tensor([math.sqrt(3), 1.0]), atol=1e-5,
                  hint="normalise only inside the angle: the result keeps the vectors' length",
                  describe="vectors of length 2, t = 1/3")]
    run_check("slerp", fn, cases)
