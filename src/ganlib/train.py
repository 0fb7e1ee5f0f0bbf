"""The GAN training step, the loop that calls it, and what runs around the loop.

Chapter 4 reads this module in three parts:

- :func:`d_step` and :func:`g_step`: one update of the discriminator and one
  of the generator, each a few lines (d2l's ``update_D`` / ``update_G``);
- :func:`train_gan`: the loop. For each batch it draws latent inputs, makes
  one batch of fakes, calls ``d_step``, and every ``n_critic`` batches
  ``g_step``; then it hands the step to the callbacks;
- callbacks (:class:`Snapshots`, :class:`Checkpoint`, :class:`EMA`,
  :class:`TimeBudget`, :class:`EarlyStop`, :class:`PrintLog`,
  :class:`AfterDStep`, :class:`MaxSteps`, :class:`StepTimes`): everything else, each behind the
  same small interface (:class:`Callback`).

Losses, optimizers, penalties and the way latent inputs are drawn come in as
arguments, so the same loop trains the minimax and non-saturating GANs, WGAN,
WGAN-GP and conditional GANs; it knows no particular model.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .inputs import values_already_checked
from .latent import LabelledNoise, Latents, NoiseSampler, balanced_labels, fixed_noise, latent_sampler  # noqa: F401
from .losses import d_loss_minimax, g_loss_nonsaturating

RECORD_KEYS = ("step", "epoch", "loss_D", "loss_G", "D(x)", "D(G(z))")
MAX_STEPS_ENV = "GANLIB_MAX_STEPS"
TIMINGS_ENV = "GANLIB_TIMINGS"     # a JSON-lines file: StepTimes appends every run's seconds per step
NOTEBOOK_ENV = "GANLIB_NOTEBOOK"   # set by the notebook runner: which notebook a timed run belongs to
FLUSH_EVERY = 50  # steps between reading the recorded numbers back from the device


# --- the history ---------------------------------------------------------------

@dataclass
class History:
    """What happened during training, one record per step.

    ``records[key]`` is a list over steps for every key in ``RECORD_KEYS``.
    ``D(x)`` and ``D(G(z))`` are mean probabilities for classic GANs, or mean
    raw critic scores when ``scores == "raw"`` (Wasserstein critics).
    ``snapshots`` holds (step, images) generated from the same fixed latents.
    """

    records: dict = field(default_factory=lambda: {k: [] for k in RECORD_KEYS})
    snapshots: list = field(default_factory=list)
    scores: str = "probability"
    steps_per_epoch: int = 0

    def __len__(self) -> int:
        return len(self.records["step"])

    def last(self, key: str, n: int = 1) -> float:
        """The mean of the last ``n`` recorded values of ``key``."""
        values = self.records[key][-n:]
        if not values:
            raise ValueError(f"no '{key}' recorded yet: train for at least one step")
        return sum(values) / len(values)

    def plot(self, smooth: int | None = None, title: str | None = None):
        """Loss curves and D(x) / D(G(z)) curves side by side."""
        from .plots import plot_history

        return plot_history(self, smooth=smooth, title=title)

    def state_dict(self) -> dict:
        return {"records": self.records, "snapshots": self.snapshots, "scores": self.scores,
                "steps_per_epoch": self.steps_per_epoch}

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(records={k: list(v) for k, v in state["records"].items()},
                   snapshots=[(int(s), img) for s, img in state["snapshots"]],
                   scores=state["scores"], steps_per_epoch=int(state["steps_per_epoch"]))


@torch.no_grad()
def generate(generator: torch.nn.Module, noise, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Run the generator in eval mode; result on the CPU as float32.

    ``noise`` is a latent tensor (with ``labels`` for a conditional generator)
    or a :class:`Latents`.
    """
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    if isinstance(noise, Latents):
        args = noise.g_inputs
    else:
        args = (noise,) if labels is None else (noise, labels)
    out = generator(*(a.to(dev) for a in args)).float().cpu()
    generator.train(was_training)
    return out


# --- the two steps ---------------------------------------------------------------

