"""What a training run records: one row per step, and snapshots from fixed inputs."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..latent import Latents

RECORD_KEYS = ("step", "epoch", "loss_D", "loss_G", "D(x)", "D(G(z))")


@dataclass
class History:
    """What happened during training, one record per step.

    ``records[key]`` is a list over steps for every key in ``RECORD_KEYS``.
    ``D(x)`` and ``D(G(z))`` are mean probabilities for classic GANs, or mean
    raw critic scores when ``scores == "raw"`` (Wasserstein critics): the
    ``scores`` of the run's :class:`~ganlib.losses.GANLoss`.
    ``snapshots`` holds (step, images) generated from the same fixed latents.
    ``step_unit`` says what one step is, for the plots' axes: for ``train_gan`` one D update
    (a G update every ``n_critic`` of them); for the Keras ``GAN`` one batch, which holds all
    ``n_critic`` critic updates and the generator update.
    """

    records: dict = field(default_factory=lambda: {k: [] for k in RECORD_KEYS})
    snapshots: list = field(default_factory=list)
    scores: str = "probability"
    steps_per_epoch: int = 0
    step_unit: str = "step"

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
        from ..plots import plot_history

        return plot_history(self, smooth=smooth, title=title)

    def state_dict(self) -> dict:
        return {"records": self.records, "snapshots": self.snapshots, "scores": self.scores,
                "steps_per_epoch": self.steps_per_epoch, "step_unit": self.step_unit}

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(records={k: list(v) for k, v in state["records"].items()},
                   snapshots=[(int(s), img) for s, img in state["snapshots"]],
                   scores=state["scores"], steps_per_epoch=int(state["steps_per_epoch"]),
                   step_unit=state.get("step_unit", "step"))


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
