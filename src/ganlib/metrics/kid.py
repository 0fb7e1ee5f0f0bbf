"""Kernel Inception Distance (Binkowski et al., 2018) and its MNIST-classifier twin.

KID is the squared maximum mean discrepancy between the two feature clouds
with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3. Its estimator is
unbiased, so unlike FID its expected value does not depend on the sample size;
it is averaged over random subsets, which also gives a standard deviation.

Conventions, checked against torchmetrics (``tests/test_metrics_peers.py``):
the same kernel and the same unbiased estimator, computed in float64; with the
same subsets the mean is the same to round-off. The reported ``std`` is the
*sample* standard deviation over subsets (ddof=1); torchmetrics and
torch-fidelity report the population one (ddof=0), smaller by a factor
sqrt((subsets - 1) / subsets).
"""
from __future__ import annotations

import torch

from .features import check_subset_size, classifier_features, inception_features, validated_feature_pair  # noqa: F401
from .score import Score


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
                      seed: int = 0) -> Score:
    """KID between two feature clouds: mean and sample std (ddof=1) of MMD^2 over random subsets.

    Each subset draws ``subset_size`` real and ``subset_size`` generated
    features without replacement; ``subset_size`` must be smaller than both
    sample counts, or every subset would hold the same points.
    """
    real, fake = validated_feature_pair(real_features, fake_features)
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    check_subset_size(subset_size, len(real), len(fake))
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        r = real[torch.randperm(len(real), generator=gen)[:subset_size]]
        f = fake[torch.randperm(len(fake), generator=gen)[:subset_size]]
        values.append(mmd2_unbiased(r, f))
    values = torch.tensor(values, dtype=torch.float64)
    return Score(float(values.mean()), float(values.std()) if subsets > 1 else 0.0)


def classifier_kid(real_images, fake_images, classifier=None, **kwargs) -> Score:
    """MNIST-classifier KID (not comparable with Inception KID)."""
    return kid_from_features(classifier_features(real_images, classifier),
                             classifier_features(fake_images, classifier), **kwargs)


def inception_kid(real_images, fake_images, backend: str | None = None, batch_size: int = 100,
                  device=None, **kwargs) -> Score:
    """KID with Inception-v3 features (needs downloaded weights; offline: use classifier_kid).

    ``backend``: ``"torchmetrics"`` (the TF-ported Inception of published
    numbers), ``"torchvision"`` (ganlib's formula on torchvision's Inception),
    or None for torchmetrics where it and its weights are available, else
    torchvision. ``kwargs``: ``subsets``, ``subset_size``, ``seed``.
    """
    from .backends import resolve_backend, torchmetrics_kid

    if resolve_backend(backend) == "torchmetrics":
        return torchmetrics_kid(real_images, fake_images, batch_size=batch_size, device=device, **kwargs)
    return kid_from_features(inception_features(real_images, batch_size, device),
                             inception_features(fake_images, batch_size, device), **kwargs)
