"""GAN losses, written on the discriminator's logits.

With D(x) = sigmoid(l(x)), the identities log D = -softplus(-l) and
log(1 - D) = -softplus(l) give losses that never take log(0).

Discriminator (both classic GANs): maximise E[log D(x)] + E[log(1 - D(G(z)))],
i.e. minimise its negative, :func:`d_loss_minimax`.
Generator, minimax ("saturating"): minimise E[log(1 - D(G(z)))].
Generator, non-saturating: minimise -E[log D(G(z))] (same fixed point, strong
gradients early in training when D(G(z)) is near 0).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss_minimax(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))]): binary cross-entropy, real=1, fake=0."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], the generator's side of the original minimax game."""
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))], the generator loss used in practice."""
    return F.softplus(-fake_logits).mean()
