"""Everything that runs around the loop, each behind one small interface (:class:`Callback`).

Callbacks run in ascending ``order`` (default 0). A :class:`~ganlib.train.Checkpoint`
has the highest order: it restores a run after every other callback has begun, and
saves after every other callback has finished its epoch.
"""
from __future__ import annotations

import copy
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..latent import Latents
from ..profile import MAX_STEPS_ENV, NOTEBOOK_ENV, max_steps, timings_file
from .history import generate

if TYPE_CHECKING:
    from .loop import TrainingRun


class Callback:
    """Something that runs around the loop. Override what you need.

    Every hook gets the :class:`TrainingRun`; a callback stops training by
    setting ``run.stop = "why"``. ``state_dict`` / ``load_state_dict`` let a
    :class:`Checkpoint` save and restore what a callback has accumulated.
    """

    changes_training = False  # True: the run's fingerprint records it (resuming without it is refused)

    def on_train_begin(self, run: "TrainingRun") -> None: ...
    def on_d_step_end(self, run: "TrainingRun") -> None: ...
    def on_g_step_end(self, run: "TrainingRun") -> None: ...
    def on_step_end(self, run: "TrainingRun") -> None: ...
    def on_epoch_end(self, run: "TrainingRun") -> None: ...
    def on_train_end(self, run: "TrainingRun") -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


def _check_every(name: str, every) -> None:
    if every is not None and (not isinstance(every, int) or isinstance(every, bool) or every < 1):
        raise ValueError(f"{name} must be a positive whole number of epochs (or None), got {every!r}")


