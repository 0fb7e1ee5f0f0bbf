"""Auto-checked exercises give specific feedback and catch wrong answers."""
import math

import pytest
import torch
from torch import nn

from ganlib import checks
from ganlib.checks.core import Case, compare_values, run_check


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)


def test_compare_values_explains_each_kind_of_miss():
    assert compare_values(0.5, 0.5, 1e-6) is None
    assert "forget the `return`" in compare_values(None, 1.0, 1e-6)
    assert "shape (2,)" in compare_values([1, 2], [1, 2, 3], 1e-6)
    assert "expected 0.25" in compare_values(0.75, 0.25, 1e-6)
    assert "non-finite" in compare_values(float("nan"), 1.0, 1e-6)


def test_run_check_reports_expected_and_got(capsys):
    result = run_check("half", lambda x: x / 3, [Case((1.0,), 0.5, hint="divide by two")])
    out = capsys.readouterr().out
    assert not result.ok and "expected 0.5" in out and "hint: divide by two" in out


def test_run_check_reports_exceptions_and_stubs(capsys):
    def stub(x):
        raise NotImplementedError

    assert not run_check("stub", stub, [Case((1,), 1)]).ok
    assert "not implemented yet" in capsys.readouterr().out
    assert not run_check("boom", lambda x: 1 / 0, [Case((1,), 1)]).ok
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="strict"):
        run_check("wrong", lambda: 1, [Case((), 2)])


def test_passing_a_call_instead_of_the_function_is_explained():
    with pytest.raises(TypeError, match="no parentheses"):
        run_check("x", 3, [])


def test_batches_per_epoch_check(capsys):
    checks.batches_per_epoch(lambda n, b, drop: n // b if drop else math.ceil(n / b))
    assert "all 6 checks passed" in capsys.readouterr().out
    checks.batches_per_epoch(lambda n, b, drop: n // b)
    assert "FAIL" in capsys.readouterr().out


def test_to_pixels_check(capsys):
    checks.to_pixels(lambda x: ((x.clamp(-1, 1) + 1) / 2 * 255).round().to(torch.uint8))
    assert "all 3 checks passed" in capsys.readouterr().out
    checks.to_pixels(lambda x: ((x + 1) / 2 * 255).to(torch.uint8))  # no clamp
    assert "clamp" in capsys.readouterr().out


def test_mlp_generator_check(capsys):
    def right():
        return nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512),
                             nn.LeakyReLU(0.2), nn.Linear(512, 784), nn.Tanh())

    checks.mlp_generator(right)
    assert "all 2 checks passed" in capsys.readouterr().out

    def no_tanh():
        return nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                             nn.Linear(512, 784))

    checks.mlp_generator(no_tanh)
    out = capsys.readouterr().out
    assert "Tanh" in out or "[-1, 1]" in out