@contextlib.contextmanager
def frozen(module: torch.nn.Module):
    """Within the block, ``module``'s weights get no gradient (restored even on errors)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class MixedPrecision:
    """Mixed precision as a GPU trains: float16 autocast, and one loss scaler per player
    ("D", "G") so that small float16 gradients do not round to zero; or plain float32.

    ``MixedPrecision(device)`` is on for CUDA devices and off elsewhere.
    ``MixedPrecision.emulated()`` runs the same code on the CPU (float16 autocast and a CPU
    ``GradScaler``, torch >= 2.3), so the path a Colab GPU takes is tested without one.
    The scalers' states go into checkpoints (:meth:`state_dict`): a resumed run keeps its
    loss scale instead of starting again at 65,536 and skipping steps to find it.
    """

    def __init__(self, device, enabled: bool | None = None, *, device_type: str | None = None,
                 dtype: torch.dtype = torch.float16):
        self.device_type = device_type or torch.device(device).type
        self.enabled = self.device_type == "cuda" if enabled is None else bool(enabled)
        self.dtype = dtype
        self._scalers = {}

    @classmethod
    def emulated(cls) -> "MixedPrecision":
        """The CUDA path (float16 autocast, loss scaling) on the CPU, for tests."""
        if not hasattr(torch.amp, "GradScaler"):
            raise RuntimeError("emulating mixed precision on the CPU needs torch >= 2.3 (torch.amp.GradScaler)")
        return cls(torch.device("cpu"), enabled=True)

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scaler(self, role: str):
        """The loss scaler of one player ("D" or "G"), made on first use."""
        if role not in self._scalers:
            make = getattr(torch.amp, "GradScaler", None)  # torch.amp.GradScaler is new in torch 2.3
            self._scalers[role] = make(self.device_type) if make is not None else torch.cuda.amp.GradScaler()
        return self._scalers[role]

    def backward_and_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, role: str) -> None:
        """zero_grad, backward, step; under mixed precision through ``role``'s loss scaler."""
        optimizer.zero_grad(set_to_none=True)
        if not self.enabled:
            loss.backward()
            optimizer.step()
            return
        scaler = self.scaler(role)
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # skipped when a gradient overflowed; a fused Adam needs no host read here
        scaler.update()

    def state_dict(self) -> dict:
        return {role: scaler.state_dict() for role, scaler in self._scalers.items()}

    def load_state_dict(self, state: dict) -> None:
        for role, scaler_state in state.items():
            if self.enabled and scaler_state:
                self.scaler(role).load_state_dict(scaler_state)

    def __repr__(self) -> str:
        return (f"MixedPrecision({self.device_type}, {str(self.dtype).replace('torch.', '')})" if self.enabled
                else "MixedPrecision(off: float32)")


def adam(params, lr: float, betas=(0.5, 0.999), fused: bool | None = None) -> torch.optim.Adam:
    """Adam; fused into one kernel when the parameters are on a GPU (``fused=None``).

    A fused Adam also takes the loss scaler's overflow check inside its kernel, so a
    mixed-precision step does not wait for the GPU to report it.
    """
    params = list(params)
    if fused is None:
        tensors = [p for group in params for p in (group["params"] if isinstance(group, dict) else [group])]
        fused = bool(tensors) and all(p.is_cuda for p in tensors)
    return torch.optim.Adam(params, lr=lr, betas=betas, **({"fused": True} if fused else {}))


FULL_PRECISION = MixedPrecision(torch.device("cpu"))


def _scalar(loss, name: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"{name} must return one number (a 0-dim tensor), got {shape}: "
                         "average over the batch, e.g. with .mean()")
    return loss


def d_step(discriminator, opt_d, d_loss, real, fake, d_inputs=(), penalty=None,
           precision: MixedPrecision = FULL_PRECISION):
    """Update D once: raise its scores on real images, lower them on generated ones.

    Returns (loss, D's outputs on the real batch, D's outputs on the fakes), detached.
    """
    fake = fake.detach()  # this step must not change G
    with precision.autocast():
        real_out = discriminator(real, *d_inputs).float()
        fake_out = discriminator(fake, *d_inputs).float()
    loss = _scalar(d_loss(real_out, fake_out), "d_loss")
    if penalty is not None:  # a gradient penalty sees D with its extra inputs bound
        loss = loss + penalty(lambda x: discriminator(x, *d_inputs).float(), real.float(), fake.float())
    precision.backward_and_step(loss, opt_d, "D")
    return loss.detach(), real_out.detach(), fake_out.detach()


def g_step(discriminator, opt_g, g_loss, fake, d_inputs=(), precision: MixedPrecision = FULL_PRECISION,
           extra_loss=None):
    """Update G once: make the just-updated D call its fakes real. Returns the loss, detached.

    ``extra_loss(fake)``, when given, is added to G's loss (pix2pix's L1 term, InfoGAN's Q loss).
    """
    # D's weights get no gradient here (only G steps), which saves a third of
    # D's backward pass; the gradient still flows through D into G.
    with frozen(discriminator), precision.autocast():
        loss = _scalar(g_loss(discriminator(fake, *d_inputs).float()), "g_loss")
        if extra_loss is not None:
            loss = loss + extra_loss(fake).float()
    precision.backward_and_step(loss, opt_g, "G")
    return loss.detach()


