"""Feature extractors for the sample-quality metrics.

Every distribution metric (FID, KID, precision/recall) compares two clouds of
*feature vectors*, not pixels. Which network makes the features changes the
numbers, so the two extractors here have different names:

* :func:`classifier_features` -- the penultimate layer of ganlib's small MNIST
  classifier (``ganlib.classifier``). Works offline, fast on a CPU; the scores
  it gives are "MNIST-classifier" scores, comparable only with each other.
* :func:`inception_features` -- the 2048-d pool layer of torchvision's
  ImageNet Inception-v3, the network behind published FID/IS numbers. Its
  weights are downloaded on first use (Colab); offline it raises
  :class:`InceptionUnavailableError` naming the classifier alternative.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

OFFLINE_ALTERNATIVE = (
    "Offline, use the MNIST-classifier versions instead: ganlib.metrics.classifier_features, "
    "classifier_fid, classifier_kid and classifier_inception_score (same formulas in the "
    "feature space of ganlib's MNIST classifier; NOT comparable with Inception numbers)."
)


class InceptionUnavailableError(RuntimeError):
    """Inception-v3's ImageNet weights could not be loaded (usually: no internet)."""


def validated_images(images: torch.Tensor, what: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape (N, C, H, W), got {type(images).__name__}")
    if images.dim() == 3:  # (N, H, W): one channel
        images = images.unsqueeze(1)
    if images.dim() != 4:
        raise ValueError(f"{what} must have shape (N, C, H, W) (or (N, H, W)), got {tuple(images.shape)}")
    if len(images) == 0:
        raise ValueError(f"{what} is empty: pass at least one image")
    return images


@torch.no_grad()
def validated_features(features, what: str = "features", min_samples: int = 2) -> torch.Tensor:
    """``features`` (N, d) as a float64 CPU tensor, or an error naming what is wrong: the one
    check every feature-space score (FID, KID, precision and recall) runs."""
    if isinstance(features, np.ndarray):
        features = torch.from_numpy(features)
    x = torch.as_tensor(features).detach().cpu().double()
    if x.dim() != 2:
        raise ValueError(f"{what} must be a 2-D array (samples, features), got shape {tuple(x.shape)}")
    if len(x) < min_samples:
        raise ValueError(f"{what} needs at least {min_samples} samples, got {len(x)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or infinite values: check the images and the feature extractor")
    return x


def validated_feature_pair(real_features, fake_features, min_samples: int = 2):
    """Both clouds validated, and of the same feature size."""
    real = validated_features(real_features, "real_features", min_samples)
    fake = validated_features(fake_features, "fake_features", min_samples)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} (real) vs {fake.shape[1]} (fake); "
                         "extract both with the same network")
    return real, fake


def check_subset_size(subset_size: int, n_real: int, n_fake: int) -> None:
    """KID's subsets must be smaller than both samples (and hold at least 2 points)."""
    smallest = min(n_real, n_fake)
    if not 2 <= subset_size < smallest:
        raise ValueError(
            f"KID: subset_size={subset_size} must be at least 2 and smaller than the number of samples "
            f"({n_real} real, {n_fake} generated). With subset_size >= the sample count every subset "
            f"holds the same points and the std says nothing. Pass more samples or a smaller "
            f"subset_size, e.g. subset_size={max(2, smallest // 2)}.")


def validated_probabilities(probs, what: str = "probs") -> torch.Tensor:
    """``probs`` (N, K) as float64 if every row is a probability vector, else an error that says
    what is wrong: NaN, negative values or rows that do not sum to 1 (logits, say)."""
    p = torch.as_tensor(probs)
    low_precision = p.dtype in (torch.float16, torch.bfloat16)
    p = p.double()
    if p.dim() != 2 or len(p) == 0:
        raise ValueError(f"{what} must have shape (N, classes) with N >= 1, got {tuple(p.shape)}")
    if not torch.isfinite(p).all():
        raise ValueError(f"{what} contains NaN or infinite values: check the images and the classifier")
    tolerance = 1e-2 if low_precision else 1e-4  # float16 rows sum to 1 only to about 3 digits
    if (p < 0).any() or (p.sum(1) - 1).abs().max() > tolerance:
        raise ValueError(f"each row of {what} must be a probability vector (non-negative, summing to 1): "
                         "pass softmax(logits), not the logits")
    return p


