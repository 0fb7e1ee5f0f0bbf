"""Checks for the exercises of chapter 6 (conditional GANs)."""
from __future__ import annotations

import numpy as np
import torch

from .core import Case, numeric_answer, run_check


def _tensor_problem(result, want: torch.Tensor) -> str | None:
    """Shared shape / dtype / value comparison with messages that name the likely slip."""
    if result is None:
        return "returned None: did you forget the `return` statement?"
    if not isinstance(result, torch.Tensor):
        return f"returned {type(result).__name__}, expected a torch.Tensor"
    if not result.is_floating_point():
        return (f"returned dtype {result.dtype}: the network needs floats, "
                "so convert the one-hot rows with .float() before concatenating")
    if result.dtype != want.dtype:
        return (f"returned dtype {result.dtype}, expected {want.dtype}: the networks' weights are "
                f"{want.dtype}, so convert with .float() (float64 inputs make a float32 layer fail)")
    if tuple(result.shape) != tuple(want.shape):
        return f"returned shape {tuple(result.shape)}, expected {tuple(want.shape)}"
    return None


def check_concat_label_to_noise(fn) -> None:
    """Chapter 6: ``fn(z, labels, n_classes)`` -> ``[z, one_hot(labels)]`` along dim 1."""
    z = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])
    labels = torch.tensor([2, 0])
    n_classes = 4

    def expect(z, labels, n_classes):
        return torch.cat([z, torch.nn.functional.one_hot(labels, n_classes).float()], dim=1)

    def compare_with(z, labels, n_classes):
        want = expect(z, labels, n_classes)

        def compare(result):
            problem = _tensor_problem(result, want)
            if problem:
                if isinstance(result, torch.Tensor) and result.dim() == 2 and \
                        result.shape[1] == z.shape[1] + 1:
                    problem += (" (it looks like the label was appended as one number: "
                                "turn it into a one-hot row of length n_classes first)")
                if isinstance(result, torch.Tensor) and result.dim() == 2 and \
                        result.shape[0] == z.shape[0] + len(labels):
                    problem += " (you stacked rows: concatenate along dim=1, the feature axis)"
                return problem
            result = result.detach().cpu()
            swapped = torch.cat([want[:, z.shape[1]:], want[:, :z.shape[1]]], dim=1)
            if torch.allclose(result, swapped):
                return "the one-hot part came first: put the noise first, then the label's code"
            if not torch.allclose(result[:, :z.shape[1]], z):
                return "the first columns should be the noise z, unchanged"
            code = result[:, z.shape[1]:]
            if not torch.allclose(code, want[:, z.shape[1]:]):
                return (f"label columns are {code.tolist()}, expected {want[:, z.shape[1]:].tolist()}: "
                        "row i needs a single 1 at column labels[i] and 0 elsewhere")
            return None
        return compare

    hint = "torch.cat([z, F.one_hot(labels, n_classes).float()], dim=1)"
    z8, y8 = torch.randn(8, 5, generator=torch.Generator().manual_seed(6)), torch.arange(8) % 10
    cases = [Case((z, labels, n_classes), compare=compare_with(z, labels, n_classes),
                  describe="2 noise vectors of size 3, labels [2, 0], 4 classes", hint=hint),
             Case((z8, y8, 10), compare=compare_with(z8, y8, 10),
                  describe="8 noise vectors of size 5, labels 0..7, 10 classes", hint=hint),
             Case((torch.zeros(1, 2), torch.tensor([9]), 10),
                  compare=compare_with(torch.zeros(1, 2), torch.tensor([9]), 10),
                  describe="the last class (9 of 10)",
                  hint="F.one_hot needs num_classes=n_classes, else it sizes the code by the largest label")]
    run_check("concat_label_to_noise", fn, cases)