# --- callbacks ---------------------------------------------------------------------

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
        self.first = run.step

    def on_step_end(self, run):
        if run.step - self.first >= self.steps:
            run.stop = f"capped at {self.steps} steps ({MAX_STEPS_ENV})"

    @classmethod
    def from_env(cls):
        raw = os.environ.get(MAX_STEPS_ENV, "").strip()
        if not raw:
            return None
        try:
            return cls(int(raw))
        except ValueError:
            raise ValueError(f"{MAX_STEPS_ENV}={raw!r}: set it to a positive whole number of steps, "
                             "or unset it to train for the full number of epochs") from None


def max_steps() -> int | None:
    """The step cap that ``GANLIB_MAX_STEPS`` sets on every training run, or None when unset."""
    cap = MaxSteps.from_env()
    return None if cap is None else cap.steps


def capped_steps(steps: int) -> int:
    """``steps``, or the ``GANLIB_MAX_STEPS`` cap when that is smaller.

    For a notebook's own training loop (``train_gan`` caps itself):
    ``for step in trange(capped_steps(STEPS))``. Unset, it returns ``steps``.
    """
    cap = max_steps()
    return steps if cap is None else min(steps, cap)


class StepTimes(Callback):
    """Append this run's size and seconds per step to the JSON-lines file ``path``.

    ``GANLIB_TIMINGS=path`` adds one to every run: the capped full-profile run
    writes what ``python -m ganlib.timings`` turns into each chapter's full time.
    The first step (warm-up) is not timed; the others are averaged (with
    ``n_critic`` > 1 only some steps include a generator step: time ten or more),
    in wall time and in this process's CPU time (what a busy machine does not inflate).
    """

    order = 10  # after the other callbacks, so their work counts in a step's time

    def __init__(self, path):
        self.path = Path(path)

    def on_train_begin(self, run):
        self.first, self.times, self.cpu_times, self.last = run.step, [], [], None

    def on_step_end(self, run):
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
                  "epochs": run.epochs, "first_step": self.first, "steps_done": run.step - self.first,
                  "timed_steps": len(self.times),
                  "seconds_per_step": float(np.mean(self.times)) if self.times else None,
                  "cpu_seconds_per_step": float(np.mean(self.cpu_times)) if self.cpu_times else None}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    @classmethod
    def from_env(cls):
        path = os.environ.get(TIMINGS_ENV, "").strip()
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


# --- checkpoints -------------------------------------------------------------------

def _rng_state() -> dict:
    """Every random generator's state, as tensors and numbers (loadable with weights_only=True)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached": float(cached)},
             "python": {"version": version, "internal": list(internal), "gauss": gauss}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        _set_cuda_rng_states(state["cuda"])


def _set_cuda_rng_states(states) -> None:
    """Restore the CUDA generators this machine has. A checkpoint from a machine with more
    GPUs restores as many as are here (training uses the first); one from a machine with
    fewer leaves the others as they are."""
    for index, device_state in enumerate(list(states)[:torch.cuda.device_count()]):
        torch.cuda.set_rng_state(device_state, index)


def run_fingerprint(run: "TrainingRun") -> dict:
    """What must match for a checkpoint to continue this run: networks, optimizers,
    losses, n_critic, batches, latent inputs (not the number of epochs)."""
    def optimizer(opt):
        groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items() if k != "params"}
                  for g in opt.param_groups]
        return f"{type(opt).__name__} {groups}"

    def name(fn):
        return getattr(fn, "__qualname__", None) or repr(fn)

    return {
        "generator": repr(run.generator), "discriminator": repr(run.discriminator),
        "opt_g": optimizer(run.opt_g), "opt_d": optimizer(run.opt_d),
        "d_loss": name(run.d_loss), "g_loss": name(run.g_loss),
        "penalty": None if run.penalty is None else name(run.penalty),
        "g_extra_loss": None if run.g_extra_loss is None else name(run.g_extra_loss),
        "n_critic": run.n_critic, "batches per epoch": run.steps_per_epoch,
        "batch size": getattr(run.data, "batch_size", None), "latents": repr(run.sampler),
        "scores": run.history.scores,
        "callbacks that change training": [repr(cb) for cb in run.callbacks if cb.changes_training],
        "data": _data_fingerprint(run.data),
    }


def _data_fingerprint(data) -> str | None:
    """Size and pixel sum of a TensorBatches' images: another data set of the same size differs."""
    tensors = getattr(data, "tensors", None)
    if tensors is None:
        return None
    images = tensors[0]
    return f"{len(images)} items of shape {tuple(images.shape[1:])}, sum {images.sum(dtype=torch.float64).item():.6e}"


