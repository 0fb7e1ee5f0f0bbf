"""Mode coverage on the 8-Gaussian ring (``ganlib.ring_of_gaussians``).

The usual toy measure of mode collapse (as in the unrolled-GAN and VEEGAN
papers): give every generated point to its nearest mode; it is a
*high-quality* sample if it lies within ``n_std`` standard deviations
(default 3) of that mode's centre. A mode is *covered* when at least
``min_count`` high-quality samples landed on it.

A generator that collapses onto two modes can have a perfect high-quality
share (every point sits on a mode) and still cover only 2 of 8 modes: the two
numbers measure different failures, so report both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import ring_centers


@dataclass
class RingCoverage:
    """What :func:`ring_coverage` measured."""

    counts: np.ndarray        # high-quality samples per mode, shape (modes,)
    n_samples: int
    min_count: int

    @property
    def modes(self) -> int:
        return len(self.counts)

    @property
    def modes_covered(self) -> int:
        return int((self.counts >= self.min_count).sum())

    @property
    def high_quality_share(self) -> float:
        return float(self.counts.sum() / self.n_samples)

    def __str__(self) -> str:
        return (f"{self.modes_covered} of {self.modes} modes covered; "
                f"{self.high_quality_share:.1%} of {self.n_samples} samples are high quality "
                f"(per mode: {self.counts.tolist()})")


def _as_points(samples) -> np.ndarray:
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().float().cpu().numpy()
    points = np.asarray(samples, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"expected a non-empty (N, 2) array of 2-D points, got shape {points.shape}")
    return points


def mode_counts(samples, *, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                n_std: float = 3.0, centers=None) -> np.ndarray:
    """High-quality samples per mode: each point counts for its nearest mode
    if it lies within ``n_std * std`` of that mode's centre. Shape (modes,).

    ``modes``, ``radius`` and ``std`` must match the ones the data was drawn
    with (``ring_of_gaussians``' defaults here); or pass ``centers`` (K, 2).
    """
    points = _as_points(samples)
    if std <= 0 or n_std <= 0:
        raise ValueError(f"std and n_std must be positive, got std={std}, n_std={n_std}")
    centers = ring_centers(modes, radius).numpy() if centers is None else _as_points(centers)
    distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)  # (N, K)
    nearest = distances.argmin(axis=1)
    close = distances[np.arange(len(points)), nearest] <= n_std * std
    return np.bincount(nearest[close], minlength=len(centers))


def ring_coverage(samples, *, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                  n_std: float = 3.0, min_count: int = 1, centers=None) -> RingCoverage:
    """Modes covered, high-quality share and per-mode counts in one object."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    counts = mode_counts(samples, modes=modes, radius=radius, std=std, n_std=n_std, centers=centers)
    return RingCoverage(counts=counts, n_samples=len(_as_points(samples)), min_count=int(min_count))


def modes_covered(samples, **kwargs) -> int:
    """How many modes received at least ``min_count`` high-quality samples."""
    return ring_coverage(samples, **kwargs).modes_covered


def high_quality_share(samples, **kwargs) -> float:
    """The share of samples within ``n_std`` standard deviations of their nearest mode."""
    return ring_coverage(samples, **kwargs).high_quality_share
