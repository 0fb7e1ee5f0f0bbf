"""Checks for the exercises of chapter 2 (the min-max game and its optimum).

Both checks compare the student's answer with the right one and, when they
differ, also with the answers that the usual mistakes produce (the ratio
upside down, log base 2 instead of the natural log, a forgotten 1/2), so the
report names the mistake instead of only saying "wrong".
"""
from __future__ import annotations

import numpy as np

from .core import Case, as_array, run_check, short


def _normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y) with the convention 0 * log(anything) = 0."""
    safe_y = np.where(x > 0, y, 1.0)
    return np.where(x > 0, x * np.log(safe_y), 0.0)


def reference_optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g) (1/2 where both densities vanish)."""
    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)
    total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def reference_jsd(p, q, dx: float) -> float:
    """Jensen-Shannon divergence in nats of two densities sampled on a uniform grid."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    m = 0.5 * (p + q)
    integrand = 0.5 * _xlogy(p, p / np.where(m > 0, m, 1.0)) + 0.5 * _xlogy(q, q / np.where(m > 0, m, 1.0))
    return float(np.sum(integrand) * dx)


def _diagnose(result, expected, mistakes: list, atol: float, non_finite: str) -> str | None:
    """None if ``result`` matches ``expected``; else a message, naming a known
    mistake when the result matches what that mistake would give."""
    if result is None:
        return "returned None: did you forget the `return` statement?"
    try:
        got = as_array(result)
    except (TypeError, ValueError):
        return f"returned {type(result).__name__}, expected numbers"
    want = as_array(expected)
    if got.shape != want.shape:
        return f"returned shape {tuple(got.shape)}, expected shape {tuple(want.shape)}"
    if not np.all(np.isfinite(got)):
        return f"returned non-finite values ({short(got)}): {non_finite}"
    if np.allclose(got, want, atol=atol, rtol=0):
        return None
    for wrong, why in mistakes:
        candidate = as_array(wrong)
        if candidate.shape == got.shape and np.allclose(got, candidate, atol=atol, rtol=0):
            return f"returned {short(got)}, expected {short(want)}: {why}"
    worst = float(np.max(np.abs(got - want)))
    return f"returned {short(got)}, expected {short(want)} (largest difference {worst:.3g}, allowed {atol:g})"


def check_optimal_discriminator(fn) -> None:
    """Chapter 2: ``fn(p_data, p_g)`` -> D*(x) on arrays of density values."""
    x = np.linspace(-4, 4, 9)
    cases = []
    for p_data, p_g, what in [
        (np.array([0.2, 0.5, 0.1]), np.array([0.2, 0.1, 0.3]), "three points"),
        (_normal_pdf(x, 0, 1), _normal_pdf(x, 1.5, 0.7), "N(0, 1) against N(1.5, 0.7^2) on a grid"),
        (np.array([0.4, 0.0, 0.3, 0.0]), np.array([0.0, 0.25, 0.3, 0.0]),
         "points where one or both densities are zero"),
    ]:
        expected = reference_optimal_discriminator(p_data, p_g)
        with np.errstate(divide="ignore", invalid="ignore"):  # the wrong answers may divide by 0
            mistakes = [
                (p_g / (p_data + p_g), "the ratio is upside down: D* is the probability that x is REAL, "
                "p_data / (p_data + p_g)"),
                (p_data / p_g, "p_data / p_g is the density ratio, not a probability: divide by the sum "
                "p_data + p_g"),
                (p_data / (p_data + p_g) > 0.5, "D* is a probability between 0 and 1, not a hard 0/1 decision"),
            ]

        def compare(result, expected=expected, mistakes=mistakes):
            return _diagnose(result, expected, mistakes, atol=1e-9,
                             non_finite="where both densities are 0 the ratio is 0/0; "
                             "return 1/2 there (np.where), the value D* takes wherever p_g = p_data")

        cases.append(Case((p_data, p_g), compare=compare, describe=what,
                          hint="maximise a log y + b log(1 - y) over y: the maximiser is a / (a + b)"))
    run_check("optimal_discriminator", fn, cases)


def check_jsd(fn) -> None:
    """Chapter 2: ``fn(p, q, dx)`` -> JSD(p || q) in nats, by quadrature on a uniform grid."""
    dx = 0.001
    x = np.arange(-12, 12 + dx / 2, dx)
    p0 = _normal_pdf(x, 0.0, 1.0)
    # Uniform densities on [-8, -2] and [2, 8], normalised on the grid itself and
    # zero at its ends, so a plain sum * dx and the trapezoid rule agree.
    disjoint_p = ((x >= -8) & (x <= -2)).astype(float)
    disjoint_q = ((x >= 2) & (x <= 8)).astype(float)
    disjoint_p, disjoint_q = disjoint_p / (disjoint_p.sum() * dx), disjoint_q / (disjoint_q.sum() * dx)
    settings = [
        (p0, p0, "identical densities: JSD = 0"),
        (p0, _normal_pdf(x, 1.5, 0.7), "N(0, 1) against N(1.5, 0.7^2)"),
        (p0, _normal_pdf(x, 0.0, 2.0), "N(0, 1) against N(0, 2^2)"),
        (disjoint_p, disjoint_q, "densities with disjoint supports: JSD = log 2"),
    ]
    cases = []
    for p, q, what in settings:
        expected = reference_jsd(p, q, dx)
        mistakes = []
        if expected > 1e-6:
            mistakes = [
                (expected / np.log(2), "this is the JSD in bits (log base 2); the book measures it in nats: "
                "use the natural log np.log"),
                (2 * expected, "twice the JSD: JSD = 1/2 KL(p || m) + 1/2 KL(q || m), did you drop the 1/2?"),
                (float(np.sum(_xlogy(p, p / np.maximum(0.5 * (p + q), 1e-300))) * dx),
                 "this is KL(p || m) alone: add KL(q || m) and halve the sum"),
                (expected / dx, "multiply the sum by the grid spacing dx to turn it into an integral"),
            ]

        def compare(result, expected=expected, mistakes=mistakes):
            if isinstance(result, np.ndarray) and result.size != 1:
                return (f"returned an array of shape {result.shape}: sum the integrand times dx "
                        "to get one number")
            try:
                value = result if result is None else as_array(result).reshape(())
            except (TypeError, ValueError):
                return f"returned {short(result)}, expected one number"
            return _diagnose(value, np.array(expected), mistakes, atol=1e-6,
                             non_finite="where a density is 0, 0 * log 0 must count as 0 "
                             "(use np.where, or sum only where the density is positive)")

        cases.append(Case((p, q, dx), compare=compare, describe=what,
                          hint="m = (p + q) / 2; JSD = sum(0.5 p log(p/m) + 0.5 q log(q/m)) * dx, "
                               "with 0 log 0 = 0"))
    run_check("jsd", fn, cases)
