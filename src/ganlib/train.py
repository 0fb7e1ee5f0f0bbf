"""The alternating GAN training loop, its history, snapshots and checkpoints.

``train_gan`` is deliberately one plain loop (read it with
``ganlib.show_source(ganlib.train_gan)``): a discriminator step on real and
generated images, then every ``n_critic`` steps a generator step. Losses,
optimizers and penalties come in as arguments, so the same loop trains the
minimax GAN, the non-saturating GAN, WGAN and WGAN-GP.
"""
from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .losses import d_loss_minimax, g_loss_nonsaturating

RECORD_KEYS = ("step", "epoch", "loss_D", "loss_G", "D(x)", "D(G(z))")


@dataclass
class History:
    """What happened during training, one record per step.

    ``records[key]`` is a list over steps for every key in ``RECORD_KEYS``.
    ``D(x)`` and ``D(G(z))`` are mean probabilities for classic GANs, or mean
    raw critic scores when ``scores == "raw"`` (Wasserstein critics).
    ``snapshots`` holds (step, images) generated from the same fixed noise.
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

    def plot(self, smooth: int | None = None):
        """Loss curves and D(x) / D(G(z)) curves side by side."""
        from .plots import plot_history

        return plot_history(self, smooth=smooth)

    def state_dict(self) -> dict:
        return {"records": self.records, "snapshots": self.snapshots, "scores": self.scores,
                "steps_per_epoch": self.steps_per_epoch}

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(records={k: list(v) for k, v in state["records"].items()},
                   snapshots=[(int(s), img) for s, img in state["snapshots"]],
                   scores=state["scores"], steps_per_epoch=int(state["steps_per_epoch"]))


def fixed_noise(n: int, latent_dim: int, seed: int = 0, device=None) -> torch.Tensor:
    """The same ``n`` latent vectors every time (for comparable snapshots)."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, latent_dim, generator=gen)
    return z.to(device) if device is not None else z


@torch.no_grad()
def generate(generator: torch.nn.Module, noise: torch.Tensor, labels: torch.Tensor | None = None
             ) -> torch.Tensor:
    """Run the generator in eval mode on ``noise`` (and ``labels``); result on the CPU."""
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    args = (noise.to(dev),) if labels is None else (noise.to(dev), labels.to(dev))
    out = generator(*args).float().cpu()
    generator.train(was_training)
    return out


@contextlib.contextmanager
def frozen(params):
    """Temporarily stop gradients into ``params`` (restored even on errors)."""
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _unpack(batch, conditional: bool):
    if isinstance(batch, (tuple, list)):
        real = batch[0]
        labels = batch[1] if len(batch) > 1 else None
    else:
        real, labels = batch, None
    if conditional and labels is None:
        raise ValueError("conditional=True needs batches of (images, labels): "
                         "use data.batches(..., with_labels=True)")
    return real, (labels if conditional else None)


def save_checkpoint(path, *, generator, discriminator, opt_g, opt_d, history: History,
                    epoch: int, step: int) -> None:
    """Everything needed to resume: weights, optimizer states, history, position."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                "history": history.state_dict(), "epoch": epoch, "step": step}, tmp)
    os.replace(tmp, path)  # a disconnect mid-save never leaves a broken checkpoint


def load_checkpoint(path, *, generator, discriminator, opt_g, opt_d):
    """Restore a checkpoint written by :func:`save_checkpoint`; returns (history, epoch, step)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    generator.load_state_dict(state["generator"])
    discriminator.load_state_dict(state["discriminator"])
    opt_g.load_state_dict(state["opt_g"])
    opt_d.load_state_dict(state["opt_d"])
    return History.from_state_dict(state["history"]), int(state["epoch"]), int(state["step"])


