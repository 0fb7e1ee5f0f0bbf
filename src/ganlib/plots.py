"""Pictures of GAN training: image grids, loss and score curves, snapshot strips."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from .data import to_unit_range


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one (H', W') or (H', W', 3) array in [0, 1]."""
    if images.dim() != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(images.shape)}")
    images = to_unit_range(images.detach().float().cpu())
    n, c, h, w = images.shape
    ncol = min(nrow, n)
    nrows = math.ceil(n / ncol)
    grid = torch.ones(c, nrows * (h + padding) + padding, ncol * (w + padding) + padding)
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = images[i]
    grid = grid.permute(1, 2, 0).numpy()
    return grid[..., 0] if c == 1 else grid


def show_images(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax=None):
    """Show a batch of images in [-1, 1] as one grid."""
    if ax is None:
        _, ax = plt.subplots(figsize=(min(8, 1.0 * nrow), min(8, 1.0 * math.ceil(len(images) / nrow))))
    ax.imshow(image_grid(images, nrow), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def _smooth(values, k: int | None):
    values = np.asarray(values, dtype=float)
    if not k or k <= 1 or len(values) < k:
        return np.arange(len(values)), values
    kernel = np.ones(k) / k
    return np.arange(k - 1, len(values)), np.convolve(values, kernel, mode="valid")


def plot_history(history, smooth: int | None = None, title: str | None = None):
    """Two panels: the losses, and D(x) / D(G(z)) over training steps."""
    rec = history.records
    if not rec["step"]:
        raise ValueError("the history is empty: train for at least one step first")
    smooth = smooth if smooth is not None else max(1, len(rec["step"]) // 50)
    steps = np.asarray(rec["step"])
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(11, 3.5))
    for key, color in (("loss_D", "tab:blue"), ("loss_G", "tab:orange")):
        x, y = _smooth(rec[key], smooth)
        ax_loss.plot(steps[x], y, label=key, color=color)
    unit = getattr(history, "step_unit", "step")
    ax_loss.set(xlabel=unit, ylabel="loss", title="Losses")
    ax_loss.legend()
    for key, color in (("D(x)", "tab:green"), ("D(G(z))", "tab:red")):
        x, y = _smooth(rec[key], smooth)
        ax_score.plot(steps[x], y, label=key, color=color)
    if history.scores == "probability":
        ax_score.axhline(0.5, color="gray", ls="--", lw=1, label="1/2 (equilibrium)")
        ax_score.set_ylim(-0.02, 1.02)
        ax_score.set(ylabel="mean probability", title="What D says about real and fake")
    else:
        ax_score.set(ylabel="mean critic score", title="Critic scores of real and fake")
    ax_score.set_xlabel(unit)
    ax_score.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_snapshots(history, n_images: int = 16, max_snapshots: int = 8, title: str | None = None):
    """A strip of the fixed-noise samples over training, left (start) to right (end).

    Image snapshots show the first ``n_images`` as a grid; 2-D point snapshots
    are drawn as scatter plots.
    """
    snaps = history.snapshots
    if not snaps:
        raise ValueError("the history has no snapshots")
    if len(snaps) > max_snapshots:
        keep = np.linspace(0, len(snaps) - 1, max_snapshots).round().astype(int)
        snaps = [snaps[i] for i in keep]
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.2 * len(snaps), 2.4), squeeze=False)
    for ax, (step, sample) in zip(axes[0], snaps):
        if sample.dim() == 4:
            ax.imshow(image_grid(sample[:n_images], nrow=int(math.sqrt(n_images))),
                      cmap="gray", vmin=0, vmax=1)
            ax.set_axis_off()
        else:
            pts = sample.numpy()
            ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.6)
            ax.set_aspect("equal")
            ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"step {step}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
