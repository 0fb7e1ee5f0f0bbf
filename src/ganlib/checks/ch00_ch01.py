"""Checks for the exercises of chapters 0 and 1."""
from __future__ import annotations

import torch

from .core import Case, run_check


def check_batches_per_epoch(fn) -> None:
    """Chapter 0: ``fn(n_images, batch_size, drop_last)`` -> number of batches per epoch."""
    hint = "with drop_last the incomplete last batch is skipped: n // b; without it, round up"
    cases = [Case((10000, 64, True), 156, hint=hint), Case((10000, 64, False), 157, hint=hint),
             Case((128, 64, True), 2, hint=hint), Case((128, 64, False), 2, hint=hint),
             Case((5, 8, False), 1, hint=hint), Case((5, 8, True), 0, hint=hint)]
    run_check("batches_per_epoch", fn, cases)


def check_to_pixels(fn) -> None:
    """Chapter 1: ``fn(images)`` maps generator output in [-1, 1] to uint8 pixels 0..255."""
    x = torch.tensor([-1.0, 0.0, 1.0, 0.5, -0.5])

    def exact_uint8(expected):
        def compare(result):
            if not isinstance(result, torch.Tensor):
                return f"returned {type(result).__name__}, expected a torch.Tensor"
            if result.dtype != torch.uint8:
                return f"returned dtype {result.dtype}, expected torch.uint8 (use .to(torch.uint8))"
            if result.shape != expected.shape:
                return f"returned shape {tuple(result.shape)}, expected {tuple(expected.shape)}"
            diff = (result.int() - expected.int()).abs().max().item()
            if diff > 1:
                return f"returned {result.tolist()}, expected {expected.tolist()} (off by up to {diff})"
            return None
        return compare

    hint = "map [-1, 1] to [0, 255] with (x + 1) / 2 * 255, round, then convert to uint8"
    cases = [Case((x,), compare=exact_uint8(torch.tensor([0, 128, 255, 191, 64], dtype=torch.uint8)),
                  describe="[-1, 0, 1, 0.5, -0.5]", hint=hint),
             Case((torch.tensor([-3.0, 2.0]),),
                  compare=exact_uint8(torch.tensor([0, 255], dtype=torch.uint8)),
                  describe="values outside [-1, 1]", hint="clamp to [-1, 1] first: tanh never leaves it, "
                  "but other generators may"),
             Case((torch.zeros(2, 1, 28, 28),),
                  compare=exact_uint8(torch.full((2, 1, 28, 28), 128, dtype=torch.uint8)),
                  describe="a (2, 1, 28, 28) batch of zeros", hint="keep the shape")]
    run_check("to_pixels", fn, cases)


def check_mlp_generator(make_generator) -> None:
    """Chapter 1: ``make_generator()`` returns the 100 -> 256 -> 512 -> 784 tanh MLP."""
    def build():
        return make_generator()

    def compare_output(model):
        if not isinstance(model, torch.nn.Module):
            return f"returned {type(model).__name__}, expected a torch.nn.Module"
        try:
            out = model(torch.randn(5, 100))
        except Exception as err:
            return f"the model failed on a (5, 100) noise batch: {type(err).__name__}: {err}"
        if out.numel() != 5 * 784:
            return f"output has {out.numel() // 5} values per sample, expected 784 (1x28x28)"
        with torch.no_grad():  # large inputs push an unbounded output past 1
            extreme = model(50 * torch.randn(5, 100))
        if extreme.min() < -1 or extreme.max() > 1:
            return "outputs leave [-1, 1]: end with nn.Tanh() to match images scaled to [-1, 1]"
        return None

    def compare_params(model):
        if not isinstance(model, torch.nn.Module):
            return f"returned {type(model).__name__}, expected a torch.nn.Module"
        want = (100 * 256 + 256) + (256 * 512 + 512) + (512 * 784 + 784)
        got = sum(p.numel() for p in model.parameters())
        if got != want:
            return (f"has {got:,} parameters, expected {want:,} "
                    "(three nn.Linear layers: 100->256, 256->512, 512->784)")
        return None

    cases = [Case((), compare=compare_output, describe="output shape and range",
                  hint="flatten-free: nn.Sequential(Linear, LeakyReLU, Linear, LeakyReLU, Linear, Tanh)"),
             Case((), compare=compare_params, describe="number of parameters")]
    run_check("mlp_generator", build, cases)

