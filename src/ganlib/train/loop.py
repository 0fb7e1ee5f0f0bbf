"""The loop: for each batch, draw latent inputs, make one batch of fakes, take D's step and,
every ``n_critic`` batches, G's step; then hand the step to the callbacks."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data import split_batch
from ..inputs import values_already_checked
from ..latent import latent_sampler
from ..losses import NON_SATURATING, GANLoss, gan_loss
from .callbacks import MaxSteps, Snapshots, StepTimes
from .checkpoint import Checkpoint, callback_keys, rng_state, set_rng_state
from .history import RECORD_KEYS, History
from .steps import FULL_PRECISION, MixedPrecision, adam, d_step, g_step

FLUSH_EVERY = 50  # steps between reading the recorded numbers back from the device


@dataclass
class TrainingRun:
    """The state the loop and its callbacks share."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    loss: GANLoss               # D's and G's losses, and what D's outputs mean
    penalty: object
    g_extra_loss: object
    d_extra_loss: object
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
    precision: MixedPrecision = FULL_PRECISION  # autocast and the loss scalers' states

    def call(self, hook: str) -> None:
        """Run one hook of every callback, in ascending ``order`` (a checkpoint last)."""
        for cb in self.callbacks:
            getattr(cb, hook)(self)

    def state_dict(self) -> dict:
        """Everything that continues this run exactly: networks, optimizers, loss scalers,
        history, position, every random generator, and the callbacks' own states."""
        return {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "loss_scalers": self.precision.state_dict(), "history": self.history.state_dict(),
                "epoch": self.epoch, "step": self.step, "last_loss_g": self.last_loss_g, "rng": rng_state(),
                "callbacks": {key: cb.state_dict() for key, cb in callback_keys(self.callbacks)
                              if cb.state_dict()}}

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.precision.load_state_dict(state.get("loss_scalers", {}))
        self.history = History.from_state_dict(state["history"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        last = state.get("last_loss_g")
        self.last_loss_g = last.to(self.device) if last is not None else None
        saved = state.get("callbacks", {})
        for key, cb in callback_keys(self.callbacks):
            if key in saved:
                cb.load_state_dict(saved[key])
        set_rng_state(state["rng"])


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
    """An optimizer steps its own network (swapped optimizers would train nothing). It may also
    step a part of the other network (InfoGAN's Q head steps with D in Chen et al.'s code)."""
    mine = {id(p) for p in network.parameters()}
    theirs = {id(p) for p in other.parameters()} - mine
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if not any(id(p) in mine for p in params):
        if any(id(p) in theirs for p in params):
            raise ValueError(f"{name} holds the {'discriminator' if role == 'generator' else 'generator'}'s "
                             f"parameters, not the {role}'s: did you swap opt_g and opt_d?")
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


def train_gan(generator: torch.nn.Module, discriminator: torch.nn.Module, data, *, epochs: int,
              loss: GANLoss | str = NON_SATURATING, optimizers: tuple | None = None, n_critic: int = 1,
              penalty=None, g_extra_loss=None, d_extra_loss=None, latents=None, callbacks=(),
              checkpoint: str | os.PathLike | None = None, progress: bool | str = True) -> History:
    """Train a GAN by alternating discriminator and generator steps, on the device that holds
    the generator's parameters (move both networks there first).

    data:        iterable of batches (``images`` or ``(images, labels)``) with ``len()``,
                 e.g. ``ImageData.batches(64)`` or ``TensorBatches``.
    loss:        a :class:`~ganlib.losses.GANLoss`, or its name ("non-saturating", "minimax",
                 "wasserstein", "hinge", "least squares"): D's loss ``d_loss(real_out, fake_out)``,
                 G's loss ``g_loss(fake_out)``, and whether D's outputs are recorded as
                 probabilities or as raw critic scores.
    optimizers:  ``(opt_g, opt_d)`` (default Adam for both, lr 2e-4, betas (0.5, 0.999)).
    n_critic:    discriminator steps per generator step.
    penalty:     ``penalty(critic_fn, real, fake) -> loss`` added to D's loss (gradient penalties).
    g_extra_loss: ``g_extra_loss(fake, real, latents) -> loss`` added to G's loss (pix2pix's L1
                 to the target image, InfoGAN's mutual-information term).
    d_extra_loss: ``d_extra_loss(fake, real, latents) -> loss`` added to D's loss, the fakes
                 detached (InfoGAN's term again: its Q head is a part of D).
    latents:     how G's inputs are drawn (default from the generator's attributes:
                 :class:`NoiseSampler`, or :class:`LabelledNoise` for ``conditional = True``).
    callbacks:   :class:`Callback` objects (a :class:`Snapshots` is added unless one is given),
                 and at most one :class:`MixedPrecision`, how the steps compute (default: float16
                 autocast with loss scaling on CUDA, float32 elsewhere; ``MixedPrecision.emulated()``
                 runs the CUDA path on a CPU).
    checkpoint:  a file: shorthand for ``callbacks=[Checkpoint(path)]`` (saved every epoch,
                 resumed when it exists, so a disconnected Colab run continues exactly).
    progress:    show a progress bar (True), none (False), or one labelled with this string.
    """
    loss = gan_loss(loss)
    dev = _training_device(generator, discriminator)
    _check_settings(epochs, n_critic, progress)
    generator.train()
    discriminator.train()
    sampler = latents if latents is not None else latent_sampler(generator)
    check_training_inputs(generator, discriminator, data, sampler, dev)
    steps_per_epoch = len(data)
    if steps_per_epoch < 1:
        raise ValueError("the data gives no batch: use a smaller batch size or more data")
    opt_g, opt_d = _optimizers(optimizers, generator, discriminator)
    callbacks, precision = _with_standard_callbacks(callbacks, checkpoint, dev)

    run = TrainingRun(generator=generator, discriminator=discriminator, opt_g=opt_g, opt_d=opt_d,
                      loss=loss, penalty=penalty, g_extra_loss=g_extra_loss, d_extra_loss=d_extra_loss,
                      n_critic=n_critic, sampler=sampler, data=data, epochs=epochs, device=dev,
                      history=History(scores=loss.scores, steps_per_epoch=steps_per_epoch,
                                      step_unit=step_unit(n_critic)),
                      callbacks=callbacks, steps_per_epoch=steps_per_epoch, precision=precision)
    run.call("on_train_begin")  # a Checkpoint, the last callback, restores the run here
    recorder = _Recorder(run, checkpoint=next((cb.path for cb in callbacks if isinstance(cb, Checkpoint)), None))
    bar = tqdm(total=epochs * steps_per_epoch, initial=run.step, unit="step", disable=progress is False,
               desc=progress if isinstance(progress, str) else "training")
    with values_already_checked():  # check_training_inputs read the labels once; no reads per step
        while run.epoch < epochs and not run.stop:
            train_epoch(run, recorder, bar)
            recorder.flush(bar)
            run.epoch += run.step == (run.epoch + 1) * steps_per_epoch  # not after a mid-epoch stop
            run.call("on_epoch_end")
    bar.close()
    if run.stop and run.epoch < epochs:
        print(f"Stopped early: {run.stop}.")
    run.call("on_train_end")
    return run.history


def _check_settings(epochs, n_critic, progress) -> None:
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {epochs!r}")
    if not isinstance(n_critic, int) or isinstance(n_critic, bool) or n_critic < 1:
        raise ValueError(f"n_critic must be a whole number of at least 1, got {n_critic!r}")
    if not isinstance(progress, (bool, str)):
        raise TypeError(f"progress must be True, False or a label for the progress bar, got {progress!r}")


def _training_device(generator, discriminator) -> torch.device:
    """The device of the generator's parameters, where D must be too."""
    g_params = list(generator.parameters())
    if not g_params:
        raise ValueError(f"{type(generator).__name__} has no parameters: train_gan trains a generator's weights")
    dev = g_params[0].device
    elsewhere = sorted({str(p.device) for p in discriminator.parameters() if p.device != dev})
    if elsewhere:
        raise ValueError(f"the generator is on {dev} but the discriminator on {', '.join(elsewhere)}: "
                         f"train_gan trains where the generator's parameters are, so move both networks "
                         f"to one device first, e.g. G.to(device) and D.to(device)")
    return dev


def _optimizers(optimizers, generator, discriminator):
    """(opt_g, opt_d): the given pair, checked, or Adam for both."""
    if optimizers is None:
        return adam(generator.parameters(), lr=2e-4), adam(discriminator.parameters(), lr=2e-4)
    if not isinstance(optimizers, (tuple, list)) or len(optimizers) != 2:
        raise TypeError(f"optimizers must be the pair (opt_g, opt_d), the generator's first, got {optimizers!r}")
    opt_g, opt_d = optimizers
    _check_optimizer(opt_g, "opt_g", generator, "generator", discriminator)
    _check_optimizer(opt_d, "opt_d", discriminator, "discriminator", generator)
    in_g = {id(p) for group in opt_g.param_groups for p in group["params"]}
    shared = sum(id(p) in in_g for group in opt_d.param_groups for p in group["params"])
    if shared:
        raise ValueError(f"{shared} parameter tensors are in both opt_g and opt_d: each would step twice per "
                         "round; give every parameter to one optimizer")
    return opt_g, opt_d


def _with_standard_callbacks(callbacks, checkpoint, device):
    """The callbacks in the order they run (a Checkpoint last), with a Snapshots unless one is
    given, and the run's :class:`MixedPrecision` (the one among them, else the device's default)."""
    callbacks = list(callbacks)
    precisions = [cb for cb in callbacks if isinstance(cb, MixedPrecision)]
    if len(precisions) > 1:
        raise ValueError(f"give at most one MixedPrecision among the callbacks, got {precisions}")
    callbacks = [cb for cb in callbacks if not isinstance(cb, MixedPrecision)]
    if checkpoint is not None:
        callbacks.append(Checkpoint(checkpoint))
    if not any(isinstance(cb, Snapshots) for cb in callbacks):
        callbacks.append(Snapshots())
    callbacks += [cb for cb in (MaxSteps.from_env(), StepTimes.from_env()) if cb is not None]
    callbacks.sort(key=lambda cb: getattr(cb, "order", 0))  # stable; a Checkpoint last
    return callbacks, (precisions[0] if precisions else MixedPrecision(device))


def step_unit(n_critic: int) -> str:
    """What one recorded step of ``train_gan`` is, for the plots' axes."""
    return "step (one D update)" if n_critic == 1 else f"step (one critic update; G every {n_critic})"


def train_epoch(run: TrainingRun, recorder: "_Recorder", bar) -> None:
    """One pass over the data: for each batch, D's step, then (every ``n_critic`` batches) G's step."""
    G, D, dev = run.generator, run.discriminator, run.device
    for batch in run.data:
        real, labels = split_batch(batch)
        real = real.to(dev, non_blocking=True)
        inputs = run.sampler(len(real), None if labels is None else labels.to(dev, non_blocking=True), dev)
        g_due = run.step % run.n_critic == 0
        # One batch of fakes serves both steps. When G steps this batch the fakes keep their
        # graph, so g_step's loss back-propagates through D into G; d_step detaches them.
        with torch.set_grad_enabled(g_due), run.precision.autocast():
            fake = G(*inputs.g_inputs)

        d_extra = None if run.d_extra_loss is None else _bind_extra(run.d_extra_loss, real, inputs)
        loss_d, real_out, fake_out = d_step(D, run.opt_d, run.loss.d_loss, real, fake, inputs.d_inputs,
                                            run.penalty, run.precision, d_extra)
        run.call("on_d_step_end")
        if g_due:
            extra = None if run.g_extra_loss is None else _bind_extra(run.g_extra_loss, real, inputs)
            run.last_loss_g = g_step(D, run.opt_g, run.loss.g_loss, fake, inputs.d_inputs, run.precision, extra)
            run.call("on_g_step_end")

        run.step += 1
        recorder.add(loss_d, run.last_loss_g, real_out, fake_out)
        bar.update(1)
        run.call("on_step_end")
        if run.stop and run.step % run.steps_per_epoch:
            return  # mid-epoch (a step cap): no checkpoint is written for a partial epoch


def _bind_extra(extra_loss, real, latents):
    """An extra loss term as a function of the fakes alone, for this batch."""
    return lambda fake: extra_loss(fake, real, latents)


class _Recorder:
    """Keeps each step's numbers on the device and copies them to the history in
    blocks (reading a number back from a GPU waits for it: once per step would be slow)."""

    def __init__(self, run: TrainingRun, checkpoint):
        self.run, self.checkpoint, self.pending = run, checkpoint, []

    def add(self, loss_d, loss_g, real_out, fake_out):
        """D's outputs are recorded as mean probabilities, or as mean raw scores for a critic."""
        to_score = torch.sigmoid if self.run.history.scores == "probability" else (lambda out: out)
        self.pending.append(torch.stack([loss_d, loss_g, to_score(real_out).mean(), to_score(fake_out).mean()]).float())
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
