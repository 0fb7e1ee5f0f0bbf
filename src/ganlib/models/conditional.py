"""The conditional GAN of chapter 6 (Mirza & Osindero, 2014): G(z, y) and D(x, y).

The class label ``y`` enters both networks at their input. ``label_mode``
chooses how it is turned into numbers:

- ``"embedding"``: a learned table ``nn.Embedding(n_classes, embed_dim)``; row
  ``y`` is the label's vector (the default, and what most code does).
- ``"onehot"``: the fixed one-hot vector of length ``n_classes`` (the original
  paper's choice; the same as an embedding whose table is the identity).

The discriminator also offers ``"projection"`` (Miyato & Koyama, 2018): the
image alone goes through the network to features ``h``, and the label enters
only at the end, as the inner product ``<embed(y), h>`` added to the logit.

Both networks are MLPs: on MNIST they learn to respect the label in a few
epochs, and they train fast enough on a CPU to ship a trained generator.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..inputs import check_values
from ..latent import balanced_labels  # noqa: F401  (one home; chapter 6 imports it from here)

LABEL_MODES = ("embedding", "onehot")


def check_labels(labels, n_classes: int, batch: int | None = None, values: bool = True) -> torch.Tensor:
    """Return ``labels`` if they are integer class ids in 0..n_classes-1 of shape (N,), else
    raise an error that says how to fix them.

    ``values=False`` checks the type and shape only. The range check reads the smallest and
    largest id (a GPU waits for that), so it is skipped inside ``train_gan``'s loop, which
    checked the data's labels once before the first step (:mod:`ganlib.inputs`).
    """
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch tensor of class ids, got {type(labels).__name__}: "
                        "use torch.tensor([...]) or torch.full((n,), digit)")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be integer class ids (torch.long), got dtype {labels.dtype}: "
                        "use labels.long(), not one-hot or float vectors")
    if labels.dim() != 1:
        raise ValueError(f"labels must have shape (N,), got {tuple(labels.shape)}: "
                         "pass class ids, not one-hot rows (use labels.argmax(1) to convert)")
    if batch is not None and len(labels) != batch:
        raise ValueError(f"got {len(labels)} labels for a batch of {batch}: "
                         "give one label per noise vector / image")
    if values and check_values() and len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    return labels


def one_hot(labels: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """(N,) class ids -> (N, n_classes) float one-hot rows."""
    return F.one_hot(check_labels(labels, n_classes), n_classes).float()


class LabelCode(nn.Module):
    """Turn class ids into vectors: a learned embedding or the fixed one-hot code."""

    def __init__(self, n_classes: int = 10, mode: str = "embedding", embed_dim: int | None = None):
        super().__init__()
        if mode not in LABEL_MODES:
            raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {mode!r}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes}")
        self.n_classes, self.mode = n_classes, mode
        self.dim = n_classes if mode == "onehot" else (embed_dim or n_classes)
        self.embedding = nn.Embedding(n_classes, self.dim) if mode == "embedding" else None

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        check_labels(labels, self.n_classes, values=False)  # the network that owns this checked them
        if self.embedding is None:
            return F.one_hot(labels, self.n_classes).float()
        return self.embedding(labels)


class ConditionalGenerator(nn.Module):
    """(z, y) -> image in [-1, 1]: the label's code is concatenated to the noise.

    Defaults: 100-d noise + 10-d label embedding -> 256 -> 512 -> 1024 -> 784.
    """

    conditional = True  # G(z, y): ganlib.train_gan draws labels for it (LabelledNoise)

    def __init__(self, latent_dim: int = 100, n_classes: int = 10, label_mode: str = "embedding",
                 embed_dim: int | None = None, hidden=(256, 512, 1024), out_shape=(1, 28, 28)):
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.out_shape = tuple(out_shape)
        self.label_code = LabelCode(n_classes, label_mode, embed_dim)
        layers, width = [], latent_dim + self.label_code.dim
        for h in hidden:
            # BatchNorm keeps each layer's activations centred while G chases a moving D.
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.LeakyReLU(0.2)]
            width = h
        layers += [nn.Linear(width, math.prod(self.out_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"noise must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        check_labels(labels, self.n_classes, batch=len(z))
        h = torch.cat([z, self.label_code(labels).to(z.dtype)], dim=1)
        return self.net(h).view(len(z), *self.out_shape)


class ConditionalDiscriminator(nn.Module):
    """(x, y) -> one logit: is x a real image *of class y*?

    ``label_mode``: "embedding" or "onehot" concatenate the label's code to the
    flattened image at the input; "projection" adds ``<embed(y), h(x)>`` to the
    logit instead (the projection discriminator).
    """

    conditional = True  # D(x, y)

    def __init__(self, n_classes: int = 10, label_mode: str = "embedding",
                 embed_dim: int | None = None, hidden=(512, 256), in_shape=(1, 28, 28),
                 dropout: float = 0.3):
        super().__init__()
        if label_mode not in LABEL_MODES + ("projection",):
            raise ValueError(f"label_mode must be one of {LABEL_MODES + ('projection',)}, "
                             f"got {label_mode!r}")
        self.n_classes, self.label_mode = n_classes, label_mode
        self.in_shape = tuple(in_shape)
        pixels = math.prod(self.in_shape)
        if label_mode == "projection":
            self.label_code = None
            width = pixels
        else:
            self.label_code = LabelCode(n_classes, label_mode, embed_dim)
            width = pixels + self.label_code.dim
        layers = []
        for h in hidden:
            # Dropout keeps D from memorising a small training set too fast.
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)
        # Projection: one vector per class, dotted with the features.
        self.class_vectors = nn.Embedding(n_classes, width) if label_mode == "projection" else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if x.shape[1:] != self.in_shape:
            raise ValueError(f"images must have shape (N, {', '.join(map(str, self.in_shape))}), "
                             f"got {tuple(x.shape)}")
        check_labels(labels, self.n_classes, batch=len(x))
        flat = x.flatten(1)
        if self.class_vectors is None:
            h = self.features(torch.cat([flat, self.label_code(labels).to(flat.dtype)], dim=1))
            return self.head(h).squeeze(1)
        h = self.features(flat)
        return self.head(h).squeeze(1) + (self.class_vectors(labels).to(h.dtype) * h).sum(1)


def digit_grid_inputs(n_styles: int, latent_dim: int = 100, n_classes: int = 10, seed: int = 0,
                      device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs for a class-by-style grid: row ``c`` is class ``c``, column ``j`` reuses
    noise vector ``j`` in every row. Returns (z, labels), ``n_classes * n_styles`` of each."""
    if n_styles < 1:
        raise ValueError(f"n_styles must be at least 1, got {n_styles}")
    gen = torch.Generator().manual_seed(seed)
    styles = torch.randn(n_styles, latent_dim, generator=gen)
    z = styles.repeat(n_classes, 1)  # row-major: class 0's n_styles images, then class 1's, ...
    labels = torch.arange(n_classes).repeat_interleave(n_styles)
    if device is not None:
        z, labels = z.to(device), labels.to(device)
    return z, labels