CHECKPOINT_FORMAT = "ganlib training checkpoint: sha256 of payload"


def callback_keys(callbacks):
    """(key, callback) pairs: the class name, then "EMA#2", "EMA#3"... for more of one class,
    so two callbacks of one class never share a saved state."""
    seen = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}#{seen[name]}"), cb


def callback_states(callbacks, exclude=None) -> dict:
    return {key: cb.state_dict() for key, cb in callback_keys(callbacks) if cb is not exclude and cb.state_dict()}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_checkpoint(state: dict, path) -> None:
    """Save ``state`` with the SHA-256 of its bytes, atomically (a temporary file, then a rename)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    tmp = Path(path).with_suffix(Path(path).suffix + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, "sha256": hashlib.sha256(payload).hexdigest(),
                "payload": torch.frombuffer(bytearray(payload), dtype=torch.uint8)}, tmp)
    os.replace(tmp, path)


def read_checkpoint(path) -> dict:
    """Load a checkpoint file, or say clearly why it cannot be used (empty, truncated, altered
    since it was written, or not a ganlib checkpoint)."""
    path = Path(path).expanduser()
    if path.stat().st_size == 0:
        raise RuntimeError(f"the checkpoint {path} is empty (0 bytes): a save was interrupted. "
                           "Delete it to start fresh, or restore a good copy.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
            payload = state["payload"].numpy().tobytes()
            if hashlib.sha256(payload).hexdigest() != state["sha256"]:
                raise RuntimeError(f"the checkpoint {path} does not match the SHA-256 saved with it: its "
                                   "bytes changed after it was written (a bad disk or copy). Delete it to "
                                   "start fresh, or restore a good copy.")
            state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except RuntimeError as err:
        if "SHA-256" in str(err):
            raise
        raise RuntimeError(f"the checkpoint {path} cannot be read (RuntimeError: {err}); it is truncated "
                           "or corrupted. Delete it to start fresh, or restore a good copy.") from err
    except Exception as err:  # truncated zip, bad pickle, not a torch file
        raise RuntimeError(f"the checkpoint {path} cannot be read ({type(err).__name__}: {err}); it is "
                           "truncated or corrupted. Delete it to start fresh, or restore a good copy."
                           ) from err
    needed = {"generator", "discriminator", "opt_g", "opt_d", "history", "epoch", "step", "fingerprint"}
    if not isinstance(state, dict) or not needed <= set(state):
        raise RuntimeError(f"{path} is not a ganlib training checkpoint (it lacks "
                           f"{sorted(needed - set(state) if isinstance(state, dict) else needed)}). "
                           "Delete it or pass another checkpoint path.")
    return state


class Checkpoint(Callback):
    """Save everything a run needs to continue exactly, after every epoch; with
    ``resume``, an existing file is loaded first.

    The file holds both networks, both optimizers, the loss scalers of mixed
    precision, the history, the position, every random generator's state, the
    other callbacks' states (an EMA, say) and a fingerprint of the run's
    settings. Resuming with other settings stops with a message naming what
    differs. Writes go to a temporary file first, so a disconnect mid-save never
    leaves a broken checkpoint.

    Where "exactly" holds: on a CPU, a resumed run equals the uninterrupted one bit
    for bit (the tests check it, float16 emulation included). On a CUDA GPU it holds
    only with deterministic kernels (``torch.use_deterministic_algorithms(True)`` and
    ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set before CUDA starts); by default cuDNN's
    convolution kernels may sum in a different order from run to run, so a resumed
    GPU run continues the same training but not the same digits.
    """

    order = -1  # restores the run before any other callback looks at it (and saves after them all)

    def __init__(self, path, resume: bool = True):
        self.path, self.resume = Path(path).expanduser(), resume
        self.lock = self.path.with_suffix(self.path.suffix + ".lock")

    def on_train_begin(self, run):
        self._claim()
        if not (self.resume and self.path.exists()):
            return
        state = read_checkpoint(self.path)
        mine = run_fingerprint(run)
        # A checkpoint from an earlier ganlib is checked on what it recorded.
        differ = [k for k in mine if k in state["fingerprint"] and state["fingerprint"][k] != mine[k]]
        if differ:
            lines = "\n".join(f"  {k}: checkpoint {state['fingerprint'].get(k)!r}, now {mine[k]!r}"
                              for k in differ)
            raise ValueError(f"the checkpoint {self.path} belongs to a different run:\n{lines}\n"
                             "Use the same settings to continue it, or start fresh: delete the file "
                             "or pass another checkpoint path (or resume=False).")
        run.generator.load_state_dict(state["generator"])
        run.discriminator.load_state_dict(state["discriminator"])
        run.opt_g.load_state_dict(state["opt_g"])
        run.opt_d.load_state_dict(state["opt_d"])
        run.history = History.from_state_dict(state["history"])
        run.epoch, run.step = int(state["epoch"]), int(state["step"])
        run.precision.load_state_dict(state.get("loss_scalers", {}))
        run.last_loss_g = state.get("last_loss_g")
        if run.last_loss_g is not None:
            run.last_loss_g = run.last_loss_g.to(run.device)
        # The other callbacks' states and the random generators are restored after
        # every callback has begun (an EMA builds its average there).
        run.restore_later = (state.get("callbacks", {}), state["rng"])
        if run.epoch >= run.epochs:
            print(f"{self.path} holds a finished run ({run.epoch} of {run.epochs} epochs): loaded its "
                  "weights into the generator and discriminator and returned its history. Pass a new "
                  "checkpoint path (or resume=False) to train again from these networks' start.")
        else:
            print(f"Resumed from {self.path}: {run.epoch} of {run.epochs} epochs done.")

    def _claim(self) -> None:
        """Fail now, not after an epoch, when the checkpoint cannot be written; and refuse a
        second process training into the same file (a lock file holds the owner's pid)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RuntimeError(f"cannot write the checkpoint {self.path}: its folder cannot be made "
                               f"({err.strerror}); choose a folder you can write to") from err
        try:
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                owner = int(self.lock.read_text().strip() or 0)
            except (OSError, ValueError):
                owner = 0
            if owner and owner != os.getpid() and _process_alive(owner):
                raise RuntimeError(f"another process (pid {owner}) is training into {self.path}: two runs "
                                   "writing one checkpoint would overwrite each other. Give this run its "
                                   f"own checkpoint path, or stop the other one (a stale {self.lock.name} "
                                   "from a crashed run can be deleted).") from None
            self.lock.unlink(missing_ok=True)  # left by a run that crashed
            return self._claim()
        except OSError as err:
            raise RuntimeError(f"cannot write the checkpoint {self.path} ({err.strerror}): choose a folder "
                               "you can write to, with free space") from err
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))

    def on_train_end(self, run):
        self.lock.unlink(missing_ok=True)

    def on_epoch_end(self, run):
        if run.step != run.epoch * run.steps_per_epoch:
            return  # stopped mid-epoch: the last whole epoch's checkpoint stays
        try:
            self._save(run)
        except OSError as err:
            raise RuntimeError(f"saving the checkpoint {self.path} failed after epoch {run.epoch} "
                               f"({err.strerror}): free some disk space or choose another folder; the "
                               "previous checkpoint, if any, is intact") from err

    def _save(self, run):
        write_checkpoint({"generator": run.generator.state_dict(), "discriminator": run.discriminator.state_dict(),
                    "opt_g": run.opt_g.state_dict(), "opt_d": run.opt_d.state_dict(),
                    "history": run.history.state_dict(), "epoch": run.epoch, "step": run.step,
                    "last_loss_g": run.last_loss_g, "loss_scalers": run.precision.state_dict(),
                    "rng": _rng_state(), "fingerprint": run_fingerprint(run),
                    "callbacks": callback_states(run.callbacks, exclude=self)}, self.path)


