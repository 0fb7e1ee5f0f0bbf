"""The engine behind auto-checked exercises.

A check runs the student's function on cases with known answers and prints,
for each case, what was expected and what came back, plus a hint, never a
bare "wrong". With ``GANLIB_STRICT_CHECKS=1`` (set by the tests and CI) a
failed check raises, so the book's own solutions are verified on every build.

Graded mode (``GANLIB_GRADED=1``, set by the nbgrader edition's setup cell and by
the generated ``nbgrader_config.py``) says what is wrong with each case without the
answer: no expected value, no hint, no case description that states the result.
:class:`graded` scores the checks run inside it as ``points x passed / cases``, the
number an nbgrader test cell outputs for partial credit. :func:`forbid` makes a
rule such as "do not call ``ganlib.losses``" part of a check.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

STRICT_ENV = "GANLIB_STRICT_CHECKS"
GRADED_ENV = "GANLIB_GRADED"
# Every CheckResult made while a `graded` block is open (innermost block last).
_RECORDERS: list = []


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
    # A custom case that calls the student's function itself (several calls, a backward
    # pass): run() -> None if fine, else a message. args, kwargs and compare are unused.
    run: Callable[[], str | None] | None = None


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


def graded_mode() -> bool:
    """True in graded mode (``GANLIB_GRADED=1``): feedback without answers or hints."""
    return os.environ.get(GRADED_ENV, "").strip() == "1"


_EXPECTED = re.compile(r",?\s*\(?\bexpected\b[^;:]*\)?")
_DIFFERENCE = re.compile(r"\s*\(largest difference[^)]*\)")


def graded_problem(problem: str) -> str:
    """What is wrong, without what was expected or how to fix it (graded mode).

    A problem reads "what came back: why, or what to do"; graded mode keeps the first
    part and drops every "expected ..." clause. A student's own exception is kept whole.
    """
    if problem.startswith(("raised ", "is not implemented", "calls ")):
        return problem
    head = re.split(r": |; ", problem, maxsplit=1)[0]
    head = _DIFFERENCE.sub("", _EXPECTED.sub("", head)).strip().rstrip(",")
    return head or "wrong answer"


def _graded_label(case: Case, index: int) -> str:
    """The case's inputs (graded mode): never a description that states the answer."""
    if case.describe is None:
        return ", ".join([short(a) for a in case.args] + [f"{k}={short(v)}" for k, v in case.kwargs.items()])
    head, sep, _ = case.describe.partition(":")
    if sep:
        return head.strip()
    return case.describe if len(case.describe) <= 40 and "=" not in case.describe else f"case {index}"


class ForbiddenHelper(Exception):
    """Raised when a student's function calls a helper the exercise rules out."""


def forbid(fn: Callable, *modules: str) -> Callable:
    """``fn`` run with every function of ``modules`` (e.g. ``"ganlib.losses"``) unavailable.

    While ``fn`` runs, those functions, in their module and wherever ``fn``'s globals
    hold them (``from ganlib.losses import gradient_penalty``), raise
    :class:`ForbiddenHelper`; so a check that wraps a student's function with it turns
    "do not call ganlib.losses" into a failed case instead of a rule on trust.
    """
    if not callable(fn):
        return fn
    targets = []
    for name in modules:
        module = importlib.import_module(name)
        targets += [(module, attr, obj) for attr, obj in vars(module).items()
                    if callable(obj) and getattr(obj, "__module__", None) == module.__name__
                    and not attr.startswith("__")]

    def blocked(module_name, attr):
        def refuse(*args, **kwargs):
            raise ForbiddenHelper(f"calls {module_name}.{attr}, which this exercise asks you not to use: "
                                  "write it yourself")
        return refuse

    def guarded(*args, **kwargs):
        saved, scope = [], getattr(fn, "__globals__", {})
        by_id = {id(obj): (module, attr) for module, attr, obj in targets}
        try:
            for module, attr, obj in targets:
                saved.append((vars(module), attr, obj))
                setattr(module, attr, blocked(module.__name__, attr))
            for key, value in list(scope.items()):
                if id(value) in by_id:
                    module, attr = by_id[id(value)]
                    saved.append((scope, key, value))
                    scope[key] = blocked(module.__name__, attr)
            return fn(*args, **kwargs)
        finally:
            for space, key, value in reversed(saved):
                space[key] = value

    guarded.__wrapped__ = fn
    guarded.__name__ = getattr(fn, "__name__", "fn")
    return guarded


class graded:
    """Score the checks run inside the block: ``points x passed cases / cases``.

        with ganlib.checks.graded(points=2) as grade:
            ganlib.checks.check_jsd(jsd)
        grade.score   # the cell's last expression: nbgrader's partial credit

    Inside, checks run in graded mode (no answers, no hints) and never raise;
    warnings and stderr go to stdout, because nbgrader scores a test cell that
    writes to stderr as 0.
    """

    def __init__(self, points: float):
        self.points, self.results = float(points), []

    def __enter__(self):
        self._env = {k: os.environ.get(k) for k in (GRADED_ENV, STRICT_ENV)}
        os.environ[GRADED_ENV], os.environ[STRICT_ENV] = "1", "0"
        self._stderr = contextlib.redirect_stderr(sys.stdout)
        self._stderr.__enter__()
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        _RECORDERS.append(self.results)
        return self

    def __exit__(self, *exc):
        _RECORDERS.remove(self.results)
        self._warnings.__exit__(*exc)
        self._stderr.__exit__(*exc)
        for key, value in self._env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.results)

    @property
    def score(self) -> float:
        """Points earned, rounded to 0.01 (0 when no check ran)."""
        if not self.total:
            print("no check ran: 0 points")
            return 0.0
        score = round(self.points * self.passed / self.total, 2)
        print(f"score: {score:g} of {self.points:g} points ({self.passed} of {self.total} cases)")
        return score


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
        result = CheckResult(name, 0, len(cases), [message])
        for recorder in _RECORDERS:
            recorder.append(result)
        return result
    graded_run = graded_mode()
    messages, passed = [], 0
    for i, case in enumerate(cases, 1):
        label = _graded_label(case, i) if graded_run else case.describe or ", ".join([short(a) for a in case.args]
                                           + [f"{k}={short(v)}" for k, v in case.kwargs.items()])
        try:  # fresh copies: an answer that works in place must not change the next case
            result = case.run() if case.run else fn(*_fresh(case.args), **_fresh(case.kwargs))
        except NotImplementedError:
            problem = "is not implemented yet (it raised NotImplementedError)"
        except ForbiddenHelper as err:
            problem = str(err)
        except Exception as err:  # report the student's error instead of a traceback wall
            problem = f"raised {type(err).__name__}: {err}"
        else:
            try:
                problem = (result if case.run else case.compare(result) if case.compare
                           else compare_values(result, case.expected, case.atol))
            except Exception as err:  # an answer of a shape or type no case foresaw
                problem = (f"returned {short(result)}, which could not be compared with the expected "
                           f"answer ({type(err).__name__}: {err})")
        if problem is None:
            passed += 1
            messages.append(f"  ok   case {i} ({label})")
        else:
            if graded_run:
                problem, hint = graded_problem(problem), ""
            else:
                hint = f"\n       hint: {case.hint}" if case.hint else ""
            messages.append(f"  FAIL case {i} ({label}): {problem}{hint}")
    result = CheckResult(name, passed, len(cases), messages)
    for recorder in _RECORDERS:
        recorder.append(result)
    print(result.report())
    if not result.ok and strict():
        raise AssertionError(f"{name}: {result.total - result.passed} check(s) failed (strict mode)")
    return result
