"""The fully connected MNIST GAN of chapter 4 (the original GAN paper's kind of model)."""
from __future__ import annotations

import math

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """Noise z (latent_dim) -> image in [-1, 1], through fully connected layers.

    The defaults are the classic MNIST MLP GAN: 100 -> 256 -> 512 -> 784.
    """

    def __init__(self, latent_dim: int = 100, hidden=(256, 512), out_shape=(1, 28, 28)):
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = tuple(out_shape)
        layers, width = [], latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers += [nn.Linear(width, math.prod(self.out_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)


class MLPDiscriminator(nn.Module):
    """Image -> one logit (log-odds that the image is real): 784 -> 512 -> 256 -> 1."""

    def __init__(self, in_shape=(1, 28, 28), hidden=(512, 256)):
        super().__init__()
        layers, width = [nn.Flatten()], math.prod(in_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