class Snapshots(Callback):
    """Generate from the same fixed latents at step 0 and every ``every`` epochs.

    ``latents`` default to the sampler's fixed inputs (64 of them); ``every``
    defaults to an eighth of the run, so a run shows about eight snapshots.
    """

    def __init__(self, latents: Latents | torch.Tensor | None = None, every: int | None = None,
                 n: int = 64):
        _check_every("snapshot every", every)
        self.latents, self.every, self.n = latents, every, n

    def on_train_begin(self, run):
        if self.latents is None:
            self.latents = run.sampler.fixed(self.n)
        elif isinstance(self.latents, torch.Tensor):
            self.latents = Latents((self.latents,))
        self.every = self.every or max(1, run.epochs // 8)
        if not run.history.snapshots:
            run.history.snapshots.append((0, generate(run.generator, self.latents)))

    def on_epoch_end(self, run):
        if run.epoch % self.every == 0 or run.epoch == run.epochs or run.stop:
            if not run.history.snapshots or run.history.snapshots[-1][0] != run.step:
                run.history.snapshots.append((run.step, generate(run.generator, self.latents)))


class AfterDStep(Callback):
    """Call ``fn(discriminator)`` after every D step (WGAN's weight clipping)."""

    changes_training = True

    def __init__(self, fn):
        self.fn = fn

    def on_d_step_end(self, run):
        self.fn(run.discriminator)

    def __repr__(self) -> str:
        return f"AfterDStep({getattr(self.fn, '__qualname__', self.fn)!r})"


class EMA(Callback):
    """An exponential moving average of G's weights (and batch-norm statistics),
    updated after every G step: ``ema = decay * ema + (1 - decay) * G``.

    The average is smoother than the last iterate, which oscillates around the
    equilibrium (chapter 3); ``callback.generator`` is the averaged generator, a copy of
    G that lives on G's device and is updated there (no value is read back per step).
    """

    changes_training = True  # what a run ships; resuming with another decay is refused

    def __init__(self, decay: float = 0.999):
        if not 0 < decay < 1:
            raise ValueError(f"decay must be between 0 and 1, got {decay}")
        self.decay, self.generator = decay, None

    def on_train_begin(self, run):
        if self.generator is None:
            self.generator = copy.deepcopy(run.generator).requires_grad_(False)

    @torch.no_grad()
    def on_g_step_end(self, run):
        for averaged, current in zip(self.generator.state_dict().values(), run.generator.state_dict().values()):
            if averaged.is_floating_point():
                averaged.lerp_(current, 1 - self.decay)
            else:  # counters such as batch norm's num_batches_tracked
                averaged.copy_(current)

    def state_dict(self):
        return {"ema": self.generator.state_dict()} if self.generator is not None else {}

    def load_state_dict(self, state):
        if "ema" in state:
            averaged = state["ema"]
            if "n_averaged" in averaged:  # written by an earlier ganlib (torch's AveragedModel)
                averaged = {k.removeprefix("module."): v for k, v in averaged.items() if k != "n_averaged"}
            self.generator.load_state_dict(averaged)

    def __repr__(self) -> str:
        return f"EMA(decay={self.decay})"


class TimeBudget(Callback):
    """Stop at the end of an epoch when the next one would end past ``minutes``
    (judged by the longest epoch so far), counting this call's time only."""

    def __init__(self, minutes: float):
        if not minutes > 0:
            raise ValueError(f"minutes must be positive, got {minutes}")
        self.seconds = minutes * 60

    def on_train_begin(self, run):
        self.start = self.epoch_start = time.monotonic()
        self.longest = 0.0

    def on_epoch_end(self, run):
        now = time.monotonic()
        self.longest = max(self.longest, now - self.epoch_start)
        self.epoch_start = now
        if now - self.start + self.longest > self.seconds and run.epoch < run.epochs:
            run.stop = f"time budget of {self.seconds / 60:g} minutes reached after epoch {run.epoch}"


class MaxSteps(Callback):
    """Stop after ``steps`` steps in this call (``GANLIB_MAX_STEPS`` adds one to every run).

    Used to execute every full-profile branch in CI with full-size data and
    networks but only a few steps of training.
    """

    def __init__(self, steps: int):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        self.steps = steps

    def on_train_begin(self, run):
        self.taken = 0  # counted here, so a run restored from a checkpoint is capped the same

    def on_step_end(self, run):
        self.taken += 1
        if self.taken >= self.steps:
            run.stop = f"capped at {self.steps} steps ({MAX_STEPS_ENV})"

    @classmethod
    def from_env(cls):
        steps = max_steps()
        return None if steps is None else cls(steps)


class StepTimes(Callback):
    """Append this run's size and seconds per step to the JSON-lines file ``path``.

    ``GANLIB_TIMINGS=path`` adds one to every run: the capped full-profile run
    writes what ``python -m ganlib.tools.timings`` turns into each chapter's full time.
    The first step (warm-up) is not timed; the others are averaged (with
    ``n_critic`` > 1 only some steps include a generator step: time ten or more),
    in wall time and in this process's CPU time (what a busy machine does not inflate).
    """

    order = 10  # after the other callbacks, so their work counts in a step's time

    def __init__(self, path):
        self.path = Path(path)

    def on_train_begin(self, run):
        self.first, self.times, self.cpu_times, self.last = None, [], [], None

    def on_step_end(self, run):
        if self.first is None:  # the run's position after a checkpoint restored it
            self.first = run.step - 1
        now = (time.perf_counter(), time.process_time())
        if self.last is not None:
            self.times.append(now[0] - self.last[0])
            self.cpu_times.append(now[1] - self.last[1])  # unaffected by other jobs on the machine
        self.last = now

    def on_train_end(self, run):
        import json

        record = {"notebook": os.environ.get(NOTEBOOK_ENV, ""), "generator": type(run.generator).__name__,
                  "discriminator": type(run.discriminator).__name__,
                  "g_params": sum(p.numel() for p in run.generator.parameters()),
                  "d_params": sum(p.numel() for p in run.discriminator.parameters()),
                  "steps_per_epoch": run.steps_per_epoch,
                  "epochs": run.epochs, "first_step": self.first or 0, "steps_done": run.step - (self.first or 0),
                  "timed_steps": len(self.times),
                  "seconds_per_step": float(np.mean(self.times)) if self.times else None,
                  "cpu_seconds_per_step": float(np.mean(self.cpu_times)) if self.cpu_times else None}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    @classmethod
    def from_env(cls):
        path = timings_file()
        return cls(path) if path else None


class EarlyStop(Callback):
    """Stop when ``score(run)`` (higher is better), measured every epoch, has not
    improved for ``patience`` epochs."""

    def __init__(self, score, patience: int = 3):
        if patience < 1:
            raise ValueError(f"patience must be at least 1 epoch, got {patience}")
        self.score, self.patience = score, patience
        self.best, self.best_epoch = -math.inf, 0

    def on_epoch_end(self, run):
        value = float(self.score(run))
        if value > self.best:
            self.best, self.best_epoch = value, run.epoch
        elif run.epoch - self.best_epoch >= self.patience:
            run.stop = (f"no improvement for {self.patience} epochs (best {self.best:.4g} "
                        f"after epoch {self.best_epoch})")

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class PrintLog(Callback):
    """One line per epoch (for scripts and logs, where a progress bar is noise)."""

    def __init__(self, every: int = 1, last: int = 50):
        _check_every("log every", every)
        self.every, self.last = every, last

    def on_train_begin(self, run):
        self.start = time.monotonic()

    def on_epoch_end(self, run):
        if run.epoch % self.every == 0 or run.epoch == run.epochs or run.stop:
            h, n = run.history, self.last
            print(f"epoch {run.epoch}/{run.epochs} (step {run.step}, {(time.monotonic() - self.start) / 60:.1f} "
                  f"min): loss_D {h.last('loss_D', n):.3f}, loss_G {h.last('loss_G', n):.3f}, "
                  f"D(x) {h.last('D(x)', n):.3f}, D(G(z)) {h.last('D(G(z))', n):.3f}", flush=True)
