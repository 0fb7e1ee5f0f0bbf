"""Mode coverage on the 8-Gaussian ring."""
import numpy as np
import pytest
import torch

from ganlib.data import ring_centers, ring_of_gaussians
from ganlib.metrics import high_quality_share, mode_counts, modes_covered, ring_coverage


def test_real_data_covers_every_mode():
    data = ring_of_gaussians(4000, std=0.05, generator=torch.Generator().manual_seed(0))
    cov = ring_coverage(data, std=0.05)
    assert cov.modes_covered == 8
    assert cov.high_quality_share > 0.97  # 3 std in 2-D keeps about 98.9% of a Gaussian
    assert cov.counts.sum() == round(cov.high_quality_share * 4000)
    assert abs(cov.counts.min() - 500) < 100


def test_collapsed_generator_has_perfect_quality_but_few_modes():
    centers = ring_centers().numpy()
    samples = np.concatenate([np.repeat(centers[[1]], 30, 0), np.repeat(centers[[5]], 10, 0)])
    cov = ring_coverage(samples)
    assert cov.modes_covered == 2
    assert cov.high_quality_share == 1.0
    assert cov.counts.tolist() == [0, 30, 0, 0, 0, 10, 0, 0]
    assert modes_covered(samples, min_count=11) == 1


def test_threshold_is_n_std_standard_deviations():
    center = ring_centers().numpy()[0]
    inside = center + np.array([[0.059, 0.0]])   # within 3 * 0.02
    outside = center + np.array([[0.061, 0.0]])
    assert mode_counts(inside).tolist()[0] == 1
    assert mode_counts(outside).sum() == 0
    assert mode_counts(outside, n_std=4).tolist()[0] == 1
    assert high_quality_share(np.concatenate([inside, outside])) == 0.5


def test_points_between_modes_are_low_quality():
    between = np.array([[0.0, 0.0], [2.0 * np.cos(np.pi / 8), 2.0 * np.sin(np.pi / 8)]])
    cov = ring_coverage(between, std=0.1)
    assert cov.modes_covered == 0 and cov.high_quality_share == 0.0


def test_custom_centers_and_tensor_input():
    centers = np.array([[0.0, 0.0], [5.0, 5.0]])
    samples = torch.tensor([[0.01, 0.0], [5.0, 5.02], [2.5, 2.5]])
    assert mode_counts(samples, centers=centers, std=0.1).tolist() == [1, 1]


def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        ring_coverage(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="positive"):
        ring_coverage(np.zeros((5, 2)), std=0)
    with pytest.raises(ValueError, match="min_count"):
        ring_coverage(np.zeros((5, 2)), min_count=0)
