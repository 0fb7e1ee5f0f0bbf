"""InfoGAN's networks (chapter 8), DCGAN-style and sized for 1x28x28 MNIST.

- :class:`InfoGANGenerator`: ``[z, one_hot(c), u]`` (N, noise_dim + K + m) -> image in
  [-1, 1]. It declares ``latent_dim`` (the noise size) and ``latent_codes``, so
  ``ganlib.latent.latent_sampler`` draws its inputs with ``InfoGANCodes``.
  It also carries the **Q head** (``generator.q``), because Q is a player on G's
  side of the game, min over G and Q of V(D, G) - lambda L_I(G, Q): Q's weights
  step with G's optimizer and are saved in G's checkpoints.
- :class:`InfoGANDiscriminator`: image -> one logit. ``features(x)`` is its body
  (two strided convolutions and a dense layer, as in the paper's MNIST
  discriminator), which the Q head reads: Q shares D's body.
- :class:`QHead`: D's features -> (logits of the categorical code (N, K), means
  of the continuous codes (N, m)), and with ``learn_std=True`` their standard
  deviations (N, m) as well.

Shapes (width w): G: input -> Linear -> (N, 2w, 7, 7) -> (N, w, 14, 14) -> (N, 1, 28, 28);
D: (N, 1, 28, 28) -> (N, w, 14, 14) -> (N, 2w, 7, 7) -> features (N, f) -> logit, f = 1024.
"""
from __future__ import annotations

import torch
from torch import nn

from .dcgan import dcgan_init_


class QHead(nn.Module):
    """D's body features (N, in_features) -> (categorical logits (N, K), continuous means (N, m)).

    With ``learn_std=True`` Q also predicts each continuous code's standard deviation and
    returns (logits, means, stds); the Gaussian log-likelihood then weighs an error by how
    sure Q is, instead of by a fixed unit variance. Stds are kept in [e^-5, e^2].
    """

    def __init__(self, in_features: int, n_categories: int = 10, n_continuous: int = 2, hidden: int = 128,
                 learn_std: bool = False):
        super().__init__()
        if min(in_features, n_categories, hidden) < 1 or n_continuous < 0:
            raise ValueError("in_features, n_categories and hidden must be positive, n_continuous >= 0")
        self.n_categories, self.n_continuous, self.learn_std = n_categories, n_continuous, learn_std
        outputs = n_categories + n_continuous * (2 if learn_std else 1)
        self.net = nn.Sequential(nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden),
                                 nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, outputs))

    def forward(self, features: torch.Tensor):
        out = self.net(features)
        k, m = self.n_categories, self.n_continuous
        if not self.learn_std:
            return out[:, :k], out[:, k:]
        return out[:, :k], out[:, k:k + m], out[:, k + m:].clamp(-5.0, 2.0).exp()


class InfoGANGenerator(nn.Module):
    """``[z, one_hot(c), u]`` -> image (N, 1, 28, 28) in [-1, 1], plus the Q head ``.q``.

    Linear to 2w x 7 x 7, then two stride-2 ConvTranspose 4x4 layers (7 -> 14 -> 28),
    batch norm + ReLU after every layer but the last (tanh). ``q_in_features`` is the
    size of the discriminator's features that Q reads (its ``feature_dim``).
    """

    def __init__(self, noise_dim: int = 62, n_categories: int = 10, n_continuous: int = 2,
                 width: int = 64, q_in_features: int = 1024, q_hidden: int = 128, q_learn_std: bool = False,
                 init: bool = True):
        super().__init__()
        if min(noise_dim, n_categories, width) < 1 or n_continuous < 0:
            raise ValueError("noise_dim, n_categories and width must be positive, n_continuous >= 0")
        self.latent_dim = noise_dim              # the noise size, as every generator declares it
        self.latent_codes = {"n_categories": n_categories, "n_continuous": n_continuous}
        self.input_dim = noise_dim + n_categories + n_continuous
        self.width = width
        self.net = nn.Sequential(
            nn.Linear(self.input_dim, 2 * width * 49, bias=False), nn.BatchNorm1d(2 * width * 49),
            nn.ReLU(inplace=True), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),                      # 14 -> 28
            nn.Tanh(),
        )
        self.q = QHead(q_in_features, n_categories, n_continuous, q_hidden, learn_std=q_learn_std)
        if init:
            self.apply(dcgan_init_)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"expected inputs [z, one_hot(c), u] of shape (N, {self.input_dim}), got "
                             f"{tuple(x.shape)}: draw them with ganlib.latent.InfoGANCodes")
        return self.net(x)


class InfoGANDiscriminator(nn.Module):
    """Image (N, 1, 28, 28) -> one logit (N,); ``features(x)`` (N, feature_dim) is the body Q shares."""

    def __init__(self, width: int = 64, feature_dim: int = 1024, init: bool = True):
        super().__init__()
        if width < 1 or feature_dim < 1:
            raise ValueError("width and feature_dim must be positive integers")
        self.width, self.feature_dim = width, feature_dim
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),       # 28 -> 14
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),                    # 14 -> 7
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2, inplace=True), nn.Flatten(),
            nn.Linear(2 * width * 49, feature_dim, bias=False), nn.BatchNorm1d(feature_dim),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.head = nn.Linear(self.feature_dim, 1)
        if init:
            self.apply(dcgan_init_)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"expected images of shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).flatten()


def info_loss_term(discriminator: InfoGANDiscriminator, q: QHead, cat_weight: float = 1.0,
                   cont_weight: float = 0.1):
    """InfoGAN's ``g_extra_loss(fake, real, latents)`` for :func:`ganlib.train_gan`.

    Q reads D's body features of the fakes and is scored on recovering the codes
    that made them (``latents.codes``). ``train_gan`` runs it inside the G step,
    where D's weights are frozen: the gradient trains G (through D's body) and Q
    (a part of ``generator``, stepped by G's optimizer), never D's body.
    """
    from ..losses import infogan_info_loss

    def infogan_term(fake, real, latents):
        cat_logits, cont_mean, *cont_std = q(discriminator.features(fake))   # a std when Q learns it
        return infogan_info_loss(cat_logits.float(), cont_mean.float(), latents.codes["categorical"],
                                 latents.codes["continuous"], cat_weight, cont_weight,
                                 cont_std[0].float() if cont_std else 1.0)

    infogan_term.__qualname__ = f"infogan_info_loss(cat_weight={cat_weight:g}, cont_weight={cont_weight:g})"
    return infogan_term


@torch.no_grad()
def code_grid(generator: InfoGANGenerator, n_values: int = 8, sweep: int = 0, seed: int = 0,
              span: float = 2.0, device=None):
    """Inputs for a grid: row k is category k, columns sweep continuous code ``sweep`` from
    -span to span (the other codes 0), all with the same noise. Returns (inputs, sweep values)."""
    from ..latent import InfoGANCodes

    codes = generator.latent_codes
    if not 0 <= sweep < codes["n_continuous"]:
        raise ValueError(f"sweep must name a continuous code, 0..{codes['n_continuous'] - 1}, got {sweep}")
    sampler = InfoGANCodes(generator.latent_dim, **codes)
    k = codes["n_categories"]
    z = torch.randn(1, generator.latent_dim, generator=torch.Generator().manual_seed(seed)).repeat(k * n_values, 1)
    values = torch.linspace(-span, span, n_values)
    u = torch.zeros(k * n_values, codes["n_continuous"])
    u[:, sweep] = values.repeat(k)
    c = torch.arange(k).repeat_interleave(n_values)
    x = sampler.compose(z, c, u).g_inputs[0]
    return (x.to(device) if device is not None else x), values
