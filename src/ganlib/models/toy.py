"""Small fully connected networks for low-dimensional toy problems (1-D, 2-D)."""
from __future__ import annotations

import torch
from torch import nn


def toy_mlp(in_dim: int, out_dim: int, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """A small ReLU MLP for low-dimensional toy problems (1-D and 2-D GANs).

    Used as a generator (in_dim = latent size, out_dim = data dimension) or as a
    discriminator (in_dim = data dimension, out_dim = 1).
    """
    layers, width = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class ToyDiscriminator(nn.Module):
    """A toy MLP that returns one logit per point, shape (N,)."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.net = toy_mlp(in_dim, 1, hidden, depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class ToyGenerator(nn.Module):
    """A toy MLP generator: latent (latent_dim) -> point (out_dim)."""

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = toy_mlp(latent_dim, out_dim, hidden, depth)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
