"""Critics for Wasserstein GANs (chapter 7): no batch norm, raw scores out.

A gradient penalty constrains the critic's gradient with respect to each
input on its own; batch norm mixes the samples of a batch, so the penalised
function is no longer a function of one image. The critics here use layer
norm or no normalization at all, and return one unbounded score per image
(no sigmoid: a Wasserstein critic is not a classifier).
"""
from __future__ import annotations

import torch
from torch import nn

from .mlp import MLPDiscriminator


class MLPCritic(MLPDiscriminator):
    """Image -> one raw score: 784 -> 512 -> 256 -> 1 with LeakyReLU, no normalization.

    The same network as chapter 4's discriminator; what changes is how its
    output is read (an unbounded score, never passed through a sigmoid).
    """


class ConvCritic(nn.Module):
    """A DCGAN-style critic for 28x28 images with layer norm instead of batch norm.

    1x28x28 -> width x14x14 -> 2*width x7x7 -> 4*width x4x4 -> one raw score.
    ``norm="layer"`` normalizes each sample over (C, H, W) (``GroupNorm`` with
    one group: per-sample, so safe under a gradient penalty); ``norm=None``
    uses no normalization (as with weight clipping or spectral norm).
    """

    def __init__(self, channels: int = 1, width: int = 64, norm: str | None = "layer"):
        super().__init__()
        if norm not in ("layer", None):
            raise ValueError(f"norm must be 'layer' or None (never batch norm in a critic), got {norm!r}")

        def block(c_in, c_out, kernel, stride, padding, normalize=True):
            layers = [nn.Conv2d(c_in, c_out, kernel, stride, padding)]
            if normalize and norm == "layer":
                layers.append(nn.GroupNorm(1, c_out))
            return layers + [nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(
            *block(channels, width, 4, 2, 1, normalize=False),  # 14x14
            *block(width, 2 * width, 4, 2, 1),                   # 7x7
            *block(2 * width, 4 * width, 3, 2, 1),               # 4x4
            nn.Flatten(), nn.Linear(4 * width * 4 * 4, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[-2:] != (28, 28):
            raise ValueError(f"ConvCritic expects (N, C, 28, 28) images, got {tuple(x.shape)}")
        return self.net(x).squeeze(1)
