"""Checks for the exercises of chapter 3 (Nash equilibrium and training dynamics)."""
from __future__ import annotations

import numpy as np

from .. import games
from .core import Case, forbid, run_check


def _pair(result):
    """(x, y) as two floats, or a message saying why the result is not a pair."""
    try:
        values = np.asarray([float(np.asarray(v).reshape(())) for v in result])
    except (TypeError, ValueError):
        return None, f"returned {result!r}; expected a pair (x_new, y_new) of numbers"
    if values.shape != (2,):
        return None, f"returned {len(values)} values; expected a pair (x_new, y_new)"
    return values, None


def check_extragradient_step(fn) -> None:
    """Chapter 3: ``fn(x, y, lr)`` -> ``(x_new, y_new)``, one extragradient step
    on ``min_x max_y x * y``."""

    def expect(x, y, lr):
        want = np.array(games.extragradient_step(x, y, lr))
        # Common slips, each with its own explanation.
        slips = {
            "one plain simultaneous GDA step (the look-ahead gradients were never used)":
                np.array(games.simultaneous_gda_step(x, y, lr)),
            "two simultaneous GDA steps: the second step must start from the ORIGINAL point "
            "(x, y), not from the look-ahead point":
                np.array(games.simultaneous_gda_step(*games.simultaneous_gda_step(x, y, lr), lr)),
            "an extragradient step with y descending: y is the maximising player, so it moves "
            "along +df/dy":
                np.array([x - lr * (y - lr * x), y - lr * (x - lr * y)]),
            "an extragradient step with the partial derivatives swapped: df/dx = y and df/dy = x":
                np.array([x - lr * (x + lr * y), y + lr * (y - lr * x)]),
        }

        def compare(result):
            got, problem = _pair(result)
            if problem:
                return problem
            if np.allclose(got, want, atol=1e-9):
                return None
            for description, value in slips.items():
                if np.allclose(got, value, atol=1e-9):
                    return f"returned {got.tolist()}, which is {description}; expected {want.tolist()}"
            return f"returned {got.tolist()}, expected {want.tolist()}"
        return compare

    hint = ("look ahead: (x_h, y_h) = (x - lr*y, y + lr*x); then step from (x, y) with the "
            "gradients at the look-ahead point: (x - lr*y_h, y + lr*x_h)")
    cases = [Case((x, y, lr), compare=expect(x, y, lr), hint=hint)
             for x, y, lr in [(1.0, 1.0, 0.5), (1.0, 0.0, 0.1), (-2.0, 3.0, 0.2), (0.0, 0.0, 0.3)]]
    # the exercise says "Do not call ganlib.games": its functions are unavailable to fn
    run_check("extragradient_step", forbid(fn, "ganlib.games"), cases)


def check_gda_jacobian(fn) -> None:
    """Chapter 3: ``fn(lr)`` -> the 2 x 2 Jacobian of one simultaneous GDA step
    on ``min_x max_y x * y`` (state (x, y))."""

    def expect(lr):
        want = games.update_jacobian("simultaneous", lr)
        transposed = want.T
        alternating = games.update_jacobian("alternating", lr)

        def compare(result):
            if result is None:
                return "returned None: did you forget the `return` statement?"
            try:
                got = np.asarray(result, dtype=float)
            except (TypeError, ValueError):
                return f"returned {type(result).__name__}; expected a 2 x 2 array"
            if got.shape != (2, 2):
                return f"returned shape {got.shape}; expected (2, 2): rows are (x_new, y_new), columns (x, y)"
            if np.allclose(got, want, atol=1e-9):
                return None
            if np.allclose(got, transposed, atol=1e-9):
                return ("returned the transpose: row i holds the derivatives of output i "
                        "(row 0 is d x_new / d(x, y))")
            if np.allclose(got, alternating, atol=1e-9):
                return "returned the alternating-GDA Jacobian; this exercise asks for simultaneous GDA"
            if np.allclose(got, np.array([[1.0, -lr], [-lr, 1.0]]), atol=1e-9):
                return "returned a matrix in which y descends; y maximises, so y_new = y + lr * x"
            return f"returned {got.tolist()}, expected {want.tolist()}"
        return compare

    hint = "x_new = x - lr*y and y_new = y + lr*x; differentiate each output by (x, y)"
    cases = [Case((lr,), compare=expect(lr), hint=hint) for lr in (0.1, 0.5, 1.0)]
    run_check("gda_jacobian", fn, cases)
