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


def test_passing_a_call_instead_of_the_function_is_explained(capsys, monkeypatch):
    assert not run_check("x", 3, [Case((), 3)]).ok
    assert "without parentheses" in capsys.readouterr().out
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="without parentheses"):
        run_check("x", 3, [Case((), 3)])


def test_batches_per_epoch_check(capsys):
    checks.check_batches_per_epoch(lambda n, b, drop: n // b if drop else math.ceil(n / b))
    assert "all 6 checks passed" in capsys.readouterr().out
    checks.check_batches_per_epoch(lambda n, b, drop: n // b)
    assert "FAIL" in capsys.readouterr().out


def test_to_pixels_check(capsys):
    checks.check_to_pixels(lambda x: ((x.clamp(-1, 1) + 1) / 2 * 255).round().to(torch.uint8))
    assert "all 3 checks passed" in capsys.readouterr().out
    checks.check_to_pixels(lambda x: ((x + 1) / 2 * 255).to(torch.uint8))  # no clamp
    assert "clamp" in capsys.readouterr().out


def test_mlp_generator_check(capsys):
    def right():
        return nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512),
                             nn.LeakyReLU(0.2), nn.Linear(512, 784), nn.Tanh())

    checks.check_mlp_generator(right)
    assert "all 2 checks passed" in capsys.readouterr().out

    def no_tanh():
        return nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                             nn.Linear(512, 784))

    checks.check_mlp_generator(no_tanh)
    out = capsys.readouterr().out
    assert "Tanh" in out or "[-1, 1]" in out


# --- a check never crashes on a wrong answer; strict mode still fails it ------

def _stub(*args, **kwargs):
    return None


def _raises(*args, **kwargs):
    raise NotImplementedError


WRONG_ANSWERS = {
    "None": _stub,
    "NotImplementedError": _raises,
    "a string": lambda *a, **k: "forty-two",
    "a list of strings": lambda *a, **k: ["a", "b"],
    "a float64 tensor": lambda *a, **k: torch.zeros(2, 3, dtype=torch.float64),
    "an int tensor": lambda *a, **k: torch.zeros(4, 4, dtype=torch.long),
    "a bfloat16 tensor": lambda *a, **k: torch.ones(3, dtype=torch.bfloat16),
    "an nn.Module": lambda *a, **k: nn.Linear(2, 2),
    "a dict": lambda *a, **k: {"x": 1},
}


def _all_checks():
    return sorted(name for name in dir(checks) if name.startswith("check_"))


def test_every_check_is_named_check_and_none_shadows_a_library_name():
    import ganlib
    from ganlib import latent, losses, metrics

    assert len(_all_checks()) >= 20
    public = [n for n in dir(checks) if callable(getattr(checks, n)) and not n.startswith("_")]
    helpers = {"Case", "CheckResult", "compare_values", "run_check", "strict",
               "ForbiddenHelper", "forbid", "graded", "graded_mode"}  # graded mode (nbgrader)
    assert set(public) - helpers == set(_all_checks()), "every exercise check is named check_*"
    for module in (ganlib, latent, losses, metrics):
        clash = {n for n in _all_checks() if hasattr(module, n)}
        assert not clash, f"{module.__name__} defines {clash}, which a check would shadow"


@pytest.mark.parametrize("check", _all_checks())
def test_no_check_crashes_on_a_wrong_answer(check, capsys):
    for what, answer in WRONG_ANSWERS.items():
        getattr(checks, check)(answer)  # must print feedback, not raise
        out = capsys.readouterr().out
        assert "FAIL" in out, f"{check} given {what} printed no failure:\n{out}"


@pytest.mark.parametrize("check", ["check_adain", "check_jsd", "check_slerp", "check_gan_step"])
def test_strict_mode_fails_a_wrong_answer(check, monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="strict"):
        getattr(checks, check)(_stub)


def test_mlp_generator_check_takes_the_notebooks_stub(capsys):
    def make_generator():
        ...  # your code here
        return None

    checks.check_mlp_generator(make_generator)
    out = capsys.readouterr().out
    assert "0 of 2 checks passed" in out and "expected a torch.nn.Module" in out


def test_chapter6_checks_explain_float64(capsys):
    import torch.nn.functional as F

    checks.check_concat_label_to_noise(lambda z, y, n: torch.cat([z.double(), F.one_hot(y, n).double()], 1))
    assert "float64" in capsys.readouterr().out
    checks.check_embedding_by_matmul(lambda y, t: F.one_hot(y, t.shape[0]).double() @ t.double())
    out = capsys.readouterr().out
    assert "FAIL" in out and ".float()" in out


def test_truncation_check_accepts_an_in_place_answer(capsys):
    def in_place(w, w_avg, psi):
        return w.sub_(w_avg).mul_(psi).add_(w_avg)

    checks.check_truncation(in_place)
    assert "all 4 checks passed" in capsys.readouterr().out