# --- the loop ------------------------------------------------------------------------

@dataclass
class TrainingRun:
    """The state the loop and its callbacks share."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    d_loss: object
    g_loss: object
    penalty: object
    g_extra_loss: object
    n_critic: int
    sampler: object
    data: object
    epochs: int
    device: torch.device
    history: History
    callbacks: list
    steps_per_epoch: int
    epoch: int = 0              # epochs finished
    step: int = 0               # D steps taken
    last_loss_g: torch.Tensor | None = None
    stop: str | None = None     # set by a callback to end training, saying why
    restore_later: tuple | None = None  # (callback states, RNG states) from a checkpoint
    precision: MixedPrecision = FULL_PRECISION  # autocast and the loss scalers' states

    def call(self, hook: str) -> None:
        callbacks = self.callbacks
        if hook == "on_epoch_end":  # a checkpoint saves what every other callback did this epoch
            callbacks = [cb for cb in callbacks if not isinstance(cb, Checkpoint)] + \
                        [cb for cb in callbacks if isinstance(cb, Checkpoint)]
        for cb in callbacks:
            getattr(cb, hook)(self)

    def begin(self) -> None:
        """Start every callback, then restore what a checkpoint saved for them."""
        self.call("on_train_begin")
        if self.restore_later is not None:
            states, rng = self.restore_later
            for key, cb in callback_keys(self.callbacks):
                if key in states:
                    cb.load_state_dict(states[key])
            _set_rng_state(rng)
            self.restore_later = None


def split_batch(batch):
    """``images`` or ``(images, labels)`` -> (images, labels or None)."""
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _first_images(data) -> torch.Tensor:
    """All of a TensorBatches' images (read without shuffling, so no random number is used),
    else the first batch's."""
    tensors = getattr(data, "tensors", None)
    if tensors is not None:
        return tensors[0]
    try:
        return split_batch(next(iter(data)))[0]
    except StopIteration:
        raise ValueError("the data gives no batch: it is empty (check the data set and the batch size)") from None


