"""Checks for the exercises of chapter 7 (WGAN and WGAN-GP)."""
from __future__ import annotations

import math

import torch

from .core import Case, forbid, numeric_answer, run_check


def _linear_critic(w: torch.Tensor):
    """f(x) = <w, x>: the input gradient is w everywhere, its norm |w|."""
    return lambda x: (x.flatten(1) * w.flatten()).sum(dim=1)


def _unit(shape, seed: int) -> torch.Tensor:
    w = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    return w / w.norm()


def _scalar(expected: float, atol: float):
    def compare(result):
        if not isinstance(result, torch.Tensor):
            return f"returned {type(result).__name__}, expected a scalar torch.Tensor"
        if result.numel() != 1:
            return (f"returned a tensor of shape {tuple(result.shape)}, expected one number: "
                    "average the squared deviations over the batch with .mean()")
        value = result.item()
        if not math.isfinite(value):
            return (f"returned {value}: compute the norm as sqrt(sum(g**2) + 1e-12) so a zero "
                    "gradient cannot give NaN")
        if abs(value - expected) > atol:
            return f"returned {value:.6g}, expected {expected:.6g}"
        return None
    return compare


def check_gradient_penalty(fn) -> None:
    """Chapter 7: ``fn(critic_fn, real, fake, weight=10.0)`` -> WGAN-GP's penalty (a scalar)."""
    fn = forbid(fn, "ganlib.losses")  # the exercise says "Do not call ganlib.losses"
    shape = (1, 6, 6)
    real = torch.randn(32, *shape, generator=torch.Generator().manual_seed(1))
    fake = torch.randn(32, *shape, generator=torch.Generator().manual_seed(2))

    def seen_points():
        """A unit-norm linear critic that records the points it is evaluated at."""
        w, seen = _unit(shape, 3), []

        def critic(x):
            seen.append(x.detach().clone())
            return (x.flatten(1) * w.flatten()).sum(dim=1)
        return critic, seen

    def interpolates_case():
        critic, seen = seen_points()
        result = fn(critic, torch.ones(256, *shape), torch.zeros(256, *shape), weight=10.0)
        if result is None:
            return "returned None: did you forget the `return` statement?"
        if not seen:
            return "never called critic_fn: evaluate the critic at the interpolated points"
        x = seen[-1]
        if x.shape != (256, *shape):
            return f"called the critic on shape {tuple(x.shape)}, expected the batch shape (256, 1, 6, 6)"
        # real = 1 and fake = 0, so every value of sample i is its weight eps_i.
        if x.min() < 0 or x.max() > 1:
            return (f"some interpolation weights fall outside [0, 1] (from {x.min():.2f} to "
                    f"{x.max():.2f}): draw eps with torch.rand (uniform), not torch.randn (normal)")
        per_sample = x.flatten(1)
        if (per_sample.max(1).values - per_sample.min(1).values).max() > 1e-6:
            return ("the weight varies inside one image: draw ONE eps per sample, shape "
                    "(N, 1, 1, 1), and let it broadcast over C, H, W")
        if len(torch.unique(per_sample[:, 0])) < 200:
            return "the samples share weights: draw a fresh eps for every sample in the batch"
        return None

    def gradient_case():
        w = (2.0 * _unit(shape, 4)).requires_grad_(True)
        result = fn(_linear_critic(w), real, fake, weight=10.0)
        if not isinstance(result, torch.Tensor) or not result.requires_grad:
            return ("the result carries no gradient to the critic's weights: call "
                    "torch.autograd.grad(..., create_graph=True) so the penalty can be trained")
        result.backward()
        # d/dw 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w| = 10 w when |w| = 2
        want = 10.0 * w.detach()
        if w.grad is None or not torch.allclose(w.grad, want, atol=1e-4):
            return "the penalty's gradient with respect to the critic's weights is wrong"
        return None

    def zero_gradient_case():
        scale = torch.zeros(1, requires_grad=True)  # f(x) = 0 * sum(x): input gradient exactly 0
        result = fn(lambda x: scale * x.flatten(1).sum(1), real, real.clone(), weight=10.0)
        problem = _scalar(10.0, 1e-3)(result)
        if problem:
            return problem
        if not result.requires_grad:
            return "the result carries no gradient: use torch.autograd.grad(..., create_graph=True)"
        result.backward()
        if scale.grad is None or not torch.isfinite(scale.grad).all():
            return (f"the penalty is right but its gradient is {scale.grad}: sqrt(sum(g**2)) has an "
                    "infinite derivative at 0; use sqrt(sum(g**2) + 1e-12)")
        return None

    hint_norm = "penalty = weight * mean((||grad f(x_hat)|| - 1)^2), the norm taken per sample"
    cases = [
        Case((_linear_critic(_unit(shape, 5)), real, fake), compare=_scalar(0.0, 1e-5),
             describe="critic <w, x> with |w| = 1: gradient norm 1 everywhere, so penalty 0",
             hint=hint_norm),
        Case((_linear_critic(3.0 * _unit(shape, 6)), real, fake), compare=_scalar(40.0, 1e-3),
             describe="|w| = 3, weight 10: 10 * (3 - 1)^2 = 40",
             hint=hint_norm + "; take the gradient with respect to x_hat, not to real or fake"),
        Case((_linear_critic(0.5 * _unit(shape, 7)), real, fake), kwargs={"weight": 2.0},
             compare=_scalar(0.5, 1e-4), describe="|w| = 1/2, weight 2: 2 * (1/2)^2 = 0.5",
             hint="use the `weight` argument instead of a fixed 10"),
        Case(run=zero_gradient_case,
             describe="a critic with zero input gradient: penalty 10, and no NaN in its gradient"),
        Case(run=interpolates_case,
             describe="x_hat = eps * real + (1 - eps) * fake with eps ~ Uniform[0, 1], one per sample"),
        Case(run=gradient_case, describe="the penalty back-propagates into the critic (create_graph=True)"),
    ]
    run_check("gradient_penalty", fn, cases)


