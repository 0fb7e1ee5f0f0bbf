"""Walking through a generator's latent space: linear and spherical interpolation.

Latent vectors drawn from N(0, I) in d dimensions have norms close to sqrt(d):
they live near a sphere. The straight line between two of them cuts inside
that sphere (its midpoint has norm about sqrt(d/2)), where the generator saw
almost no training noise; spherical interpolation (slerp) walks along the
sphere instead.
"""
from __future__ import annotations

import torch


def _as_times(t, like: torch.Tensor) -> torch.Tensor:
    times = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    if times.dim() > 1:
        raise ValueError(f"t must be a number or a 1-D sequence of numbers, got shape {tuple(times.shape)}")
    return times


def _check_pair(z0: torch.Tensor, z1: torch.Tensor) -> None:
    if not (isinstance(z0, torch.Tensor) and isinstance(z1, torch.Tensor)):
        raise TypeError("z0 and z1 must be torch tensors (use torch.as_tensor on NumPy arrays)")
    if z0.shape != z1.shape or z0.dim() != 1:
        raise ValueError(f"z0 and z1 must be 1-D latent vectors of the same length, got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}; interpolate one pair at a time")


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """Linear interpolation (1 - t) z0 + t z1.

    ``t`` a number gives one vector (d,); ``t`` a sequence of n numbers gives (n, d).
    """
    _check_pair(z0, z1)
    times = _as_times(t, z0)
    if times.dim() == 0:
        return (1 - times) * z0 + times * z1
    return (1 - times)[:, None] * z0 + times[:, None] * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle from z0 to z1.

    slerp(z0, z1, t) = sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1,
    with w the angle between z0 and z1. For (nearly) parallel vectors, where
    sin(w) is 0, it falls back to :func:`lerp`, its limit. Shapes as in :func:`lerp`.
    """
    _check_pair(z0, z1)
    times = _as_times(t, z0)
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(eps)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < eps:
        return lerp(z0, z1, t)
    scalar = times.dim() == 0
    times = times.reshape(-1, 1)
    out = (torch.sin((1 - times) * omega) * z0 + torch.sin(times * omega) * z1) / torch.sin(omega)
    return out[0] if scalar else out


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, method: str = "slerp") -> torch.Tensor:
    """``steps`` latent vectors (steps, d) from z0 to z1 inclusive, by "slerp" or "lerp"."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both ends), got {steps}")
    if method not in ("slerp", "lerp"):
        raise ValueError(f"method must be 'slerp' or 'lerp', got {method!r}")
    times = torch.linspace(0, 1, steps)
    return (slerp if method == "slerp" else lerp)(z0, z1, times)
