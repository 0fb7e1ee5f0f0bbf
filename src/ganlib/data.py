"""Data: where it lives, MNIST through torchvision, toy distributions, and
device-resident batching.

Images are held as one normalized tensor on the training device and cut into
shuffled batches there, instead of going through a per-image Python loader:
for data the size of MNIST this is several times faster (see benchmarks/).
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from .profile import run_profile

DATA_ENV = "GANLIB_DATA"

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def data_root() -> Path:
    """The data folder: ``$GANLIB_DATA``, else a per-user cache folder."""
    env = os.environ.get(DATA_ENV)
    if env:
        root = Path(env).expanduser()
        if root.name == "raw" and root.parent.name == "MNIST":
            raise ValueError(f"{DATA_ENV}={env} names MNIST/raw itself; it must name the folder that holds "
                             f"MNIST/raw/: set {DATA_ENV}={root.parent.parent}")
        return root
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ganlib" / "data"


def read_idx(path: str | os.PathLike) -> torch.Tensor:
    """Read an IDX file (MNIST's format), gzipped or not, into a uint8 tensor."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, OSError, zlib.error) as err:  # truncated or corrupt gzip stream
        raise ValueError(f"{path} is damaged ({type(err).__name__}: {err}): delete it and download it "
                         f"again, or copy a good one into {path.parent}") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = math.prod(dims)
    if len(raw) - offset != expected:
        raise ValueError(f"{path} is truncated: {len(raw) - offset} bytes of data, expected {expected}")
    data = torch.frombuffer(bytearray(raw[offset:]), dtype=torch.uint8)
    return data.reshape(dims)


def _find_raw(raw_dir: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (raw_dir / name).is_file():
            return raw_dir / name
    return None


def _split_files(root: Path, split: str):
    raw_dir = root / "MNIST" / "raw"
    found = [_find_raw(raw_dir, stem) for stem in MNIST_FILES[split]]
    return found if all(found) else None


def _download(root: Path, split: str) -> None:
    import torchvision  # imported here: only a download needs it

    try:
        torchvision.datasets.MNIST(str(root), train=(split == "train"), download=True)
    except Exception as err:  # offline, blocked, or a mirror is down
        raise FileNotFoundError(
            f"MNIST's {split} split is not in {root / 'MNIST' / 'raw'} and could not be "
            f"downloaded ({type(err).__name__}: {err}). Connect to the internet, or set "
            f"{DATA_ENV} to a folder that holds MNIST/raw/ in torchvision's layout."
        ) from err


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """Map images from the model range [-1, 1] back to [0, 1] for display."""
    return (images.clamp(-1, 1) + 1) / 2


def split_batch(batch):
    """``images`` or ``(images, labels)`` -> (images, labels or None)."""
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


class TensorBatches:
    """Shuffled mini-batches cut from tensors already on the device.

    Iterating gives one epoch; every epoch draws a new permutation on the
    device, so no data leaves it. ``len()`` is the number of batches.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
                 drop_last: bool = True):
        if not tensors:
            raise ValueError("TensorBatches needs at least one tensor")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError("all tensors must have the same length (first dimension)")
        devices = {str(t.device) for t in tensors}
        if len(devices) > 1:
            raise ValueError(f"the tensors are on different devices ({', '.join(sorted(devices))}): "
                             "move them to one, e.g. TensorBatches(images.to(dev), labels.to(dev), ...)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if drop_last and batch_size > n:
            raise ValueError(
                f"batch_size={batch_size} is larger than the data ({n} items): "
                "use a smaller batch or more data"
            )
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __len__(self) -> int:
        n = len(self.tensors[0])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.tensors[0])
        dev = self.tensors[0].device
        order = torch.randperm(n, device=dev) if self.shuffle else torch.arange(n, device=dev)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            batch = tuple(t[idx] for t in self.tensors)
            yield batch if len(batch) > 1 else batch[0]


@dataclass
class ImageData:
    """A whole image data set as two tensors: images in [-1, 1] and labels."""

    images: torch.Tensor  # (N, C, H, W), float, [-1, 1]
    labels: torch.Tensor  # (N,), long
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.images)

    def batches(self, batch_size: int, *, shuffle: bool = True, with_labels: bool = True,
                drop_last: bool = True) -> TensorBatches:
        tensors = (self.images, self.labels) if with_labels else (self.images,)
        return TensorBatches(*tensors, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)

    def to(self, device) -> "ImageData":
        return ImageData(self.images.to(device), self.labels.to(device), self.name, self.split)

    def __repr__(self) -> str:
        c, h, w = self.images.shape[1:]
        return (f"{self.name} {self.split} split: {len(self)} images of {c}x{h}x{w} "
                f"on {self.images.device}")


def load_mnist(split: str = "train", *, root: str | os.PathLike | None = None,
               limit: int | None = None, device=None, allow_test_split: bool | None = None,
               verbose: bool = True) -> ImageData:
    """MNIST as one normalized tensor (N, 1, 28, 28) in [-1, 1], plus labels.

    Files already under ``root/MNIST/raw`` (``root`` defaults to
    :func:`data_root`) are read without touching the network; missing files
    are downloaded through torchvision. Where only the test split exists
    (offline machines), ``split="train"`` uses the test split instead if
    ``allow_test_split`` is true (default: only in the quick profile) and says so.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of images, got {limit}")
    root = Path(root).expanduser() if root is not None else data_root()
    if allow_test_split is None:
        allow_test_split = run_profile().quick

    used = split
    files = _split_files(root, split)
    if files is None and split == "train" and allow_test_split and _split_files(root, "test"):
        used = "test"
        files = _split_files(root, "test")
        if verbose:
            print(f"Note: MNIST's training split is not in {root / 'MNIST' / 'raw'}; "
                  "training on the 10,000-image test split instead.")
    if files is None:
        _download(root, split)
        files = _split_files(root, split)
        if files is None:
            raise FileNotFoundError(f"torchvision reported success but {split} files are missing "
                                    f"from {root / 'MNIST' / 'raw'}")

    images, labels = read_idx(files[0]), read_idx(files[1])
    if images.dim() == 1 and labels.dim() == 3:
        raise ValueError(f"{files[0]} holds labels and {files[1]} holds images: the two files are "
                         "swapped (or misnamed); rename them to MNIST's file names")
    if images.dim() != 3 or labels.dim() != 1:
        raise ValueError(f"{files[0]} must hold images (3 dimensions, got {images.dim()}) and {files[1]} "
                         f"labels (1 dimension, got {labels.dim()}): these are not MNIST's files")
    labels = labels.long()
    if len(images) != len(labels):
        raise ValueError(f"{files[0]} and {files[1]} disagree on the number of images")
    if len(labels) and labels.max() > 9:
        raise ValueError(f"{files[1]} holds labels up to {int(labels.max())}, but MNIST's labels are "
                         "the digits 0-9: the file is corrupt or not MNIST's")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    images = images.unsqueeze(1).float().div_(127.5).sub_(1.0)
    data = ImageData(images, labels, "MNIST", used)
    return data.to(device) if device is not None else data


# --- toy distributions -------------------------------------------------------

def ring_centers(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The centres of ``modes`` Gaussians evenly spaced on a circle, (modes, 2)."""
    angles = torch.arange(modes, dtype=torch.float32) * (2 * math.pi / modes)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points from an equal mixture of Gaussians on a ring, (n, 2)."""
    if n < 1 or modes < 1 or std <= 0:
        raise ValueError("need n >= 1, modes >= 1 and std > 0")
    centers = ring_centers(modes, radius)
    which = torch.randint(modes, (n,), generator=generator)
    return centers[which] + std * torch.randn(n, 2, generator=generator)


def gaussian_1d(n: int, mean: float = 0.0, std: float = 1.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` samples of N(mean, std^2) as an (n, 1) tensor."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    return mean + std * torch.randn(n, 1, generator=generator)
