"""The engine behind auto-checked exercises.

A check runs the student's function on cases with known answers and prints,
for each case, what was expected and what came back, plus a hint, never a
bare "wrong". With ``GANLIB_STRICT_CHECKS=1`` (set by the tests and CI) a
failed check raises, so the book's own solutions are verified on every build.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

STRICT_ENV = "GANLIB_STRICT_CHECKS"


@dataclass
class Case:
    """One call ``fn(*args, **kwargs)`` and its expected result."""

    args: tuple = ()
    expected: Any = None
    kwargs: dict = field(default_factory=dict)
    atol: float = 1e-6
    hint: str = ""
    # Optional custom test: compare(result) -> None if fine, else a message.
    compare: Callable[[Any], str | None] | None = None
    describe: str | None = None


@dataclass
class CheckResult:
    name: str
    passed: int
    total: int
    messages: list

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, passed={self.passed}, total={self.total})"

    def report(self) -> str:
        head = (f"{self.name}: all {self.total} checks passed." if self.ok
                else f"{self.name}: {self.passed} of {self.total} checks passed.")
        return "\n".join([head] + self.messages)


def strict() -> bool:
    """True in strict mode (``GANLIB_STRICT_CHECKS=1``: tests and CI), where a failed
    check or expectation raises instead of printing advice."""
    return os.environ.get(STRICT_ENV, "").strip() == "1"


def short(value) -> str:
    """A one-line description of any value, for a report (never raises)."""
    try:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().float().numpy() if value.dtype == torch.bfloat16 \
                else value.detach().cpu().numpy()
        if isinstance(value, np.ndarray):
            if value.size <= 6:
                return np.array2string(value, precision=6, separator=", ")
            first = np.array2string(value.ravel()[:4], precision=4, separator=", ")
            return f"array of shape {value.shape} (first values {first})"
        if isinstance(value, float):
            return f"{value:.6g}"
        text = repr(value)
    except Exception:
        return f"a {type(value).__name__}"
    return text if len(text) <= 120 else f"a {type(value).__name__} ({text[:80]}...)"


def numeric_answer(result, expected: str):
    """(the answer as a float64 array, None), or (None, what is wrong with it) for a None or
    non-numeric answer; ``expected`` says what was asked for ("one number", say)."""
    if result is None:
        return None, "returned None: did you forget the `return` statement?"
    try:
        return np.asarray(result, dtype=np.float64), None
    except (TypeError, ValueError):
        return None, f"returned {type(result).__name__}, expected {expected}"


def as_array(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=float)


def _fresh(value):
    """A copy of the tensors and arrays in ``value`` (tuples, lists and dicts walked through)."""
    if isinstance(value, torch.Tensor):
        return value if value.requires_grad else value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(_fresh(v) for v in value)
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


def compare_values(result, expected, atol: float) -> str | None:
    """None if ``result`` matches ``expected`` (numbers, arrays or tensors), else why not."""
    if result is None:
        return "returned None: did you forget the `return` statement?"
    try:
        got, want = as_array(result), as_array(expected)
    except (TypeError, ValueError):
        try:
            same = bool(result == expected)
        except Exception:  # an object whose == is not a plain yes or no
            same = False
        return None if same else f"returned {short(result)}, expected {short(expected)}"
    if got.shape != want.shape:
        return f"returned shape {tuple(got.shape)}, expected shape {tuple(want.shape)}"
    if not np.all(np.isfinite(got)):
        return f"returned non-finite values ({short(result)}): look for log(0) or division by zero"
    if not np.allclose(got, want, atol=atol, rtol=0):
        worst = float(np.max(np.abs(got - want)))
        return (f"returned {short(result)}, expected {short(expected)} "
                f"(largest difference {worst:.3g}, allowed {atol:g})")
    return None


def run_check(name: str, fn: Callable, cases: list[Case]) -> CheckResult:
    """Run ``fn`` on every case, print a specific report, and return the result."""
    if not callable(fn):
        message = (f"{name}: pass your function itself, without parentheses "
                   f"(check_x(my_function), not check_x(my_function(...))); got {short(fn)}")
        print(message)
        if strict():
            raise AssertionError(message + " (strict mode)")
        return CheckResult(name, 0, len(cases), [message])
    messages, passed = [], 0
    for i, case in enumerate(cases, 1):
        label = case.describe or ", ".join([short(a) for a in case.args]
                                           + [f"{k}={short(v)}" for k, v in case.kwargs.items()])
        try:  # fresh copies: an answer that works in place must not change the next case
            result = fn(*_fresh(case.args), **_fresh(case.kwargs))
        except NotImplementedError:
            problem = "is not implemented yet (it raised NotImplementedError)"
        except Exception as err:  # report the student's error instead of a traceback wall
            problem = f"raised {type(err).__name__}: {err}"
        else:
            try:
                problem = (case.compare(result) if case.compare
                           else compare_values(result, case.expected, case.atol))
            except Exception as err:  # an answer of a shape or type no case foresaw
                problem = (f"returned {short(result)}, which could not be compared with the expected "
                           f"answer ({type(err).__name__}: {err})")
        if problem is None:
            passed += 1
            messages.append(f"  ok   case {i} ({label})")
        else:
            hint = f"\n       hint: {case.hint}" if case.hint else ""
            messages.append(f"  FAIL case {i} ({label}): {problem}{hint}")
    result = CheckResult(name, passed, len(cases), messages)
    print(result.report())
    if not result.ok and strict():
        raise AssertionError(f"{name}: {result.total - result.passed} check(s) failed (strict mode)")
    return result
