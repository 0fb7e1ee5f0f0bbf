"""Kernel Inception Distance (Binkowski et al., 2018) and its MNIST-classifier twin.

KID is the squared maximum mean discrepancy between the two feature clouds
with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3. Its estimator is
unbiased, so unlike FID its expected value does not depend on the sample size;
it is averaged over random subsets, which also gives a standard deviation.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .features import classifier_features, inception_features


@dataclass(frozen=True)
class KID:
    mean: float
    std: float

    def __str__(self) -> str:
        return f"{self.mean:.4g} +/- {self.std:.2g}"


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, degree: int = 3, coef: float = 1.0) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + coef) ** degree


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 between samples x (m, d) and y (n, d) with the cubic kernel."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("the unbiased MMD needs at least 2 samples on each side")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sum_xx = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    sum_yy = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(sum_xx + sum_yy - 2 * k_xy.mean())


def kid_from_features(real_features, fake_features, subsets: int = 50, subset_size: int = 1000,
                      seed: int = 0) -> KID:
    """KID between two feature clouds: mean and std of MMD^2 over random subsets."""
    real = torch.as_tensor(real_features).double()
    fake = torch.as_tensor(fake_features).double()
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need two (N, d) feature arrays with the same d, got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}")
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError("KID needs at least 2 samples on each side")
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        r = real[torch.randperm(len(real), generator=gen)[:size]]
        f = fake[torch.randperm(len(fake), generator=gen)[:size]]
        values.append(mmd2_unbiased(r, f))
    values = torch.tensor(values)
    return KID(float(values.mean()), float(values.std()) if subsets > 1 else 0.0)


def classifier_kid(real_images, fake_images, classifier=None, **kwargs) -> KID:
    """MNIST-classifier KID (not comparable with Inception KID)."""
    return kid_from_features(classifier_features(real_images, classifier),
                             classifier_features(fake_images, classifier), **kwargs)


def inception_kid(real_images, fake_images, **kwargs) -> KID:
    """KID with Inception-v3 features (downloads the weights; offline: use classifier_kid)."""
    return kid_from_features(inception_features(real_images), inception_features(fake_images), **kwargs)
