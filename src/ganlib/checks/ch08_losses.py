"""Checks for the exercises of chapter 8 (other losses and learned latent codes:
LSGAN, hinge, InfoGAN).

Like chapter 2's checks, they compare the answer with the right one and, when
it differs, with what the usual mistakes give, so the report names the mistake.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .core import Case, run_check


def _numbers(value):
    """A float64 array from a tensor (torch or TensorFlow), array or number; None if impossible."""
    if value is None:
        return None
    try:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().double().numpy()
        return np.asarray(value, dtype=np.float64)
    except Exception:  # a string, a dict, an object with no numbers in it
        return None


def _describe(value) -> str:
    arr = _numbers(value)
    if arr is None:
        return f"a {type(value).__name__}"
    if arr.size <= 6:
        return np.array2string(arr, precision=5, separator=", ")
    return f"an array of shape {arr.shape}"


def _matcher(expected, mistakes, atol: float, shape_hint: str = ""):
    """compare(result): None when ``result`` matches ``expected``; else what went wrong,
    naming a known mistake when the result matches it."""
    want = np.asarray(expected, dtype=np.float64)

    def compare(result):
        if result is None:
            return "returned None: did you forget the `return` statement?"
        got = _numbers(result)
        if got is None or got.dtype == object:
            return f"returned {_describe(result)}, expected numbers"
        if got.shape != want.shape:
            if got.size == want.size == 1:
                got = got.reshape(want.shape)
            else:
                return f"returned shape {got.shape}, expected shape {want.shape}{shape_hint}"
        if not np.all(np.isfinite(got)):
            return (f"returned non-finite values ({_describe(got)}): avoid dividing by zero and "
                    "exponentiating large logits (use log_softmax)")
        if np.allclose(got, want, atol=atol, rtol=0):
            return None
        for wrong, why in mistakes:
            wrong = np.asarray(wrong, dtype=np.float64)
            if wrong.shape == got.shape and np.all(np.isfinite(wrong)) and np.allclose(got, wrong, atol=atol, rtol=0):
                return f"returned {_describe(got)}, expected {_describe(want)}: {why}"
        worst = float(np.max(np.abs(got - want)))
        return (f"returned {_describe(got)}, expected {_describe(want)} (largest difference {worst:.3g}, "
                f"allowed {atol:g})")
    return compare


def reference_lsgan_optimal_discriminator(p_data, p_g, a: float, b: float) -> np.ndarray:
    """D*(x) = (b p_data + a p_g) / (p_data + p_g) ((a + b) / 2 where both densities vanish)."""
    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)
    total = p_data + p_g
    return np.where(total > 0, (b * p_data + a * p_g) / np.where(total > 0, total, 1.0), (a + b) / 2)


def check_lsgan_optimal_discriminator(fn) -> None:
    """Chapter 8: ``fn(p_data, p_g, a, b)`` -> LSGAN's optimal discriminator on arrays of densities."""
    x = np.linspace(-3, 3, 7)
    normal = lambda m, s: np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    cases = []
    for p_data, p_g, a, b, what in [
        (np.array([0.2, 0.5, 0.1]), np.array([0.2, 0.1, 0.3]), 0.0, 1.0, "0-1 targets (a = 0, b = 1)"),
        (normal(0, 1), normal(1, 0.5), -1.0, 1.0, "a = -1, b = 1 on a grid of two Gaussians"),
        (np.array([0.3, 0.0, 0.4]), np.array([0.0, 0.2, 0.4]), -1.0, 1.0,
         "where one density is 0, D* is that target exactly"),
        (np.array([0.6, 0.1]), np.array([0.2, 0.3]), 2.0, 5.0, "other targets (a = 2, b = 5)"),
    ]:
        expected = reference_lsgan_optimal_discriminator(p_data, p_g, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            mistakes = [
                ((a * p_data + b * p_g) / (p_data + p_g),
                 "the targets are swapped: real data (density p_data) is pulled towards b, fakes towards a"),
                (b * p_data + a * p_g, "divide by p_data + p_g: the two weighted squares are minimised "
                 "together, so D* is a weighted average of a and b"),
                (p_data / (p_data + p_g), "that is the classic GAN's D*, which is LSGAN's only for a = 0, b = 1: "
                 "use the targets"),
            ]
        cases.append(Case((p_data, p_g, a, b), compare=_matcher(expected, mistakes, 1e-6),
                          describe=what,
                          hint="minimise p_data (D - b)^2 + p_g (D - a)^2 over the number D: set its "
                               "derivative to zero"))
    run_check("lsgan_optimal_discriminator", fn, cases)


def reference_mi_lower_bound(logits, codes) -> float:
    """L_I = H(c) + E[log Q(c | x)] for a uniform code of K values: log K - cross-entropy."""
    logits, codes = np.asarray(logits, float), np.asarray(codes, int)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_q = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(math.log(logits.shape[1]) + log_q[np.arange(len(codes)), codes].mean())


def check_mi_lower_bound(fn, tensor=torch.as_tensor) -> None:
    """Chapter 8: ``fn(logits, codes)`` -> InfoGAN's lower bound L_I on I(c; G(z, c)) for a
    uniform categorical code (logits (N, K) of Q(c | x), codes (N,) that made x).

    ``tensor`` turns the NumPy inputs into what your function takes: ``torch.as_tensor``
    (default) or, in the Keras companion, ``tf.constant``.
    """
    rng = np.random.default_rng(0)
    codes10 = np.arange(40) % 10
    random_logits = rng.normal(0, 2, size=(40, 10)).astype(np.float32)
    confident = np.full((40, 10), -20.0, dtype=np.float32)
    confident[np.arange(40), codes10] = 20.0
    codes4 = rng.integers(0, 4, size=32)
    logits4 = rng.normal(0, 1, size=(32, 4)).astype(np.float32)
    cases = []
    for logits, codes, what in [
        (random_logits, codes10, "random logits, K = 10"),
        (np.zeros((40, 10), np.float32), codes10, "Q knows nothing (equal logits): the bound is 0"),
        (confident, codes10, "Q is sure and right: the bound reaches H(c) = log 10"),
        (random_logits + 100.0, codes10, "the same logits + 100 (softmax ignores a shift)"),
        (logits4, codes4, "K = 4 categories"),
    ]:
        expected = reference_mi_lower_bound(logits, codes)
        k = logits.shape[1]
        ce = math.log(k) - expected
        mistakes = [
            (ce, "that is the cross-entropy -E[log Q(c|x)], the loss; the bound is H(c) minus it"),
            (-ce, "add the code's entropy H(c) = log K: L_I = H(c) + E[log Q(c|x)]"),
            (expected / math.log(2), "use the natural log (nats), as the losses do, not log base 2"),
        ]
        if k != 10:
            mistakes.append((math.log(10) - ce, "take K from the logits' shape, not a fixed 10"))
        cases.append(Case((tensor(logits), tensor(codes)), compare=_matcher(expected, mistakes, 1e-4,
                          ": return one number, the mean over the batch"),
                          describe=what,
                          hint="L_I = log K + mean over the batch of log softmax(logits)[i, codes[i]]"))
    run_check("mi_lower_bound", fn, cases)
