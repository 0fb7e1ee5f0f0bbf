"""Chapter 12's auto-checked exercises accept a correct answer, explain the usual wrong ones,
and never crash on an answer of the wrong kind."""
import math

import numpy as np
import pytest
import torch

from ganlib import checks
from ganlib import distributed as dist


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)
    monkeypatch.delenv("GANLIB_GRADED", raising=False)


def rank_batches(order, batch_size, rank, world_size):
    step = world_size * batch_size
    return [order[i * step + rank * batch_size: i * step + (rank + 1) * batch_size]
            for i in range(len(order) // step)]


def run_rank_batches(fn, capsys):
    checks.check_rank_batches(fn)
    return capsys.readouterr().out


def test_the_reference_answer_passes(capsys):
    assert "rank_batches: all 5 checks passed" in run_rank_batches(rank_batches, capsys)


def test_a_two_d_tensor_of_steps_is_accepted_too(capsys):
    def as_tensor(order, batch_size, rank, world_size):
        steps = rank_batches(order, batch_size, rank, world_size)
        return torch.stack(steps) if steps else torch.empty(0, batch_size, dtype=torch.long)
    assert "all 5 checks passed" in run_rank_batches(as_tensor, capsys)


def test_the_answer_is_what_sharded_batches_trains_on(capsys):
    """The check's answer is ganlib.distributed.ShardedBatches's: the same items, step by step."""
    images = torch.arange(100).float().view(100, 1)  # item i is the number i

    def via_sharded_batches(order, batch_size, rank, world_size):
        batches = dist.ShardedBatches(images[order], batch_size=batch_size, shuffle=False, rank=rank,
                                      world_size=world_size)
        return [batch.view(-1).long() for batch in batches]
    assert "all 5 checks passed" in run_rank_batches(via_sharded_batches, capsys)


@pytest.mark.parametrize("wrong, words", [
    (lambda order, b, r, w: [order[r::w][i * b:(i + 1) * b] for i in range(len(order) // w // b)],
     "strided split"),
    (lambda order, b, r, w: [order[i * b:(i + 1) * b] for i in range(len(order) // b)],
     "every rank would train on the same items"),
    (lambda order, b, r, w: [order[r * (len(order) // w):(r + 1) * (len(order) // w)][i * b:(i + 1) * b]
                             for i in range(len(order) // w // b)],
     "its own part of the epoch"),
    (lambda order, b, r, w: rank_batches(order, b // w, r, w) if b % w == 0 else rank_batches(order, b, r, w)[:1],
     "batch_size is per rank"),
    (lambda order, b, r, w: [order[i * w * b + r * b:i * w * b + (r + 1) * b]
                             for i in range(-(-len(order) // (w * b)))],
     "drop the last, incomplete global batch"),
])
def test_typical_mistakes_are_explained(capsys, wrong, words):
    out = run_rank_batches(wrong, capsys)
    assert "FAIL" in out and words in out, out


@pytest.mark.parametrize("answer, words", [
    (lambda *args: None, "did you forget the `return`"),
    (lambda *args: 3, "return a list"),
    (lambda *args: ["a", "b"], "1-D tensor"),
    (lambda *args: [[0.5, 1.5]], "whole numbers"),
    (lambda *args: torch.zeros(3), "one index tensor per step"),
    (lambda *args: 1 / 0, "raised ZeroDivisionError"),
])
def test_wrong_kinds_of_answers_never_crash_the_check(capsys, answer, words):
    out = run_rank_batches(answer, capsys)
    assert "FAIL" in out and words in out, out


def test_a_stub_and_a_non_function_are_reported(capsys):
    def stub(order, batch_size, rank, world_size):
        raise NotImplementedError
    assert "not implemented yet" in run_rank_batches(stub, capsys)
    assert "pass your function itself" in run_rank_batches(rank_batches(torch.arange(4), 1, 0, 2), capsys)


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    checks.check_rank_batches(rank_batches)  # a right answer passes quietly
    with pytest.raises(AssertionError, match="rank_batches"):
        checks.check_rank_batches(lambda order, b, r, w: [order[:b]])


def scaled_learning_rate(base_lr, base_batch, per_replica_batch, replicas):
    return base_lr * per_replica_batch * replicas / base_batch


def run_lr(fn, capsys):
    checks.check_scaled_learning_rate(fn)
    return capsys.readouterr().out


def test_the_linear_rule_passes(capsys):
    assert "scaled_learning_rate: all 5 checks passed" in run_lr(scaled_learning_rate, capsys)
    assert "all 5 checks passed" in run_lr(lambda *a: np.float32(scaled_learning_rate(*a)), capsys)


@pytest.mark.parametrize("wrong, words", [
    (lambda lr, base, per, k: lr * k, "multiplied by the number of replicas"),
    (lambda lr, base, per, k: lr * per / base, "you used the per-replica batch"),
    (lambda lr, base, per, k: lr * math.sqrt(per * k / base), "square-root rule"),
    (lambda lr, base, per, k: lr * base / (per * k), "inverted"),
    (lambda lr, base, per, k: lr, "unchanged"),
])
def test_typical_learning_rate_mistakes_are_explained(capsys, wrong, words):
    out = run_lr(wrong, capsys)
    assert "FAIL" in out and words in out, out


@pytest.mark.parametrize("answer, words", [
    (lambda *a: None, "did you forget the `return`"),
    (lambda *a: "0.0004", None),
    (lambda *a: [1e-4, 2e-4], "expected one number"),
    (lambda *a: float("nan"), "returned nan"),
    (lambda *a: {"lr": 1}, "expected one number"),
])
def test_wrong_kinds_of_learning_rates_never_crash_the_check(capsys, answer, words):
    out = run_lr(answer, capsys)
    assert "FAIL" in out and (words is None or words in out), out
