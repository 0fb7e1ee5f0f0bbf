"""Input checks that read tensor values, and the one place that turns them off.

Checking that class ids lie in 0..K-1 reads the smallest and largest id back
into Python; on a GPU that makes the host wait for the device, about ten times
in every step of a conditional GAN. ``train_gan`` checks its data's labels once
before the first step and draws fake labels in range, so inside its loop
(``values_already_checked()``) the networks skip those reads. Everywhere else
(a student's own call, sampling, a hand-written loop) every check runs.
"""
from __future__ import annotations

import contextlib
import contextvars

_SKIP_VALUE_CHECKS = contextvars.ContextVar("ganlib_skip_value_checks", default=False)


def check_values() -> bool:
    """Whether checks that read tensor values should run here (False inside ``train_gan``'s loop)."""
    return not _SKIP_VALUE_CHECKS.get()


@contextlib.contextmanager
def values_already_checked():
    """Within the block, skip the checks that read tensor values (the caller checked them once)."""
    token = _SKIP_VALUE_CHECKS.set(True)
    try:
        yield
    finally:
        _SKIP_VALUE_CHECKS.reset(token)
