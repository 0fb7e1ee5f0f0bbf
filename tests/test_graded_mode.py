"""Graded mode of the checks (GANLIB_GRADED=1, what the nbgrader edition sets): feedback
that says what is wrong without the answer, partial credit, and rules enforced by the check."""
import inspect

import numpy as np
import pytest

import ganlib
from ganlib import checks
from ganlib.checks.core import graded_problem

CHECKS = sorted(name for name, obj in vars(checks).items() if name.startswith("check_") and callable(obj))


def wrong_answers():
    """Answers a student might hand in: a constant, None, an exception."""
    def constant(*args, **kwargs):
        return 0.123

    def nothing(*args, **kwargs):
        return None

    def crash(*args, **kwargs):
        raise ValueError("student bug")
    return [constant, nothing, crash]


@pytest.mark.parametrize("name", CHECKS)
def test_graded_feedback_names_no_answer_and_no_hint(name, monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "0")
    check = getattr(checks, name)
    for answer in wrong_answers():
        monkeypatch.setenv("GANLIB_GRADED", "0")
        check(answer)
        taught = capsys.readouterr().out
        monkeypatch.setenv("GANLIB_GRADED", "1")
        check(answer)
        graded = capsys.readouterr().out
        assert "FAIL" in graded, (name, graded)
        assert "hint:" not in graded and "expected" not in graded, (name, answer.__name__, graded)
        if "hint:" in taught:  # outside graded mode the hints stay
            assert graded != taught


def test_graded_problem_keeps_what_is_wrong_and_drops_the_answer():
    assert graded_problem("returned 0.415, expected 0.288: this is the JSD in bits") == "returned 0.415"
    assert graded_problem("returned None: did you forget the `return` statement?") == "returned None"
    assert graded_problem("returned shape (3,), expected shape (4,)") == "returned shape (3,)"
    assert graded_problem("raised TypeError: bad operand") == "raised TypeError: bad operand"
    assert "expected" not in graded_problem("returned [1, 2], expected [1, 3] (largest difference 1, allowed 1e-06)")


def test_partial_credit_is_points_times_passed_cases_over_cases(capsys):
    from ganlib.checks.ch02 import reference_jsd

    def half_right(p, q, dx):  # right only where the densities are identical
        return 0.0

    with checks.graded(points=2) as grade:
        checks.check_jsd(half_right)
    assert 0 < grade.passed < grade.total
    assert grade.score == round(2 * grade.passed / grade.total, 2)
    with checks.graded(points=2) as grade:
        checks.check_jsd(reference_jsd)
    assert grade.score == 2.0
    with checks.graded(points=3) as grade:
        checks.check_jsd(lambda p, q, dx: None)
    assert grade.score == 0.0
    out = capsys.readouterr().out
    assert "score: 2 of 2 points" in out and "expected" not in out


def test_graded_block_never_raises_and_restores_the_environment(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    monkeypatch.delenv("GANLIB_GRADED", raising=False)
    with checks.graded(points=1) as grade:
        checks.check_wasserstein_1d(lambda x, y: None)  # strict outside, but a graded block scores instead
    assert grade.score == 0.0
    import os
    assert os.environ["GANLIB_STRICT_CHECKS"] == "1" and "GANLIB_GRADED" not in os.environ


def penalty_by_the_library(critic_fn, real, fake, weight=10.0):
    return ganlib.losses.gradient_penalty(critic_fn, real, fake, weight=weight)


from ganlib.losses import gradient_penalty as imported_penalty  # noqa: E402  (a student's import)


def penalty_by_an_import(critic_fn, real, fake, weight=10.0):
    return imported_penalty(critic_fn, real, fake, weight=weight)


@pytest.mark.parametrize("answer", [penalty_by_the_library, penalty_by_an_import])
def test_a_forbidden_helper_fails_every_case(answer, monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "0")
    with checks.graded(points=3) as grade:
        checks.check_gradient_penalty(answer)
    assert grade.passed == 0 and grade.score == 0.0
    assert "calls ganlib.losses.gradient_penalty" in capsys.readouterr().out
    # the helper is back afterwards, for the library and the student's namespace
    assert ganlib.losses.gradient_penalty.__module__ == "ganlib.losses"
    assert imported_penalty.__name__ == "gradient_penalty"
    assert inspect.signature(penalty_by_an_import.__globals__["imported_penalty"])


def test_the_same_function_written_by_hand_passes(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    import torch

    def by_hand(critic_fn, real, fake, weight=10.0):
        eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)))
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(critic_fn(x_hat).sum(), x_hat, create_graph=True)
        norm = torch.sqrt(grad.flatten(1).pow(2).sum(1) + 1e-12)
        return weight * ((norm - 1) ** 2).mean()
    checks.check_gradient_penalty(by_hand)  # strict: raises if any case fails


def test_extragradient_without_ganlib_games(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "0")
    from ganlib import games
    with checks.graded(points=2) as grade:
        checks.check_extragradient_step(lambda x, y, lr: games.extragradient_step(x, y, lr))
    assert grade.score == 0.0 and "calls ganlib.games.extragradient_step" in capsys.readouterr().out
    assert np.allclose(games.extragradient_step(1.0, 1.0, 0.1), games.extragradient_step(1.0, 1.0, 0.1))
