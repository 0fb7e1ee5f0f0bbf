"""A small pix2pix (Isola et al., 2017) for 1x28x28 image pairs (chapter 11).

- ``UNetGenerator``: an encoder-decoder whose skip connections copy each
  encoder feature map to the decoder layer of the same size, so fine detail
  (where the edges are) need not squeeze through the bottleneck.
- ``PatchDiscriminator``: a conditional discriminator that sees the input and
  an output side by side and returns a *grid* of logits, one per overlapping
  patch, instead of one logit per image ("PatchGAN").
- ``pix2pix_generator_loss``: adversarial loss + lambda * L1 to the target.

Shapes (width c): input (N, 1, 28, 28) -> (c, 14, 14) -> (2c, 7, 7) -> bottleneck
(2c, 7, 7) -> (c, 14, 14) [+ skip] -> (1, 28, 28) [+ skip] in [-1, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .dcgan import dcgan_init_


class UNetGenerator(nn.Module):
    """Condition image (N, in_channels, 28, 28) -> output image (N, out_channels, 28, 28).

    pix2pix has no noise input: dropout is its only source of randomness. The
    paper keeps dropout on at test time too, and notes that the outputs vary
    little; call ``.eval()`` for one deterministic output per input, as
    chapter 11's evaluation does.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 32,
                 dropout: float = 0.5):
        super().__init__()
        if in_channels < 1 or out_channels < 1 or width < 1:
            raise ValueError("in_channels, out_channels and width must be positive integers")
        self.in_channels, self.out_channels, self.width = in_channels, out_channels, width
        c = width
        self.down1 = nn.Sequential(nn.Conv2d(in_channels, c, 4, 2, 1),  # 28 -> 14, no norm
                                   nn.LeakyReLU(0.2))
        self.down2 = nn.Sequential(nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),  # 14 -> 7
                                   nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2))
        self.bottleneck = nn.Sequential(nn.Conv2d(2 * c, 2 * c, 3, 1, 1, bias=False),  # 7 -> 7
                                        nn.BatchNorm2d(2 * c), nn.ReLU(), nn.Dropout(dropout))
        # decoder inputs are [previous decoder output, encoder skip] concatenated
        self.up1 = nn.Sequential(nn.ConvTranspose2d(4 * c, c, 4, 2, 1, bias=False),  # 7 -> 14
                                 nn.BatchNorm2d(c), nn.ReLU(), nn.Dropout(dropout))
        self.up2 = nn.Sequential(nn.ConvTranspose2d(2 * c, out_channels, 4, 2, 1),  # 14 -> 28
                                 nn.Tanh())
        self.apply(dcgan_init_)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.in_channels, 28, 28):
            raise ValueError(f"expected condition images of shape (N, {self.in_channels}, 28, 28), "
                             f"got {tuple(x.shape)}")
        d1 = self.down1(x)
        d2 = self.down2(d1)
        b = self.bottleneck(d2)
        u1 = self.up1(torch.cat([b, d2], dim=1))
        return self.up2(torch.cat([u1, d1], dim=1))


class PatchDiscriminator(nn.Module):
    """(image, condition) -> a (N, 1, 7, 7) grid of logits, one per 18x18 patch.

    The image comes first and the condition after it, as for every
    discriminator in ganlib (``D(x, *extra_inputs)``), so ``train_gan`` trains it.

    The condition and the image are stacked as channels, so D judges whether
    the output is a plausible *translation of this input*, not just a plausible
    image. Each logit sees an 18x18 window (see :func:`receptive_field`).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 32):
        super().__init__()
        if in_channels < 1 or out_channels < 1 or width < 1:
            raise ValueError("in_channels, out_channels and width must be positive integers")
        self.in_channels, self.out_channels, self.width = in_channels, out_channels, width
        c = width
        self.net = nn.Sequential(
            nn.Conv2d(in_channels + out_channels, c, 4, 2, 1), nn.LeakyReLU(0.2),  # 28 -> 14
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c),  # 14 -> 7
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 1, 3, 1, 1),  # 7 -> 7: one logit per patch
        )
        self.apply(dcgan_init_)

    def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        if condition.shape[0] != image.shape[0] or condition.shape[2:] != image.shape[2:]:
            raise ValueError(f"condition {tuple(condition.shape)} and image {tuple(image.shape)} "
                             "must have the same batch size and height x width")
        if condition.shape[1] != self.in_channels or image.shape[1] != self.out_channels:
            raise ValueError(f"expected {self.in_channels} condition and {self.out_channels} "
                             f"image channels, got {condition.shape[1]} and {image.shape[1]}")
        return self.net(torch.cat([condition, image], dim=1))


def receptive_field(model: nn.Module) -> int:
    """The side of the input window one output unit sees, for a plain stack of convolutions.

    Walk the layers from the input: each convolution with kernel k and stride s
    widens the window by (k - 1) times the product of the strides before it.
    """
    size, jump = 1, 1
    for layer in model.modules():
        if isinstance(layer, nn.Conv2d):
            k, s = layer.kernel_size[0], layer.stride[0]
            size += (k - 1) * jump
            jump *= s
    return size


def pix2pix_generator_loss(fake_logits: torch.Tensor, fake: torch.Tensor, target: torch.Tensor,
                           l1_weight: float = 100.0) -> torch.Tensor:
    """Non-saturating adversarial loss on every patch logit + ``l1_weight`` * mean |fake - target|.

    The L1 term gets the low frequencies (where the ink goes) right; the
    adversarial term makes the result sharp instead of the blurry average L1
    alone would settle for. The paper uses l1_weight = 100 for images in [-1, 1].
    """
    if fake.shape != target.shape:
        raise ValueError(f"fake {tuple(fake.shape)} and target {tuple(target.shape)} differ in shape")
    adversarial = F.softplus(-fake_logits).mean()  # -log D(x, G(x)), averaged over patches
    return adversarial + l1_weight * (fake - target).abs().mean()


def morphological_edges(images: torch.Tensor, size: int = 3) -> torch.Tensor:
    """The outline around each stroke: the ink dilated (a max-pool) minus the ink itself.

    Input in [-1, 1], shape (N, 1, H, W). Pixels above 0 (more than half inked)
    count as ink; the output is +1 on a thin contour just outside the ink and -1
    elsewhere, inside the strokes included (a hollow line drawing of the digit).
    """
    if images.dim() != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(images.shape)}")
    if size < 2 or size % 2 == 0:
        raise ValueError(f"size must be an odd integer >= 3, got {size}")
    unit = (images > 0).to(images.dtype)
    dilated = F.max_pool2d(unit, size, stride=1, padding=size // 2)
    return (dilated - unit).clamp(0, 1) * 2 - 1
