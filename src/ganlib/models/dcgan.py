"""The DCGAN of chapter 5, sized for 1x28x28 MNIST.

Radford et al.'s guidelines, one line each in the code below: strided
(transposed) convolutions instead of pooling, batch norm in both networks
(except D's input layer and G's output layer), ReLU in G, LeakyReLU(0.2) in D,
tanh output, weights drawn from N(0, 0.02). ``use_batchnorm=False`` builds the
same networks without batch norm, for the chapter's ablation.
``DCGANDiscriminator(spectral_norm=True, use_batchnorm=False)`` divides each
convolution's (flattened) weight by its largest singular value (Miyato et
al., 2018; chapter 7's power iteration), which keeps each layer from
stretching its input much. ``DCGANDiscriminator(dense_features=1024)`` reads the
last features through a hidden dense layer (batch norm, LeakyReLU) instead of one
7x7 convolution, as InfoGAN's discriminator does (Chen et al., 2016): the D of
the chapter's full configuration (``ganlib.recipes.dcgan.CONFIG``).

Shapes (width w=64): z (N, latent_dim) -> (N, 2w, 7, 7) -> (N, w, 14, 14) -> (N, 1, 28, 28).
"""
from __future__ import annotations

import torch
from torch import nn


def _norm(channels: int, use_batchnorm: bool, norm=nn.BatchNorm2d) -> list[nn.Module]:
    return [norm(channels)] if use_batchnorm else []


class DCGANGenerator(nn.Module):
    """Noise z (N, latent_dim) -> image (N, 1, 28, 28) in [-1, 1].

    ConvTranspose 7x7 (1x1 -> 7x7), then two stride-2 ConvTranspose 4x4 layers
    (7 -> 14 -> 28). Batch norm + ReLU after every layer but the last, which ends in tanh.
    """

    def __init__(self, latent_dim: int = 100, width: int = 64, channels: int = 1,
                 use_batchnorm: bool = True, init: bool = True):
        super().__init__()
        if latent_dim < 1 or width < 1 or channels < 1:
            raise ValueError("latent_dim, width and channels must be positive integers")
        self.latent_dim, self.width, self.channels = latent_dim, width, channels
        self.use_batchnorm = use_batchnorm
        bias = not use_batchnorm  # a bias right before batch norm is cancelled by its mean
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * width, 7, stride=1, padding=0, bias=bias),  # 1 -> 7
            *_norm(2 * width, use_batchnorm), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=bias),  # 7 -> 14
            *_norm(width, use_batchnorm), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),  # 14 -> 28
            nn.Tanh(),
        )
        if init:
            self.apply(dcgan_init_)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected noise of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """Image (N, 1, 28, 28) -> one logit per image (N,).

    Two stride-2 Conv 4x4 layers (28 -> 14 -> 7) with LeakyReLU(0.2), batch norm
    on the second only, then a 7x7 convolution to one logit: a linear read-out of the
    (2w, 7, 7) features. No pooling anywhere: the network learns its own downsampling.
    With ``dense_features=k`` the read-out is a hidden dense layer of k features (batch
    norm when ``use_batchnorm``, LeakyReLU) and then one logit.
    """

    def __init__(self, width: int = 64, channels: int = 1, use_batchnorm: bool = True,
                 init: bool = True, spectral_norm: bool = False, dense_features: int | None = None):
        super().__init__()
        if width < 1 or channels < 1:
            raise ValueError("width and channels must be positive integers")
        if dense_features is not None and (isinstance(dense_features, bool) or not isinstance(dense_features, int)
                                           or dense_features < 1):
            raise ValueError(f"dense_features must be a positive integer (the hidden layer's size) or None "
                             f"(a 7x7 convolution to the logit), got {dense_features!r}")
        if spectral_norm and use_batchnorm:
            raise ValueError("spectral_norm=True needs use_batchnorm=False: batch norm rescales each layer's "
                             "output again and undoes the Lipschitz bound spectral normalization sets")
        self.width, self.channels, self.use_batchnorm = width, channels, use_batchnorm
        self.spectral_norm, self.dense_features = spectral_norm, dense_features
        if dense_features is None:
            read_out = [nn.Conv2d(2 * width, 1, 7, stride=1, padding=0)]  # 7 -> 1: the logit
        else:
            read_out = [nn.Flatten(), nn.Linear(2 * width * 49, dense_features, bias=not use_batchnorm),
                        *_norm(dense_features, use_batchnorm, nn.BatchNorm1d), nn.LeakyReLU(0.2, inplace=True),
                        nn.Linear(dense_features, 1)]
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),  # 28 -> 14, no batch norm here
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=not use_batchnorm),  # 14 -> 7
            *_norm(2 * width, use_batchnorm), nn.LeakyReLU(0.2, inplace=True),
            *read_out,
        )
        if init:
            self.apply(dcgan_init_)
        if spectral_norm:  # after the init: W / sigma(W) rescales whatever weights it starts from
            for layer in self.net:
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.channels, 28, 28):
            raise ValueError(f"expected images of shape (N, {self.channels}, 28, 28), "
                             f"got {tuple(x.shape)}")
        return self.net(x).flatten()


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN initialisation, for ``model.apply(dcgan_init_)``: conv weights ~ N(0, 0.02),
    batch-norm scales ~ N(1, 0.02), biases 0. (``nn.init`` works without gradients.)"""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