def train_gan(generator: torch.nn.Module, discriminator: torch.nn.Module, data, *,
              epochs: int, d_loss=d_loss_minimax, g_loss=g_loss_nonsaturating,
              opt_g: torch.optim.Optimizer | None = None,
              opt_d: torch.optim.Optimizer | None = None,
              n_critic: int = 1, penalty=None, after_d_step=None, conditional: bool = False,
              latent_dim: int | None = None, noise: torch.Tensor | None = None,
              noise_labels: torch.Tensor | None = None, snapshot_every: int | None = None,
              scores: str = "probability", checkpoint: str | os.PathLike | None = None,
              resume: bool = True, amp: bool | None = None, device=None,
              progress: bool = True, log_every: int | None = None,
              desc: str = "training") -> History:
    """Train a GAN by alternating discriminator and generator steps.

    data:         iterable of batches (``images`` or ``(images, labels)``) with ``len()``,
                  e.g. ``ImageData.batches(64)`` or ``TensorBatches``.
    d_loss:       ``d_loss(real_out, fake_out) -> loss`` for the discriminator/critic.
    g_loss:       ``g_loss(fake_out) -> loss`` for the generator.
    opt_g/opt_d:  optimizers (default Adam, lr 2e-4, betas (0.5, 0.999)).
    n_critic:     discriminator steps per generator step.
    penalty:      ``penalty(critic_fn, real, fake) -> loss`` added to the discriminator
                  loss (gradient penalties); ``critic_fn(x)`` already carries labels.
    after_d_step: ``after_d_step(discriminator)`` after each D step (weight clipping).
    conditional:  pass labels to both networks: ``G(z, y)``, ``D(x, y)``.
    noise:        fixed latent vectors for snapshots (``noise_labels`` when conditional).
    scores:       "probability" (record sigmoid of D's logits) or "raw" (critic scores).
    checkpoint:   file saved after every epoch; with ``resume`` an existing one is
                  loaded first, so a disconnected Colab run continues where it stopped.
    amp:          mixed precision (default: on for CUDA).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if n_critic < 1:
        raise ValueError(f"n_critic must be at least 1, got {n_critic}")
    if scores not in ("probability", "raw"):
        raise ValueError("scores must be 'probability' or 'raw'")
    steps_per_epoch = len(data)
    if steps_per_epoch < 1:
        raise ValueError("the data gives no batch: use a smaller batch size or more data")
    dev = torch.device(device) if device is not None else next(generator.parameters()).device
    generator.to(dev).train()
    discriminator.to(dev).train()
    latent_dim = latent_dim or getattr(generator, "latent_dim", None)
    if latent_dim is None:
        raise ValueError("pass latent_dim=..., or give the generator a .latent_dim attribute")
    if opt_g is None:
        opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    if opt_d is None:
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    use_amp = (dev.type == "cuda") if amp is None else bool(amp and dev.type == "cuda")
    scaler_d = torch.amp.GradScaler("cuda", enabled=use_amp)
    scaler_g = torch.amp.GradScaler("cuda", enabled=use_amp)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.float16)) if use_amp \
        else contextlib.nullcontext
    if noise is None:
        noise = fixed_noise(64, latent_dim)
    if conditional:
        _unpack(next(iter(data)), conditional=True)  # fail early on label-less data
    if conditional and noise_labels is None:
        noise_labels = torch.arange(len(noise)) % 10
    snapshot_every = snapshot_every or max(1, epochs // 8)
    log_every = log_every or max(1, min(50, steps_per_epoch // 4))

    history, start_epoch, step = History(scores=scores, steps_per_epoch=steps_per_epoch), 0, 0
    if checkpoint is not None and resume and Path(checkpoint).exists():
        history, start_epoch, step = load_checkpoint(
            checkpoint, generator=generator, discriminator=discriminator, opt_g=opt_g, opt_d=opt_d)
        print(f"Resumed from {checkpoint}: {start_epoch} of {epochs} epochs done.")
    if not history.snapshots:
        history.snapshots.append((0, generate(generator, noise, noise_labels)))

    def to_score(out):
        return torch.sigmoid(out).mean() if scores == "probability" else out.mean()

    pending = []  # per-step stats kept on the device; read back every log_every steps

    def flush(epoch: int, bar):
        rows = torch.stack(pending).float().cpu()
        first = step - len(pending) + 1
        bad = ~torch.isfinite(rows[:, :2]).all(dim=1)
        if bad.any():
            i = int(bad.nonzero()[0])
            which = "discriminator" if not math.isfinite(rows[i, 0]) else "generator"
            hint = f" Resume from the last checkpoint ({checkpoint})." if checkpoint else ""
            raise FloatingPointError(
                f"The {which} loss became {float(rows[i, 0 if which[0] == 'd' else 1])} at step "
                f"{first + i} (epoch {epoch + 1}). Training diverged: lower the learning rate, "
                f"check the losses' signs, or add a gradient penalty.{hint}")
        for i, (ld, lg, dx, dgz) in enumerate(rows.tolist()):
            for key, value in zip(RECORD_KEYS, (first + i, epoch + 1, ld, lg, dx, dgz)):
                history.records[key].append(value)
        pending.clear()
        if bar is not None:
            bar.set_postfix({"loss_D": f"{history.last('loss_D'):.3f}",
                             "loss_G": f"{history.last('loss_G'):.3f}",
                             "D(x)": f"{history.last('D(x)'):.2f}",
                             "D(G(z))": f"{history.last('D(G(z))'):.2f}"}, refresh=False)

    bar = tqdm(total=epochs * steps_per_epoch, initial=step, desc=desc, disable=not progress,
               unit="step")
    d_trainable = [p for p in discriminator.parameters() if p.requires_grad]
    loss_g = None
    for epoch in range(start_epoch, epochs):
        for batch in data:
            real, labels = _unpack(batch, conditional)
            real = real.to(dev, non_blocking=True)
            cond = () if labels is None else (labels.to(dev, non_blocking=True),)
            z = torch.randn(len(real), latent_dim, device=dev)

            # Discriminator step: raise D on real images, lower it on generated ones.
            with autocast():
                fake = generator(z, *cond)
                real_out = discriminator(real, *cond).float()
                fake_out = discriminator(fake.detach(), *cond).float()
            loss_d = d_loss(real_out, fake_out)
            if penalty is not None:
                loss_d = loss_d + penalty(lambda x: discriminator(x, *cond).float(),
                                          real.float(), fake.detach().float())
            opt_d.zero_grad(set_to_none=True)
            scaler_d.scale(loss_d).backward()
            scaler_d.step(opt_d)
            scaler_d.update()
            if after_d_step is not None:
                after_d_step(discriminator)

            # Generator step (every n_critic steps): make D call the same fakes real.
            if step % n_critic == 0 or loss_g is None:
                # D's weights get no gradient here (only G is stepped), which saves
                # a third of D's backward pass; the gradient still flows through D to G.
                with frozen(d_trainable), autocast():
                    loss_g = g_loss(discriminator(fake, *cond).float())
                    opt_g.zero_grad(set_to_none=True)
                    scaler_g.scale(loss_g).backward()
                scaler_g.step(opt_g)
                scaler_g.update()

            pending.append(torch.stack([loss_d.detach(), loss_g.detach(),
                                        to_score(real_out.detach()), to_score(fake_out.detach())]))
            step += 1
            bar.update(1)
            if len(pending) >= log_every:
                flush(epoch, bar)
        if pending:
            flush(epoch, bar)
        if (epoch + 1) % snapshot_every == 0 or epoch + 1 == epochs:
            history.snapshots.append((step, generate(generator, noise, noise_labels)))
        if checkpoint is not None:
            save_checkpoint(checkpoint, generator=generator, discriminator=discriminator,
                            opt_g=opt_g, opt_d=opt_d, history=history, epoch=epoch + 1, step=step)
    bar.close()
    return history
