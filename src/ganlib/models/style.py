"""A StyleGAN-style generator small enough for MNIST (chapter 10).

The ideas of Karras et al. (2019, 2020), each in a few lines:

- a *mapping network* turns the noise z into an intermediate latent w;
- the image starts from a *learned constant*, not from z;
- w sets the *style* of every layer: AdaIN (StyleGAN) rescales and shifts each
  normalized feature map, or weight *modulation and demodulation* (StyleGAN2)
  scales the convolution weights instead;
- per-pixel *noise* adds stochastic detail;
- *style mixing*: coarse layers take w from one z, fine layers from another;
- the *truncation trick*: w -> w_avg + psi (w - w_avg) trades variety for quality.

Shapes (width c): const (c, 7, 7) -> style layer at 7x7 (coarse) -> upsample,
14x14 (middle) -> upsample, 28x28 (fine) -> 1x1 conv -> tanh image (N, 1, 28, 28).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick: pull ``w`` towards the average latent, ``w_avg + psi (w - w_avg)``.

    psi = 1 leaves w unchanged; psi = 0 maps every sample to the "average" image.
    """
    return w_avg + psi * (w - w_avg)


class PixelNorm(nn.Module):
    """Scale each vector to unit root-mean-square length (StyleGAN normalizes z this way)."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


class MappingNetwork(nn.Module):
    """z (N, latent_dim) -> w (N, w_dim): pixel norm, then ``depth`` Linear + LeakyReLU layers.

    StyleGAN uses 8 layers of 512 units; a few small layers are enough for MNIST.

    The layers start with He initialization (variance 2 / fan_in, for the leaky
    ReLU) and zero biases, so w varies with z as much as z itself does.
    PyTorch's default (variance 1 / (3 fan_in), biases up to 1 / sqrt(fan_in))
    shrinks the z-dependent part about threefold per layer while the biases
    stay: three layers give a w that is nearly the same vector for every z,
    and the generator collapses to one image. (StyleGAN gets the same unit
    scale from its equalized learning rate.)
    """

    def __init__(self, latent_dim: int = 32, w_dim: int = 32, depth: int = 3):
        super().__init__()
        if latent_dim < 1 or w_dim < 1 or depth < 1:
            raise ValueError("latent_dim, w_dim and depth must be positive integers")
        self.latent_dim, self.w_dim = latent_dim, w_dim
        layers: list[nn.Module] = [PixelNorm()]
        width = latent_dim
        for _ in range(depth):
            linear = nn.Linear(width, w_dim)
            nn.init.kaiming_normal_(linear.weight, a=0.2, nonlinearity="leaky_relu")
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.LeakyReLU(0.2)]
            width = w_dim
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected noise of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)


class AdaIN(nn.Module):
    """Adaptive instance normalization: ``gamma(w) * normalize(x) + beta(w)``.

    Each feature map is normalized to mean 0 and std 1 over its pixels (per
    image), then a learned affine map of w sets its new scale and offset: the
    style. The biases start at gamma = 1 and beta = 0; the weights as StyleGAN's
    (variance 1 / w_dim), so the styles depend on w from the start.
    """

    def __init__(self, channels: int, w_dim: int, eps: float = 1e-5):
        super().__init__()
        self.channels, self.eps = channels, eps
        self.affine = nn.Linear(w_dim, 2 * channels)
        nn.init.normal_(self.affine.weight, 0.0, 1.0 / math.sqrt(w_dim))
        with torch.no_grad():
            self.affine.bias[:channels] = 1.0  # gamma
            self.affine.bias[channels:] = 0.0  # beta

    def style(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(gamma, beta), each (N, channels)."""
        gamma, beta = self.affine(w).chunk(2, dim=1)
        return gamma, beta

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + self.eps).sqrt()
        gamma, beta = self.style(w)
        return gamma[:, :, None, None] * (x - mean) / std + beta[:, :, None, None]