def check_embedding_by_matmul(fn) -> None:
    """Chapter 6: ``fn(labels, table)`` -> ``one_hot(labels) @ table``, i.e. rows ``table[labels]``."""
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(10, 4, generator=gen)
    labels = torch.tensor([3, 3, 0, 9])

    def compare_with(labels, table):
        want = table[labels]

        def compare(result):
            problem = _tensor_problem(result, want)
            if problem:
                if isinstance(result, torch.Tensor) and tuple(result.shape) == (len(labels), table.shape[0]):
                    problem += " (that is the one-hot matrix itself: multiply it by the table)"
                return problem
            result = result.detach().cpu()
            if not torch.allclose(result, want, atol=1e-6):
                return (f"row 0 is {[round(v, 4) for v in result[0].tolist()]}, expected "
                        f"{[round(v, 4) for v in want[0].tolist()]} (row labels[0] of the table)")
            return None
        return compare

    hint = "F.one_hot(labels, table.shape[0]).float() @ table: one-hot rows pick out table rows"
    small = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    cases = [Case((labels, table), compare=compare_with(labels, table),
                  describe="labels [3, 3, 0, 9], a 10 x 4 table", hint=hint),
             Case((torch.tensor([2, 1]), small), compare=compare_with(torch.tensor([2, 1]), small),
                  describe="labels [2, 1], a 3 x 2 table [[1,2],[3,4],[5,6]]",
                  hint="size the one-hot code by the table's rows (table.shape[0]), not the largest label")]
    run_check("embedding_by_matmul", fn, cases)


def check_embedding_parameters(fn) -> None:
    """Chapter 6 (Keras): ``fn()`` -> parameters of the embedding generator minus those of
    the one-hot generator (``conditional_generator(label_mode=...)``)."""
    def compare(result):
        if result is None:
            return "returned None: did you forget the `return` statement?"
        try:
            got = float(np.asarray(result, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            return f"returned {type(result).__name__}, expected one whole number"
        if got == 100:
            return None
        if got == -100:
            return "the sign is flipped: the embedding generator's count minus the one-hot one's"
        return (f"returned {got:g}, expected 100: both codes have 10 numbers, so only the "
                "embedding's own table differs")
    run_check("parameter_difference", fn,
              [Case((), compare=compare, describe="embedding minus one-hot parameters",
                    hint="count_params() of each generator, then subtract")])


def check_projection_logit(fn) -> None:
    """Chapter 6 (Keras): ``fn(h, psi, table, labels)`` -> psi + <h_i, table[labels_i]>, shape (N,)."""
    rng = np.random.default_rng(6)
    h = rng.normal(size=(5, 4)).astype(np.float32)
    psi = rng.normal(size=5).astype(np.float32)
    table = rng.normal(size=(10, 4)).astype(np.float32)
    labels = np.array([3, 3, 0, 9, 1])

    def compare_with(h, psi, table, labels):
        rows = table[labels].astype(np.float64)
        want = psi + np.sum(h * rows, axis=1)

        def compare(result):
            got, problem = numeric_answer(result, f"an array of {len(labels)} logits")
            if problem:
                return problem
            if got.shape == (len(labels), len(labels)):
                return ("returned an N x N matrix: that pairs every h with every label's row; take "
                        "the row-wise inner product, sum(h * table[labels], axis=1)")
            if got.size == len(labels) and got.shape != want.shape:
                got_flat = got.reshape(-1)
                if np.allclose(got_flat, want, atol=1e-4):
                    return f"right values, but shape {got.shape}: return shape ({len(labels)},)"
            if got.shape != want.shape:
                return f"returned shape {got.shape}, expected ({len(labels)},)"
            if np.allclose(got, want, atol=1e-4):
                return None
            if np.allclose(got, want - psi, atol=1e-4):
                return "the unconditional score psi is missing: add it to the inner product"
            return f"returned {got.round(4).tolist()}, expected {want.round(4).tolist()}"
        return compare

    hint = "rows = table[labels] (tf.gather); logits = psi + sum(h * rows, axis=1)"
    cases = [Case((h, psi, table, labels), compare=compare_with(h, psi, table, labels), hint=hint,
                  describe="5 samples, 4 features, labels [3, 3, 0, 9, 1]"),
             Case((h[:2], np.zeros(2, np.float32), np.eye(10, 4, dtype=np.float32), np.array([0, 2])),
                  compare=compare_with(h[:2], np.zeros(2, np.float32), np.eye(10, 4, dtype=np.float32),
                                       np.array([0, 2])),
                  hint="with table = identity rows, the logit is the labelled feature h[i, labels[i]]",
                  describe="psi = 0 and an identity table")]
    run_check("projection_logit", fn, cases)