def check_wasserstein_1d(fn) -> None:
    """Chapter 7: ``fn(x, y)`` -> W1 between two equal-size 1-D samples (tensors of shape (n,))."""
    hint = ("in 1-D the optimal plan pairs the sorted samples: mean(|sort(x) - sort(y)|)")
    x = torch.tensor([0.0, 1.0, 2.0, 3.0])
    cases = [
        Case((x, x + 5.0), 5.0, hint="shifting every point by 5 moves all mass a distance 5"),
        Case((x, x.flip(0)), 0.0, hint="the same points in another order are the same distribution: "
             "sort both samples before pairing them"),
        Case((torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0])), 2.0, hint=hint),
        Case((torch.tensor([3.0, -1.0, 2.0]), torch.tensor([0.0, 0.0, 0.0])), 2.0, hint=hint),
    ]
    run_check("wasserstein_1d", fn, cases)


def check_spectral_norm(fn) -> None:
    """Chapter 7 (Keras): ``fn(W)`` -> the largest singular value of a 2-D array, by power iteration."""
    import numpy as np

    def with_singular_values(rows, cols, values, seed):
        rng = np.random.default_rng(seed)
        u, _ = np.linalg.qr(rng.normal(size=(rows, rows)))
        v, _ = np.linalg.qr(rng.normal(size=(cols, cols)))
        s = np.zeros((rows, cols))
        s[np.arange(len(values)), np.arange(len(values))] = values
        return (u @ s @ v.T).astype(np.float32)

    def compare_with(W):
        want = float(np.linalg.norm(W.astype(np.float64), 2))
        frobenius = float(np.linalg.norm(W.astype(np.float64)))

        def compare(result):
            got, problem = numeric_answer(result, "one number")
            if problem:
                return problem
            if got.size != 1:
                return f"returned shape {got.shape}, expected one number: u^T W v"
            got = float(got.reshape(()))
            if not math.isfinite(got):
                return f"returned {got}: normalize u and v after every step"
            if abs(got - want) <= 1e-2 * want:
                return None
            if abs(got - frobenius) <= 1e-3 * frobenius and frobenius > 1.01 * want:
                return ("that is the Frobenius norm, which counts every singular value; "
                        "power iteration finds the largest one")
            if abs(got + want) <= 1e-2 * want:
                return "a singular value is never negative: use v = W^T u / |W^T u| and u = W v / |W v|"
            return f"returned {got:.5g}, expected {want:.5g}"
        return compare

    hint = ("v = W^T u / |W^T u|, u = W v / |W v|, repeated; then sigma = u^T W v "
            "(W^T, not W, maps u to the input side when W is not square)")
    cases = []
    for W, what in [(np.diag([3.0, 1.0]).astype(np.float32), "diag(3, 1)"),
                    (np.array([[-2.0, 0.0], [0.0, 1.0]], np.float32), "[[-2, 0], [0, 1]]: sigma = 2"),
                    (with_singular_values(3, 5, [4.0, 1.0, 0.5], 1), "a 3 x 5 matrix with sigma = 4"),
                    (np.outer([1.0, 2.0, 2.0], [3.0, 4.0]).astype(np.float32), "rank one: |a| |b| = 15"),
                    (with_singular_values(64, 32, [2.5] + [1.0] * 31, 2), "a 64 x 32 kernel with sigma = 2.5")]:
        cases.append(Case((W,), compare=compare_with(W), describe=what, hint=hint))
    run_check("spectral_norm", fn, cases)
