"""The two updates every GAN alternates (d2l's ``update_D`` / ``update_G``), and mixed precision.

Read :func:`d_step` and :func:`g_step` first: each is a few lines. :class:`MixedPrecision`
is what lets the same lines train in float16 on a GPU.
"""
from __future__ import annotations

import contextlib

import torch


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
           precision: MixedPrecision = FULL_PRECISION, extra_loss=None):
    """Update D once: raise its scores on real images, lower them on generated ones.

    Returns (loss, D's outputs on the real batch, D's outputs on the fakes), detached.
    ``extra_loss(fake)``, when given, is added to D's loss (InfoGAN's information term,
    whose Q head is a part of D).
    """
    fake = fake.detach()  # this step must not change G
    with precision.autocast():
        real_out = discriminator(real, *d_inputs).float()
        fake_out = discriminator(fake, *d_inputs).float()
        extra = None if extra_loss is None else _scalar(extra_loss(fake).float(), "d_extra_loss")
    loss = _scalar(d_loss(real_out, fake_out), "d_loss")
    if extra is not None:
        loss = loss + extra
    if penalty is not None:  # a gradient penalty sees D with its extra inputs bound
        loss = loss + penalty(lambda x: discriminator(x, *d_inputs).float(), real.float(), fake.float())
    precision.backward_and_step(loss, opt_d, "D")
    return loss.detach(), real_out.detach(), fake_out.detach()


def g_step(discriminator, opt_g, g_loss, fake, d_inputs=(), precision: MixedPrecision = FULL_PRECISION,
           extra_loss=None):
    """Update G once: make the just-updated D call its fakes real. Returns the loss, detached.

    How the gradient reaches G: ``fake`` was made by G with gradients on (the loop builds
    the fakes with grad enabled whenever a G step is due), so ``fake`` still remembers the
    graph that produced it. The loss flows back through D, whose weights are frozen here,
    into ``fake`` and on into G's weights; only G's optimizer steps.

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
