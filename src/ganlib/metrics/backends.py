"""Which network computes the Inception-based scores: torchmetrics or torchvision.

Published FID, KID and IS numbers use the TensorFlow Inception graph of
Heusel et al., ported to PyTorch as ``pt_inception-2015-12-05`` by
torch-fidelity, which torchmetrics loads. ``inception_fid``, ``inception_kid``
and ``inception_score`` take a ``backend``:

* ``"torchmetrics"`` -- torchmetrics' ``FrechetInceptionDistance``,
  ``KernelInceptionDistance`` and ``InceptionScore`` with that network and
  torchmetrics' documented preprocessing (images as uint8 in [0, 255], three
  channels, resized to 299x299 by the network, bilinear with antialiasing).
  These numbers are comparable with papers. Needs the optional extra
  ``pip install "ganlib[metrics]"`` (torchmetrics[image]) and a one-time
  download of the weights (Colab: automatic).
* ``"torchvision"`` -- ganlib's own formulas on torchvision's ImageNet
  Inception-v3 (:func:`ganlib.metrics.inception_features`). Close to, not
  equal to, published numbers.
* ``None`` (default) -- torchmetrics where the package and its weights are
  available, otherwise torchvision.

Offline, neither network can be downloaded: use the MNIST-classifier scores
(``classifier_fid``, ``classifier_kid``, ``classifier_inception_score``),
which need no download and remain the book's default. ganlib's own FID / KID
/ IS formulas equal torchmetrics' to round-off on the same features
(``tests/test_metrics_peers.py``); only the feature extractor differs.
"""
from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import torch

from .features import OFFLINE_ALTERNATIVE, InceptionUnavailableError, check_subset_size, validated_images
from .score import Score

BACKENDS = ("torchmetrics", "torchvision")
WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's file name in torch.hub's cache

_NETWORKS: dict = {}  # (feature, device) -> the loaded network, or the error that stopped it


def torchmetrics_installed() -> bool:
    """Whether torchmetrics and torch-fidelity (its Inception) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("torchmetrics", "torch_fidelity"))


def weights_cache_path() -> Path:
    """Where torch-fidelity keeps (or would download) the TF-ported Inception weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def _not_installed_error() -> InceptionUnavailableError:
    return InceptionUnavailableError(
        "backend='torchmetrics' needs the optional package torchmetrics[image], which is not installed. "
        "Install it with: pip install \"ganlib[metrics]\" (or pip install \"torchmetrics[image]\"). "
        "Or pass backend='torchvision' for ganlib's own scores on torchvision's Inception (close to, "
        "not equal to, published numbers). " + OFFLINE_ALTERNATIVE)


def load_torchmetrics_inception(feature: str = "2048", device=None) -> torch.nn.Module:
    """torchmetrics' Inception-v3 (the TF-ported weights of published FIDs), or a clear error.

    ``feature``: ``"2048"`` (pool features, for FID and KID) or ``"logits_unbiased"``
    (for the Inception Score), as torchmetrics names them. The network takes uint8
    images (N, 3, H, W) in [0, 255].
    """
    key = (feature, str(device))
    if key in _NETWORKS:
        if isinstance(_NETWORKS[key], Exception):
            raise _NETWORKS[key]
        return _NETWORKS[key]
    if not torchmetrics_installed():
        raise _not_installed_error()
    from torchmetrics.image.fid import NoTrainInceptionV3

    try:
        network = NoTrainInceptionV3(name="inception-v3-compat", features_list=[feature])
    except Exception as err:  # offline, blocked, or a broken cache
        error = InceptionUnavailableError(
            f"torchmetrics could not load the TF-ported Inception-v3 weights (pt_inception-2015-12-05) "
            f"that published FIDs use ({type(err).__name__}: {err}). torch-fidelity downloads them once "
            f"from GitHub into torch.hub's cache ({weights_cache_path()}); that needs the internet "
            "(Colab has it). Without it, copy that file there from a machine that has it. " + OFFLINE_ALTERNATIVE)
        _NETWORKS[key] = error
        raise error from err
    network.eval()
    if device is not None:
        network = network.to(device)
    _NETWORKS[key] = network
    return network


def torchmetrics_available() -> bool:
    """True where torchmetrics is installed and its Inception weights load (cached or downloaded)."""
    if not torchmetrics_installed():
        return False
    try:
        load_torchmetrics_inception("2048")
    except InceptionUnavailableError:
        return False
    return True


