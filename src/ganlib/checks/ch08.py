"""Checks for the exercises of chapter 9 (evaluating GANs)."""
from __future__ import annotations

import numpy as np

from .core import Case, run_check


def _spd(d: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def check_frechet_distance(fn) -> None:
    """Chapter 9: ``fn(mu1, sigma1, mu2, sigma2)`` -> the Frechet distance (a float)
    between N(mu1, sigma1) and N(mu2, sigma2), for NumPy vectors and matrices."""
    import scipy.linalg  # imported here, not at the top, so `import ganlib` stays quick

    rng = np.random.default_rng(8)
    mu_a, mu_b = rng.normal(size=3), rng.normal(size=3)
    s_a, s_b = _spd(3, 1), _spd(3, 2)
    general = float(np.sum((mu_a - mu_b) ** 2)
                    + np.trace(s_a + s_b - 2 * scipy.linalg.sqrtm(s_a @ s_b).real))
    # Rank-deficient covariances (fewer samples than dimensions), as in FID on small batches.
    x, y = rng.normal(size=(3, 6)), rng.normal(size=(3, 6)) + 1
    s_x, s_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    singular = float(np.sum((x.mean(0) - y.mean(0)) ** 2)
                     + np.trace(s_x + s_y - 2 * scipy.linalg.sqrtm(s_x @ s_y).real))
    hint_mean = "the mean term is the squared Euclidean distance |mu1 - mu2|^2"
    hint_sqrt = ("the covariance term is tr(S1 + S2 - 2 (S1 S2)^(1/2)): a matrix square root "
                 "(scipy.linalg.sqrtm, keep .real), not an element-wise np.sqrt")
    cases = [
        Case((np.zeros(2), np.eye(2), np.array([3.0, 4.0]), np.eye(2)), 25.0, atol=1e-6,
             describe="same covariance, means 5 apart", hint=hint_mean),
        Case((np.zeros(2), np.diag([1.0, 4.0]), np.zeros(2), np.diag([9.0, 16.0])), 8.0, atol=1e-6,
             describe="same mean, diagonal covariances: (1-3)^2 + (2-4)^2",
             hint="for diagonal covariances the covariance term is sum (sqrt(s1) - sqrt(s2))^2"),
        Case((mu_a, s_a, mu_b, s_b), general, atol=1e-5, describe="general 3-d Gaussians", hint=hint_sqrt),
        Case((mu_a, s_a, mu_a, s_a), 0.0, atol=1e-5, describe="a Gaussian and itself",
             hint="identical Gaussians are at distance 0"),
        Case((x.mean(0), s_x, y.mean(0), s_y), singular, atol=1e-4,
             describe="singular covariances (3 samples in 6-d)",
             hint="sqrtm of a singular product can return tiny imaginary parts: take .real"),
    ]
    run_check("frechet_distance", lambda *a: None if (r := fn(*a)) is None else float(np.real(r)), cases)


def check_inception_score(fn) -> None:
    """Chapter 9: ``fn(probs)`` -> exp(mean KL(p(y|x) || p(y))) for an (N, K) NumPy array."""
    eye = np.eye(4)
    mixed = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1]])
    marginal = mixed.mean(0)
    want = float(np.exp(np.mean(np.sum(mixed * np.log(mixed / marginal), axis=1))))
    hint = "p(y) is the mean of the rows; KL(p || q) = sum p log(p / q); the score is exp of the mean KL"
    cases = [
        Case((np.tile(eye, (5, 1)),), 4.0, describe="sure of every sample, 4 classes used evenly", hint=hint),
        Case((eye[[2, 2, 2, 2]],), 1.0, describe="sure, but always class 2",
             hint="if every sample has the same class, p(y|x) = p(y) and the score is 1; "
                  "0 * log 0 counts as 0 (add a tiny eps inside the log)"),
        Case((np.full((3, 4), 0.25),), 1.0, describe="never sure (uniform rows)", hint=hint),
        Case((mixed,), want, describe="two unsure samples", hint=hint),
    ]
    run_check("inception_score", fn, cases)