def _check_class_labels(generator, data) -> None:
    """A conditional GAN's class ids, checked once here: the networks skip the check while
    training (it would make a GPU wait every step)."""
    n_classes = getattr(generator, "n_classes", None)
    if not getattr(generator, "conditional", False) or n_classes is None:
        return
    tensors = getattr(data, "tensors", None)
    labels = tensors[1] if tensors is not None and len(tensors) > 1 else split_batch(next(iter(data)))[1]
    if labels is None:
        raise ValueError(f"{type(generator).__name__} is conditional but the batches have no labels: "
                         "pass batches of (images, labels), e.g. data.batches(64, with_labels=True)")
    if labels.is_floating_point() or labels.dim() != 1:
        raise TypeError(f"the data's labels must be class ids of shape (N,) and an integer dtype, got "
                        f"{labels.dtype} of shape {tuple(labels.shape)}")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"the data's labels run from {int(labels.min())} to {int(labels.max())}, but "
                         f"{type(generator).__name__} has n_classes={n_classes} (ids 0..{n_classes - 1})")


def _check_optimizer(optimizer, name, network, role, other) -> None:
    """An optimizer steps only its own network (swapped optimizers would train nothing)."""
    mine = {id(p) for p in network.parameters()}
    theirs = {id(p) for p in other.parameters()} - mine
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if any(id(p) in theirs for p in params):
        raise ValueError(f"{name} holds the {'discriminator' if role == 'generator' else 'generator'}'s "
                         f"parameters, not the {role}'s: did you swap opt_g and opt_d?")
    if not any(id(p) in mine for p in params):
        raise ValueError(f"{name} holds none of the {role}'s parameters: build it from "
                         f"{role}.parameters()")


def check_training_inputs(generator, discriminator, data, sampler, device) -> None:
    """Fail early, with what to do, on the mistakes that otherwise train silently wrong."""
    if isinstance(data, torch.Tensor):
        raise TypeError("train_gan needs batches, not one tensor of images: pass "
                        "ganlib.TensorBatches(images, batch_size=64) or data.batches(64)")
    if not hasattr(data, "__len__") or not hasattr(data, "__iter__"):
        raise TypeError(f"train_gan needs an iterable of batches with len(), got {type(data).__name__}")
    real = _first_images(data)
    if not isinstance(real, torch.Tensor):
        raise TypeError(f"a batch's images must be a torch.Tensor, got {type(real).__name__}")
    if not real.is_floating_point():
        raise TypeError(f"the real images are {real.dtype}: convert them to float32 in [-1, 1] first "
                        "(images.float() / 127.5 - 1 for 0..255 pixels), or use ganlib.load_mnist")
    if real.dtype == torch.float64:
        raise TypeError("the real images are float64 but the networks are float32: "
                        "pass images.float()")
    if not torch.isfinite(real).all():
        bad = int((~torch.isfinite(real)).flatten(1).any(1).sum())
        raise ValueError(f"{bad} of the real images hold NaN or infinite pixels: fix or drop them "
                         "before training (a NaN pixel makes every loss NaN)")
    low, high = real.min().item(), real.max().item()
    if real.dim() == 4 and (low < -1.01 or high > 1.01):  # images (points of a toy set may lie anywhere)
        raise ValueError(f"the real images run from {low:.3g} to {high:.3g}, but the generator's tanh "
                         "makes [-1, 1]: map 0..255 pixels with x / 127.5 - 1 and [0, 1] pixels with 2x - 1")
    if real.dim() == 4 and low >= -0.01:
        raise ValueError(f"the real images run from {low:.3g} to {high:.3g}: no pixel is below 0, so they "
                         "look like [0, 1] images, but the generator's tanh makes [-1, 1] and D would tell "
                         "them apart by brightness alone. Map them with 2x - 1 (ganlib.load_mnist does).")
    _check_class_labels(generator, data)
    with torch.no_grad():
        was_training = generator.training
        generator.eval()
        probe = sampler.fixed(2, device=device)
        try:
            fake = generator(*probe.g_inputs)
        except (RuntimeError, TypeError) as err:  # "mat1 and mat2 shapes ...", "forward() takes ..."
            raise ValueError(
                f"{type(generator).__name__} cannot take the inputs {sampler!r} draws "
                f"({', '.join(str(tuple(x.shape)) for x in probe.g_inputs)}): {err}. Make the sampler match "
                "the generator: its latent_dim, and LabelledNoise only for a conditional G(z, labels)."
            ) from err
        finally:
            generator.train(was_training)
    if tuple(fake.shape[1:]) != tuple(real.shape[1:]):
        raise ValueError(f"{type(generator).__name__} makes images of shape {tuple(fake.shape[1:])}, but "
                         f"the data's images (what {type(discriminator).__name__} is trained on) are "
                         f"{tuple(real.shape[1:])}: make the generator's output match the data")