def resolve_backend(backend: str | None) -> str:
    """``"torchmetrics"`` or ``"torchvision"``; None picks torchmetrics where it is available."""
    if backend is None:
        return "torchmetrics" if torchmetrics_available() else "torchvision"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None (automatic), got {backend!r}")
    return backend


def as_uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images (N, C, H, W), 1 or 3 channels -> uint8 (N, 3, H, W) in [0, 255].

    The conversion torchmetrics applies with ``normalize=True`` ((x * 255).byte()
    of images in [0, 1]); the network then resizes to 299x299 itself.
    """
    images = validated_images(images)
    if images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {images.shape[1]}")
    if images.is_floating_point():
        low, high = float(images.min()), float(images.max())
        if low < -1.001 or high > 1.001:
            raise ValueError(f"images must lie in [-1, 1] (ganlib's convention), got [{low:.3g}, {high:.3g}]: "
                             "rescale with images / 127.5 - 1 for [0, 255] data")
    x = ((images.float().clamp(-1, 1) + 1) / 2 * 255).byte()
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


class _Extractor(torch.nn.Module):
    """The network, with the ``num_features`` torchmetrics asks a custom extractor for."""

    def __init__(self, network: torch.nn.Module, num_features: int):
        super().__init__()
        self.network, self.num_features = network, num_features

    def forward(self, x):
        return self.network(x)


def _device(device):
    if device is not None:
        return torch.device(device)
    from ..utils import device as best_device

    return torch.device(best_device())


def _metric(kind: str, feature: str, device, **kwargs):
    if not torchmetrics_installed():
        raise _not_installed_error()
    import torchmetrics.image as tm

    network = load_torchmetrics_inception(feature, device)
    with warnings.catch_warnings():  # "will save all extracted features in buffer": expected
        warnings.simplefilter("ignore", UserWarning)
        if kind == "fid":
            size = getattr(network, "num_features", None) or int(feature)
            metric = tm.FrechetInceptionDistance(feature=_Extractor(network, size), **kwargs)
        elif kind == "kid":
            metric = tm.KernelInceptionDistance(feature=network, **kwargs)
        else:
            metric = tm.InceptionScore(feature=network, **kwargs)
    return metric.to(device)


@torch.no_grad()
def _update(metric, images, batch_size: int, device, **kwargs) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    x = as_uint8_rgb(images)
    for start in range(0, len(x), batch_size):
        metric.update(x[start:start + batch_size].to(device), **kwargs)


def torchmetrics_fid(real_images, fake_images, batch_size: int = 100, device=None) -> float:
    """torchmetrics' FID on TF-ported Inception features of [-1, 1] images."""
    device = _device(device)
    metric = _metric("fid", "2048", device)
    _update(metric, real_images, batch_size, device, real=True)
    _update(metric, fake_images, batch_size, device, real=False)
    return float(metric.compute())


def torchmetrics_kid(real_images, fake_images, subsets: int = 50, subset_size: int = 1000, seed: int = 0,
                     batch_size: int = 100, device=None) -> Score:
    """torchmetrics' KID; its std (ddof=0) converted to ganlib's sample std (ddof=1)."""
    check_subset_size(subset_size, len(real_images), len(fake_images))
    device = _device(device)
    metric = _metric("kid", "2048", device, subsets=subsets, subset_size=subset_size)
    _update(metric, real_images, batch_size, device, real=True)
    _update(metric, fake_images, batch_size, device, real=False)
    with torch.random.fork_rng(devices=[]):  # torchmetrics draws its subsets from the global CPU RNG
        torch.default_generator.manual_seed(seed)  # only what is forked (torch.manual_seed seeds CUDA too)
        mean, std = metric.compute()
    return Score(float(mean), float(std) * math.sqrt(subsets / (subsets - 1)) if subsets > 1 else 0.0)


def torchmetrics_inception_score(images, splits: int = 10, seed: int = 0, batch_size: int = 100,
                                 device=None) -> Score:
    """torchmetrics' Inception Score (it shuffles, then splits; std with ddof=1)."""
    device = _device(device)
    metric = _metric("is", "logits_unbiased", device, splits=splits)
    _update(metric, images, batch_size, device)
    with torch.random.fork_rng(devices=[]):  # torchmetrics shuffles with the global CPU RNG
        torch.default_generator.manual_seed(seed)  # only what is forked (torch.manual_seed seeds CUDA too)
        mean, std = metric.compute()
    return Score(float(mean), float(std))