def batched(fn, images: torch.Tensor, batch_size: int = 500, device=None) -> torch.Tensor:
    """Apply ``fn`` to ``images`` batch by batch (no gradients); results on the CPU."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        if device is not None:
            chunk = chunk.to(device)
        out.append(fn(chunk).float().cpu())
    return torch.cat(out)


def _classifier(classifier=None):
    if classifier is not None:
        return classifier
    from ..classifier import default_classifier  # loaded once, then reused

    return default_classifier()


def _digits(images) -> torch.Tensor:
    from ..classifier import as_digit_batch  # checks shape and the [-1, 1] range, says how to fix

    return as_digit_batch(images)


def _classifier_device(classifier):
    try:
        return next(classifier.parameters()).device
    except StopIteration:
        return None


def classifier_features(images: torch.Tensor, classifier=None, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate activations of ganlib's MNIST classifier for images in [-1, 1], (N, d)."""
    images = _digits(images)
    model = _classifier(classifier)
    model.eval()
    return batched(model.features, images, batch_size, _classifier_device(model))


def classifier_probabilities(images: torch.Tensor, classifier=None, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities p(y | x) from ganlib's MNIST classifier, (N, 10).

    The metrics' name for :func:`ganlib.classifier.predict_proba`, which does the work.
    """
    from ..classifier import predict_proba

    return predict_proba(images, classifier, batch_size)


def classifier_features_and_probabilities(images: torch.Tensor, classifier=None,
                                           batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`classifier_features` and :func:`classifier_probabilities` from one pass of the
    classifier over ``images`` (its ``head`` applied to the features): half the time of both."""
    model = _classifier(classifier)
    if not hasattr(model, "head"):
        return (classifier_features(images, model, batch_size),
                classifier_probabilities(images, model, batch_size))
    features = classifier_features(images, model, batch_size)
    dev = _classifier_device(model)
    probs = batched(lambda f: torch.softmax(model.head(f).float(), dim=1), features, batch_size, dev)
    return features, probs


# --- Inception-v3 (needs its ImageNet weights: downloaded once, then cached) ---

_INCEPTION = {}


def load_inception(device=None):
    """torchvision's ImageNet Inception-v3 in eval mode, or a clear error offline.

    Note: published FIDs use the TensorFlow Inception graph of Heusel et al.;
    torchvision's weights differ slightly, so numbers from here are close to,
    not identical with, numbers in papers.
    """
    key = str(device)
    if key in _INCEPTION:
        return _INCEPTION[key]
    try:
        import torchvision

        weights = torchvision.models.Inception_V3_Weights.IMAGENET1K_V1
        model = torchvision.models.inception_v3(weights=weights, aux_logits=True, init_weights=False)
    except Exception as err:  # offline, blocked, or a broken cache
        raise InceptionUnavailableError(
            f"Could not load Inception-v3's ImageNet weights ({type(err).__name__}: {err}). "
            "They are downloaded from the internet on first use (this works in Colab). "
            + OFFLINE_ALTERNATIVE
        ) from err
    model.eval()
    if device is not None:
        model = model.to(device)
    _INCEPTION[key] = model
    return model


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _inception_input(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images, 1 or 3 channels, any size -> ImageNet-normalized 3x299x299."""
    x = (images.float().clamp(-1, 1) + 1) / 2
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    mean = torch.tensor(_IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(_IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def inception_outputs(images: torch.Tensor, batch_size: int = 100, device=None):
    """(pool features (N, 2048), class probabilities (N, 1000)) from Inception-v3."""
    images = validated_images(images)
    if device is None:
        from ..utils import device as best_device

        device = best_device()
    model = load_inception(device)
    pooled = {}
    hook = model.avgpool.register_forward_hook(lambda m, i, o: pooled.__setitem__("x", o.flatten(1)))
    try:
        def run(chunk):
            logits = model(_inception_input(chunk))
            return torch.cat([pooled["x"], logits.softmax(1)], dim=1)

        both = batched(run, images, batch_size, device)
    finally:
        hook.remove()
    return both[:, :2048], both[:, 2048:]


def inception_features(images: torch.Tensor, batch_size: int = 100, device=None) -> torch.Tensor:
    """Inception-v3 pool features (N, 2048) of images in [-1, 1] (needs the weights)."""
    return inception_outputs(images, batch_size, device)[0]
