"""Checks for the exercises of chapter 12 (training on many GPUs) and its Keras companion."""
from __future__ import annotations

import math

import numpy as np
import torch

from .core import Case, numeric_answer, run_check, short


def _steps(result):
    """The answer as a list of lists of ints (one per step), or (None, what is wrong with it)."""
    if result is None:
        return None, "returned None: did you forget the `return` statement?"
    if isinstance(result, (torch.Tensor, np.ndarray)):
        if result.ndim != 2:
            return None, (f"returned an array of shape {tuple(result.shape)}: return one index tensor per step "
                          "(a list), or a 2-D tensor with one row per step")
        result = list(result)
    if not isinstance(result, (list, tuple)):
        return None, f"returned {short(result)}: return a list with one tensor of indices per step"
    steps = []
    for step in result:
        try:
            values = torch.as_tensor(step).flatten().tolist()
        except (TypeError, ValueError, RuntimeError):
            return None, f"a step holds {short(step)}: each step must be a 1-D tensor (or list) of item indices"
        if any(isinstance(v, float) and not float(v).is_integer() for v in values):
            return None, f"a step holds {short(step)}: item indices are whole numbers (take them from `order`)"
        steps.append([int(v) for v in values])
    return steps, None


def _reference(order: list, batch_size: int, rank: int, world: int) -> list:
    step = world * batch_size
    return [order[i * step + rank * batch_size: i * step + (rank + 1) * batch_size]
            for i in range(len(order) // step)]


def _chunks(items: list, size: int) -> list:
    return [items[i * size:(i + 1) * size] for i in range(len(items) // size)]


def _diagnose(got: list, order: list, batch_size: int, rank: int, world: int) -> str:
    """Why ``got`` is not this rank's part of the epoch: the usual mistakes, named."""
    want = _reference(order, batch_size, rank, world)
    n_steps = len(want)
    share = len(order) // world
    if world > 1 and got == _chunks(order[rank::world], batch_size):
        return ("that is DistributedSampler's strided split (every world_size-th item): each step's global batch "
                "holds the same items, but not in the rows one process would give them, so the noise and penalty "
                "slices no longer line up row for row. Take the contiguous slice: positions rank x batch_size to "
                "(rank + 1) x batch_size of each global batch")
    if world > 1 and rank > 0 and got in (_chunks(order, batch_size), _reference(order, batch_size, 0, world)):
        return "every rank would train on the same items: use `rank` to pick this rank's slice of each global batch"
    if world > 1 and got == _chunks(order[rank * share:(rank + 1) * share], batch_size):
        return ("each rank took its own part of the epoch and batched it: a fair split, but step i's union over the "
                "ranks is not the global batch i one process would train on. Cut every global batch of "
                "world_size x batch_size items, not the epoch")
    if world > 1 and got == _chunks(order, batch_size):
        return "every rank would train on the same items: use `rank` to pick this rank's slice of each global batch"
    if world > 1 and batch_size % world == 0 and got == _reference(order, batch_size // world, rank, world):
        return (f"steps of {batch_size // world} items: batch_size is per rank, so a global batch holds world_size x "
                f"batch_size = {world * batch_size} items")
    if len(got) > n_steps and got[:n_steps] == want:
        return (f"{len(got)} steps, expected {n_steps}: drop the last, incomplete global batch. Every rank must "
                "take the same number of steps, or the ranks that go on wait forever in DDP's all-reduce for the "
                "rank that stopped")
    if len(got) != n_steps:
        return f"returned {len(got)} steps, expected {n_steps} (len(order) // (world_size x batch_size))"
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"step {i}: returned the items {g}, expected {w}"
    return "wrong answer"


def check_rank_batches(fn) -> None:
    """Chapter 12: ``fn(order, batch_size, rank, world_size)`` -> this rank's item indices at each
    step of an epoch whose permutation is ``order`` (a list of 1-D tensors, one per step)."""
    hint = ("global batch i is order[i * world_size * batch_size:(i + 1) * world_size * batch_size]; rank r takes "
            "its items r * batch_size to (r + 1) * batch_size; keep only whole global batches")

    def case(order, batch_size, rank, world, describe):
        order = [int(v) for v in order]
        want = _reference(order, batch_size, rank, world)

        def compare(result):
            got, problem = _steps(result)
            if problem:
                return problem
            return None if got == want else _diagnose(got, order, batch_size, rank, world)
        return Case((torch.tensor(order), batch_size, rank, world), compare=compare, describe=describe, hint=hint)

    shuffled = torch.randperm(20, generator=torch.Generator().manual_seed(12)).tolist()

    def union_case():
        """The ranks' slices of every step, put together in rank order, are the global batch."""
        order = torch.randperm(40, generator=torch.Generator().manual_seed(3))
        parts = []
        for rank in range(4):
            got, problem = _steps(fn(order.clone(), 2, rank, 4))
            if problem:
                return f"rank {rank}: {problem}"
            parts.append(got)
        if len({len(p) for p in parts}) != 1:
            return (f"the ranks take {[len(p) for p in parts]} steps: every rank must take the same number, or "
                    "DDP's all-reduce waits forever for the rank that stopped")
        for i in range(len(parts[0])):
            together = [v for rank in range(4) for v in parts[rank][i]]
            if together != order[i * 8:(i + 1) * 8].tolist():
                return (f"step {i}: ranks 0, 1, 2, 3 together train on {together}, but one process with the global "
                        f"batch trains on {order[i * 8:(i + 1) * 8].tolist()}")
        return None

    cases = [
        case(range(16), 2, 0, 2, "order 0..15, 2 per rank, rank 0 of 2"),
        case(range(16), 2, 1, 2, "the same epoch, rank 1 of 2"),
        case(shuffled, 3, 2, 3, "a shuffled order of 20 items, 3 per rank, rank 2 of 3: 2 whole global batches"),
        case(range(10), 4, 0, 1, "one process (world_size 1): plain batches of 4, the last 2 items dropped"),
        Case(run=union_case, describe="4 ranks, 2 per rank: the slices of each step, in rank order, are the "
                                      "global batch"),
    ]
    run_check("rank_batches", fn, cases)


def check_scaled_learning_rate(fn) -> None:
    """Chapter 12 (Keras): ``fn(base_lr, base_batch, per_replica_batch, replicas)`` -> the learning
    rate for the global batch by the linear scaling rule."""
    hint = "global batch = per_replica_batch x replicas; learning rate = base_lr x global batch / base_batch"

    def case(base_lr, base_batch, per_replica, replicas, describe):
        want = base_lr * per_replica * replicas / base_batch
        wrong = {
            "replicas": (base_lr * replicas, "you multiplied by the number of replicas; the rule follows the global "
                         "batch (per_replica_batch x replicas) relative to base_batch, which is the same thing only "
                         "when the per-replica batch equals the base batch"),
            "per replica": (base_lr * per_replica / base_batch, "you used the per-replica batch: the optimizer "
                            "takes one step per global batch of per_replica_batch x replicas images"),
            "sqrt": (base_lr * math.sqrt(per_replica * replicas / base_batch), "that is the square-root rule "
                     "(some use it for Adam); this exercise asks for the linear rule"),
            "inverted": (base_lr * base_batch / (per_replica * replicas), "inverted: a larger global batch gets a "
                         "larger learning rate under the linear rule"),
            "unchanged": (base_lr, "returned the base learning rate unchanged: the linear rule scales it with the "
                          "global batch"),
        }

        def compare(result):
            got, problem = numeric_answer(result, "one number")
            if problem:
                return problem
            if got.size != 1:
                return f"returned shape {got.shape}, expected one number"
            got = float(got.reshape(()))
            if not math.isfinite(got):
                return f"returned {got}"
            if math.isclose(got, want, rel_tol=1e-6):
                return None
            for value, why in wrong.values():
                if math.isclose(got, value, rel_tol=1e-6):
                    return f"returned {got:.6g}, expected {want:.6g}: {why}"
            return f"returned {got:.6g}, expected {want:.6g}"
        return Case((base_lr, base_batch, per_replica, replicas), compare=compare, describe=describe, hint=hint)

    cases = [
        case(2e-4, 64, 64, 2, "base 2e-4 at batch 64; 2 replicas of 64"),
        case(1e-3, 64, 32, 2, "2 replicas of 32: the global batch is the base batch"),
        case(2e-4, 64, 64, 8, "8 replicas of 64"),
        case(1e-4, 256, 64, 1, "one replica of 64, base batch 256"),
        case(2e-4, 64, 128, 4, "4 replicas of 128"),
    ]
    run_check("scaled_learning_rate", fn, cases)