def train_gan(generator: torch.nn.Module, discriminator: torch.nn.Module, data, *,
              epochs: int, d_loss=d_loss_minimax, g_loss=g_loss_nonsaturating,
              opt_g: torch.optim.Optimizer | None = None, opt_d: torch.optim.Optimizer | None = None,
              n_critic: int = 1, penalty=None, g_extra_loss=None, latents=None, callbacks=(),
              checkpoint: str | os.PathLike | None = None, scores: str = "probability",
              device=None, precision: MixedPrecision | None = None, progress: bool = True,
              desc: str = "training") -> History:
    """Train a GAN by alternating discriminator and generator steps.

    data:        iterable of batches (``images`` or ``(images, labels)``) with ``len()``,
                 e.g. ``ImageData.batches(64)`` or ``TensorBatches``.
    d_loss:      ``d_loss(real_out, fake_out) -> loss`` for the discriminator/critic.
    g_loss:      ``g_loss(fake_out) -> loss`` for the generator.
    opt_g/opt_d: optimizers (default Adam, lr 2e-4, betas (0.5, 0.999)).
    n_critic:    discriminator steps per generator step.
    penalty:     ``penalty(critic_fn, real, fake) -> loss`` added to D's loss (gradient penalties).
    g_extra_loss: ``g_extra_loss(fake, real, latents) -> loss`` added to G's loss (pix2pix's L1
                 to the target image, InfoGAN's mutual-information term).
    latents:     how G's inputs are drawn (default from the generator's attributes:
                 :class:`NoiseSampler`, or :class:`LabelledNoise` for ``conditional = True``).
    callbacks:   :class:`Callback` objects; a :class:`Snapshots` is added unless one is given.
    checkpoint:  a file: shorthand for ``callbacks=[Checkpoint(path)]`` (saved every epoch,
                 resumed when it exists, so a disconnected Colab run continues exactly).
    scores:      "probability" (record sigmoid of D's outputs) or "raw" (critic scores).
    precision:   a :class:`MixedPrecision` (default: float16 autocast with loss scaling on
                 CUDA, float32 elsewhere; ``MixedPrecision.emulated()`` runs the CUDA path on a CPU).
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {epochs!r}")
    if not isinstance(n_critic, int) or n_critic < 1:
        raise ValueError(f"n_critic must be a whole number of at least 1, got {n_critic!r}")
    if scores not in ("probability", "raw"):
        raise ValueError("scores must be 'probability' or 'raw'")
    dev = torch.device(device) if device is not None else next(generator.parameters()).device
    generator.to(dev).train()
    discriminator.to(dev).train()
    sampler = latents if latents is not None else latent_sampler(generator)
    check_training_inputs(generator, discriminator, data, sampler, dev)
    steps_per_epoch = len(data)
    if steps_per_epoch < 1:
        raise ValueError("the data gives no batch: use a smaller batch size or more data")
    opt_g = opt_g or adam(generator.parameters(), lr=2e-4)
    opt_d = opt_d or adam(discriminator.parameters(), lr=2e-4)
    _check_optimizer(opt_g, "opt_g", generator, "generator", discriminator)
    _check_optimizer(opt_d, "opt_d", discriminator, "discriminator", generator)
    precision = precision if precision is not None else MixedPrecision(dev)

    callbacks = list(callbacks)
    if checkpoint is not None:
        callbacks.append(Checkpoint(checkpoint))
    if not any(isinstance(cb, Snapshots) for cb in callbacks):
        callbacks.append(Snapshots())
    callbacks += [cb for cb in (MaxSteps.from_env(), StepTimes.from_env()) if cb is not None]
    callbacks.sort(key=lambda cb: getattr(cb, "order", 0))  # stable: Checkpoint first

    run = TrainingRun(generator, discriminator, opt_g, opt_d, d_loss, g_loss, penalty, g_extra_loss, n_critic, sampler,
                      data, epochs, dev, History(scores=scores, steps_per_epoch=steps_per_epoch),
                      callbacks, steps_per_epoch, precision=precision)
    run.begin()
    to_score = torch.sigmoid if scores == "probability" else (lambda out: out)
    recorder = _Recorder(run, checkpoint=next((cb.path for cb in callbacks if isinstance(cb, Checkpoint)), None))
    bar = tqdm(total=epochs * steps_per_epoch, initial=run.step, desc=desc, disable=not progress, unit="step")

    with values_already_checked():  # check_training_inputs read the labels once; no reads per step
        while run.epoch < epochs and not run.stop:
            for batch in data:  # one epoch
                real, labels = split_batch(batch)
                real = real.to(dev, non_blocking=True)
                inputs = sampler(len(real), None if labels is None else labels.to(dev, non_blocking=True), dev)
                g_due = run.step % n_critic == 0
                with torch.set_grad_enabled(g_due), precision.autocast():
                    fake = generator(*inputs.g_inputs)  # one batch of fakes serves both steps

                loss_d, real_out, fake_out = d_step(discriminator, opt_d, d_loss, real, fake, inputs.d_inputs,
                                                    penalty, precision)
                run.call("on_d_step_end")
                if g_due:
                    extra = None if g_extra_loss is None else _bind_extra(g_extra_loss, real, inputs)
                    run.last_loss_g = g_step(discriminator, opt_g, g_loss, fake, inputs.d_inputs, precision, extra)
                    run.call("on_g_step_end")

                run.step += 1
                recorder.add(loss_d, run.last_loss_g, to_score(real_out).mean(), to_score(fake_out).mean())
                bar.update(1)
                run.call("on_step_end")
                if run.stop and run.step % steps_per_epoch:
                    break  # mid-epoch (a step cap): no checkpoint is written for a partial epoch
            recorder.flush(bar)
            run.epoch += run.step == (run.epoch + 1) * steps_per_epoch
            run.call("on_epoch_end")
    bar.close()
    if run.stop and run.epoch < epochs:
        print(f"Stopped early: {run.stop}.")
    run.call("on_train_end")
    return run.history


def _bind_extra(g_extra_loss, real, latents):
    """``g_extra_loss`` as a function of the fakes alone, for this batch."""
    return lambda fake: g_extra_loss(fake, real, latents)


class _Recorder:
    """Keeps each step's numbers on the device and copies them to the history in
    blocks (reading a number back from a GPU waits for it: once per step would be slow)."""

    def __init__(self, run: TrainingRun, checkpoint):
        self.run, self.checkpoint, self.pending = run, checkpoint, []

    def add(self, loss_d, loss_g, d_real, d_fake):
        self.pending.append(torch.stack([loss_d, loss_g, d_real, d_fake]).float())
        if len(self.pending) >= FLUSH_EVERY:
            self.flush(None)

    def flush(self, bar):
        if not self.pending:
            return
        run, rows = self.run, torch.stack(self.pending).cpu()
        first = run.step - len(self.pending) + 1  # steps count from 1
        bad = ~torch.isfinite(rows[:, :2]).all(dim=1)
        if bad.any():
            i = int(bad.nonzero()[0])
            column = 0 if not math.isfinite(rows[i, 0]) else 1
            which = ("discriminator", "generator")[column]
            hint = ""
            if self.checkpoint is not None and Path(self.checkpoint).exists():
                hint = f" The last checkpoint ({self.checkpoint}) holds the run before it diverged."
            raise FloatingPointError(
                f"The {which} loss became {float(rows[i, column])} at step {first + i} (epoch "
                f"{run.epoch + 1}). Training diverged: lower the learning rate, check the losses' "
                f"signs, or add a gradient penalty.{hint}")
        epoch = run.epoch + 1
        for i, (ld, lg, dx, dgz) in enumerate(rows.tolist()):
            for key, value in zip(RECORD_KEYS, (first + i, epoch, ld, lg, dx, dgz)):
                run.history.records[key].append(value)
        self.pending.clear()
        if bar is not None:
            h = run.history
            bar.set_postfix({"loss_D": f"{h.last('loss_D'):.3f}", "loss_G": f"{h.last('loss_G'):.3f}",
                             "D(x)": f"{h.last('D(x)'):.2f}", "D(G(z))": f"{h.last('D(G(z))'):.2f}"},
                            refresh=False)
