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


# ---------------------------------------------------------------------------
# Wasserstein and hinge losses (chapter 7). These take raw critic scores,
# not logits: a critic's output is unbounded and is never passed to a sigmoid.
# ---------------------------------------------------------------------------

def d_loss_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's loss, E[f(G(z))] - E[f(x)].

    Minimising it maximises E[f(x)] - E[f(G(z))], the critic's estimate of the
    Wasserstein-1 distance (exact when f is the best 1-Lipschitz function).
    """
    return fake_scores.mean() - real_scores.mean()


def g_loss_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's loss, -E[f(G(z))]: move the fakes to where the critic scores high."""
    return -fake_scores.mean()


def d_loss_hinge(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Hinge critic loss, E[max(0, 1 - f(x))] + E[max(0, 1 + f(G(z)))] (SN-GAN, BigGAN)."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def g_loss_hinge(fake_scores: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss, -E[f(G(z))] (the same as the Wasserstein one)."""
    return -fake_scores.mean()


def random_interpolates(real: torch.Tensor, fake: torch.Tensor,
                        generator: torch.Generator | None = None):
    """Points on the straight lines between real and fake samples, and their weights.

    One weight eps ~ Uniform[0, 1] per sample, broadcast over the other
    dimensions (C, H, W), as in Gulrajani et al. (2017): x_hat = eps x + (1 - eps) x_fake.
    (Drawing eps from a normal distribution, as some tutorials do, puts points
    outside the segment and penalises the wrong region.) Returns (x_hat, eps).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have the same shape, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}: draw as many fakes as reals")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator, dtype=real.dtype,
                     device="cpu" if generator is not None else real.device).to(real.device)
    return eps * real + (1.0 - eps) * fake, eps


def gradient_norms(critic_fn, points: torch.Tensor, eps: float = 1e-12,
                   create_graph: bool = True) -> torch.Tensor:
    """The norm of the critic's input gradient at each point, shape (N,).

    Computed as sqrt(sum(g^2) + eps): a bare sqrt(sum(g^2)) has an infinite
    derivative where the gradient is exactly zero (a dead ReLU critic, or
    real == fake), and the chain rule turns it into NaN in every weight.
    """
    return torch.sqrt(_squared_gradient_norms(critic_fn, points, create_graph) + eps)


def _squared_gradient_norms(critic_fn, points, create_graph: bool = True) -> torch.Tensor:
    points = points.detach().requires_grad_(True)
    scores = critic_fn(points)
    (grads,) = torch.autograd.grad(scores.sum(), points, create_graph=create_graph)
    return grads.flatten(1).pow(2).sum(dim=1)


def gradient_penalty(critic_fn, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's two-sided penalty, weight * E[(||grad f(x_hat)|| - 1)^2].

    ``x_hat`` are random interpolates between ``real`` and ``fake`` (one
    uniform weight per sample, :func:`random_interpolates`). The result keeps
    the graph, so it can be added to the critic's loss and back-propagated.
    """
    points, _ = random_interpolates(real.detach(), fake.detach(), generator)
    norms = gradient_norms(critic_fn, points)
    return weight * (norms - 1.0).pow(2).mean()


def gp_penalty(weight: float = 10.0):
    """A ``penalty(critic_fn, real, fake)`` for :func:`ganlib.train_gan` (WGAN-GP)."""
    if weight < 0:
        raise ValueError(f"the penalty weight must be >= 0, got {weight}")

    def penalty(critic_fn, real, fake):
        return gradient_penalty(critic_fn, real, fake, weight=weight)

    return penalty


def r1_penalty(gamma: float = 10.0):
    """R1 (Mescheder et al., 2018): (gamma / 2) E[||grad D(x)||^2] on real data only.

    Returns a ``penalty(critic_fn, real, fake)`` for :func:`ganlib.train_gan`.
    """
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")

    def penalty(critic_fn, real, fake):
        return 0.5 * gamma * _squared_gradient_norms(critic_fn, real).mean()

    return penalty


def clip_weights(c: float = 0.01):
    """An ``after_d_step(critic)`` that clamps every critic parameter to [-c, c].

    The original WGAN's crude way to keep the critic K-Lipschitz.
    """
    if not c > 0:
        raise ValueError(f"the clipping bound c must be positive, got {c}")

    @torch.no_grad()
    def after_d_step(critic: torch.nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-c, c)

    return after_d_step