class ModulatedConv2d(nn.Module):
    """StyleGAN2's convolution: the style scales the *weights*, not the activations.

    Modulation multiplies input channel i of the kernel by s_i(w); demodulation
    divides each output channel's kernel by its L2 norm, so unit-variance inputs
    give (roughly) unit-variance outputs, which replaces AdaIN's normalization.
    Each sample gets its own kernel; a grouped convolution runs them all at once.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int,
                 demodulate: bool = True, eps: float = 1e-8):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.demodulate, self.eps = kernel_size, demodulate, eps
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.affine = nn.Linear(w_dim, in_channels)
        nn.init.normal_(self.affine.weight, 0.0, 1.0 / math.sqrt(w_dim))  # as StyleGAN2's
        nn.init.ones_(self.affine.bias)  # s = 1 + (a linear function of w)
        self.weight.data /= math.sqrt(in_channels * kernel_size ** 2)  # unit-variance start

    def modulated_weight(self, w: torch.Tensor) -> torch.Tensor:
        """The per-sample kernels, (N, out, in, k, k)."""
        s = self.affine(w)  # (N, in)
        weight = self.weight[None] * s[:, None, :, None, None]
        if self.demodulate:
            norm = torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + self.eps)
            weight = weight * norm
        return weight

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        n, c, h, wd = x.shape
        if c != self.in_channels:
            raise ValueError(f"expected {self.in_channels} input channels, got {c}")
        weight = self.modulated_weight(w).reshape(n * self.out_channels, c,
                                                  self.kernel_size, self.kernel_size)
        out = F.conv2d(x.reshape(1, n * c, h, wd), weight, padding=self.kernel_size // 2, groups=n)
        return out.reshape(n, self.out_channels, h, wd) + self.bias[None, :, None, None]


class NoiseInjection(nn.Module):
    """Add per-pixel Gaussian noise with a learned per-channel strength (starts at 0)."""

    def __init__(self, channels: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.enabled = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return x + self.strength * noise


class StyleLayer(nn.Module):
    """One styled layer: [upsample x2] -> conv 3x3 styled by w -> noise -> LeakyReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, upsample: bool,
                 modulation: str):
        super().__init__()
        self.upsample, self.modulation = upsample, modulation
        if modulation == "adain":
            self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
            self.adain = AdaIN(out_channels, w_dim)
        else:
            self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, demodulate=True)
        self.noise = NoiseInjection(out_channels)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        if self.modulation == "adain":
            # StyleGAN order: conv, noise, activation, then AdaIN.
            return self.adain(self.act(self.noise(self.conv(x))), w)
        return self.act(self.noise(self.conv(x, w)))


