"""Frechet Inception Distance (Heusel et al., 2017) and its MNIST-classifier twin.

FID fits one Gaussian to each cloud of feature vectors and measures the
Frechet (2-Wasserstein) distance between the two Gaussians:

    FID = |mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^{1/2}).

The matrix square root is the delicate part. ``S_r S_g`` is not symmetric,
and a general ``sqrtm`` on it returns tiny imaginary parts or NaNs when the
covariances are singular (fewer samples than dimensions). We use that
tr((S_r S_g)^{1/2}) = tr((A S_g A)^{1/2}) with A = S_r^{1/2}: both square roots
are of symmetric positive semi-definite matrices, done by an eigen-decomposition
in float64 with eigenvalues below round-off (d * eps * the largest) set to
zero, so singular covariances (fewer samples than dimensions) add no spurious
sqrt(1e-16) terms. The result is real.

Checked against torchmetrics' ``_compute_fid`` on the same features
(``tests/test_metrics_peers.py``): equal to 1e-6 relative or better.
"""
from __future__ import annotations

import numpy as np
import torch

from .features import classifier_features, inception_features, validated_feature_pair, validated_features


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and unbiased covariance (d, d) of (N, d) features, in float64."""
    arr = validated_features(features).numpy()
    return arr.mean(axis=0), np.cov(arr, rowvar=False).reshape(arr.shape[1], arr.shape[1])


def _drop_round_off(values: np.ndarray) -> np.ndarray:
    """Eigenvalues of a PSD matrix with round-off ones (below d * eps * max) set to 0."""
    cutoff = len(values) * np.finfo(np.float64).eps * np.abs(values).max(initial=0.0)
    return np.where(values > cutoff, values, 0.0)


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigen route)."""
    sym = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(sym)
    return (vectors * np.sqrt(_drop_round_off(values))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((sigma1 sigma2)^{1/2}) for PSD matrices, computed stably and real."""
    root1 = sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    values = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sqrt(_drop_round_off(values)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, "
                         f"sigma {sigma1.shape} / {sigma2.shape}")
    for name, value in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains NaN or infinite values: check the features it came from")
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        scale = max(np.abs(sigma).max(), np.finfo(np.float64).tiny)
        if np.abs(sigma - sigma.T).max() > 1e-6 * scale:
            raise ValueError(f"{name} is not symmetric: pass a covariance matrix (np.cov(features, rowvar=False))")
        lowest = np.linalg.eigvalsh((sigma + sigma.T) / 2).min()
        if lowest < -1e-6 * scale:
            raise ValueError(f"{name} is not positive semi-definite (an eigenvalue is {lowest:.3g}): pass a "
                             "covariance matrix (np.cov(features, rowvar=False))")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(max(value, 0.0))  # round-off can leave -1e-12 for identical inputs


def fid_from_features(real_features, fake_features) -> float:
    """FID between two clouds of feature vectors (any extractor), (N, d) and (M, d)."""
    real, fake = validated_feature_pair(real_features, fake_features)
    return frechet_distance(*gaussian_stats(real), *gaussian_stats(fake))


def classifier_fid(real_images: torch.Tensor, fake_images: torch.Tensor, classifier=None) -> float:
    """MNIST-classifier FID: FID in the feature space of ganlib's MNIST classifier.

    The same formula as FID, but NOT comparable with Inception FID numbers in
    papers; compare it only with other classifier FIDs.
    """
    return fid_from_features(classifier_features(real_images, classifier),
                             classifier_features(fake_images, classifier))


def inception_fid(real_images: torch.Tensor, fake_images: torch.Tensor, batch_size: int = 100,
                  device=None, backend: str | None = None) -> float:
    """FID with Inception-v3 features (needs downloaded weights; offline: use classifier_fid).

    ``backend``: ``"torchmetrics"`` runs torchmetrics' FID with the TF-ported
    Inception that published numbers use; ``"torchvision"`` runs ganlib's
    formula on torchvision's ImageNet Inception (close to, not equal to,
    published numbers); None picks torchmetrics where the package and its
    weights are available (Colab), else torchvision.
    """
    from .backends import resolve_backend, torchmetrics_fid

    if resolve_backend(backend) == "torchmetrics":
        return torchmetrics_fid(real_images, fake_images, batch_size=batch_size, device=device)
    return fid_from_features(inception_features(real_images, batch_size, device),
                             inception_features(fake_images, batch_size, device))