class StyleGenerator(nn.Module):
    """A three-layer style-based generator for 1x28x28 images.

    ``G(z)`` maps z to w, feeds the same w to the coarse (7x7), middle (14x14)
    and fine (28x28) layers, and returns images in [-1, 1]. ``synthesis(ws)``
    takes one w per layer, shape (N, num_styles, w_dim): give different rows
    to different layers for style mixing. While training, ``forward`` tracks
    ``w_avg`` (a moving average of w) and, with probability ``mixing_prob``,
    mixes the styles of two noise vectors (StyleGAN's mixing regularization).

    modulation: "adain" (StyleGAN) or "demod" (StyleGAN2 weight demodulation).
    """

    num_styles = 3
    layer_names = ("coarse 7x7", "middle 14x14", "fine 28x28")

    def __init__(self, latent_dim: int = 32, w_dim: int = 32, width: int = 32,
                 mapping_depth: int = 3, modulation: str = "adain", mixing_prob: float = 0.5,
                 w_avg_beta: float = 0.995):
        super().__init__()
        if modulation not in ("adain", "demod"):
            raise ValueError(f"modulation must be 'adain' or 'demod', got {modulation!r}")
        if width < 1:
            raise ValueError(f"width must be a positive integer, got {width}")
        if not 0.0 <= mixing_prob <= 1.0:
            raise ValueError(f"mixing_prob is a probability in [0, 1], got {mixing_prob}")
        self.latent_dim, self.w_dim, self.width = latent_dim, w_dim, width
        self.modulation, self.mixing_prob, self.w_avg_beta = modulation, mixing_prob, w_avg_beta
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_depth)
        self.const = nn.Parameter(torch.randn(1, 2 * width, 7, 7))
        self.layers = nn.ModuleList([
            StyleLayer(2 * width, 2 * width, w_dim, upsample=False, modulation=modulation),  # 7x7
            StyleLayer(2 * width, width, w_dim, upsample=True, modulation=modulation),  # 14x14
            StyleLayer(width, width, w_dim, upsample=True, modulation=modulation),  # 28x28
        ])
        self.to_image = nn.Conv2d(width, 1, 1)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def set_noise(self, enabled: bool) -> None:
        """Turn the per-pixel noise on or off (off: the image is a function of w alone)."""
        for layer in self.layers:
            layer.noise.enabled = bool(enabled)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """One w per sample (N, w_dim) -> the same w for every layer (N, num_styles, w_dim)."""
        return w[:, None, :].expand(-1, self.num_styles, -1)

    def synthesis(self, ws: torch.Tensor) -> torch.Tensor:
        """Per-layer styles ws (N, num_styles, w_dim) or one w (N, w_dim) -> images."""
        if ws.dim() == 2:
            ws = self.broadcast(ws)
        if ws.dim() != 3 or ws.shape[1:] != (self.num_styles, self.w_dim):
            raise ValueError(f"expected styles of shape (N, {self.num_styles}, {self.w_dim}) "
                             f"or (N, {self.w_dim}), got {tuple(ws.shape)}")
        x = self.const.expand(len(ws), -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i])
        return torch.tanh(self.to_image(x))

    def mix(self, z_coarse: torch.Tensor, z_fine: torch.Tensor, crossover: int,
            psi: float = 1.0) -> torch.Tensor:
        """Style mixing: layers before ``crossover`` take w(z_coarse), the rest w(z_fine)."""
        if not 0 <= crossover <= self.num_styles:
            raise ValueError(f"crossover must be in 0..{self.num_styles}, got {crossover}")
        w_a = truncate(self.mapping(z_coarse), self.w_avg, psi)
        w_b = truncate(self.mapping(z_fine), self.w_avg, psi)
        ws = torch.cat([self.broadcast(w_a)[:, :crossover], self.broadcast(w_b)[:, crossover:]], 1)
        return self.synthesis(ws)

    @torch.no_grad()
    def estimate_w_avg(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """Set ``w_avg`` to the mean of w over ``n`` fresh noise vectors, and return it."""
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.latent_dim, generator=gen).to(self.w_avg.device)
        self.w_avg.copy_(self.mapping(z).mean(dim=0))
        return self.w_avg

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        w = self.mapping(z)
        if self.training:
            with torch.no_grad():  # the moving average the truncation trick pulls towards
                self.w_avg.lerp_(w.detach().float().mean(dim=0), 1.0 - self.w_avg_beta)  # w is float16 under autocast
            ws = self.broadcast(w)
            if self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
                w2 = self.mapping(torch.randn_like(z))
                cut = int(torch.randint(1, self.num_styles, ()))
                ws = torch.cat([ws[:, :cut], self.broadcast(w2)[:, cut:]], dim=1)
            return self.synthesis(ws)
        if psi != 1.0:
            w = truncate(w, self.w_avg, psi)
        return self.synthesis(w)


def fade_in(low_res_rgb: torch.Tensor, high_res_rgb: torch.Tensor, alpha: float) -> torch.Tensor:
    """Progressive GAN's fade-in: blend the upsampled old output with the new layer's output.

    alpha goes from 0 (only the old, upsampled image) to 1 (only the new layer).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    scale = high_res_rgb.shape[-1] // low_res_rgb.shape[-1]
    if scale < 1 or low_res_rgb.shape[-1] * scale != high_res_rgb.shape[-1]:
        raise ValueError(f"the high-resolution size {tuple(high_res_rgb.shape[-2:])} must be an "
                         f"integer multiple of the low one {tuple(low_res_rgb.shape[-2:])}")
    upsampled = F.interpolate(low_res_rgb, scale_factor=scale, mode="nearest")
    return (1.0 - alpha) * upsampled + alpha * high_res_rgb


def truncated_normal(n: int, dim: int, threshold: float, generator: torch.Generator | None = None
                     ) -> torch.Tensor:
    """BigGAN's truncation trick: N(0, I) noise with every |z_i| > threshold resampled."""
    if not threshold > 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a positive number, got {threshold}")
    z = torch.randn(n, dim, generator=generator)
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > threshold
    return z
