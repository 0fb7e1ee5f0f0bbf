"""Sampling a generator and scoring its samples: one path for chapter 9, the
recipes' model cards and the scoreboard.

Reference images are MNIST's 10,000-image test split, which no generator and
not the classifier trained on. The "real" yardstick is the classifier's
validation slice of the training split (its last 5,000 images): real digits
the classifier never trained on, scored exactly as a generator's samples are.
"""
from __future__ import annotations

import torch

from ..classifier import CONFIDENT, default_classifier, score_digits
from ..data import ImageData, load_mnist
from ..latent import latent_sampler
from .coverage import label_coverage_from_probs
from .features import classifier_features, classifier_probabilities
from .fid import fid_from_features
from .inception_score import inception_score_from_probs
from .kid import kid_from_features
from .prd import precision_recall

N_SAMPLES = 5000      # samples per generator
YARDSTICK_SIZE = 5000  # real images in the yardstick row: the classifier's validation slice


@torch.no_grad()
def sample_images(generator: torch.nn.Module, n: int, seed: int = 0, batch_size: int = 1000):
    """``n`` samples (CPU, float, clamped to [-1, 1]) from inputs seeded with ``seed``.

    Returns (images, labels or None). A conditional generator (one that declares
    ``conditional = True``) is asked for every class equally often.
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of samples, got {n}")
    latents = latent_sampler(generator).fixed(n, seed=seed)
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    # Randomness inside the generator (StyleGAN's per-pixel noise) comes from ``seed`` too, so
    # the same seed gives the same samples whatever ran before; the caller's random state is kept.
    cuda_devices = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        out = [generator(*(x[i:i + batch_size].to(dev) for x in latents.g_inputs)).float().cpu()
               for i in range(0, n, batch_size)]
    generator.train(was_training)
    labels = latents.g_inputs[1] if len(latents.g_inputs) > 1 else None
    return torch.cat(out).clamp(-1, 1), labels


def reference_images(verbose: bool = False) -> ImageData:
    """The images every score compares with: all of MNIST's test split."""
    test = load_mnist("test", verbose=verbose)
    if len(test) != 10_000:
        raise ValueError(f"scores compare with MNIST's whole test split (10,000 images), got {len(test)}")
    return test


def yardstick_images(n: int = YARDSTICK_SIZE, verbose: bool = False) -> ImageData:
    """Real digits nobody trained the classifier on: the last ``n`` training images
    (the classifier's validation slice). Scored like a generator, they show the best
    a generator could reach."""
    if not 1 <= n <= YARDSTICK_SIZE:
        raise ValueError(f"n must lie between 1 and {YARDSTICK_SIZE}, got {n}")
    train = load_mnist("train", allow_test_split=False, verbose=verbose)
    return ImageData(train.images[-n:], train.labels[-n:], "MNIST", f"train[-{n}:]")


_REFERENCE_FEATURES: dict = {}


def test_split_features(classifier=None) -> torch.Tensor:
    """The classifier's features of the 10,000 test images (computed once per classifier)."""
    classifier = classifier if classifier is not None else default_classifier()
    key = id(classifier)
    if key not in _REFERENCE_FEATURES:
        _REFERENCE_FEATURES.clear()  # one classifier at a time: a new one replaces the old entry
        _REFERENCE_FEATURES[key] = (classifier, classifier_features(reference_images().images, classifier))
    return _REFERENCE_FEATURES[key][1]


def score_images(images: torch.Tensor, reference_features: torch.Tensor, labels=None,
                 classifier=None, seed: int = 0) -> dict:
    """Every scoreboard metric for one batch of images against reference features.

    FID, KID and IS in the classifier's feature space; precision and recall with
    k = 3 nearest neighbours; digits covered and the confident share from the
    classifier's probabilities; label accuracy where ``labels`` were requested.
    """
    classifier = classifier if classifier is not None else default_classifier()
    feats = classifier_features(images, classifier)
    probs = classifier_probabilities(images, classifier)
    pr = precision_recall(reference_features, feats, k=3)
    # subsets of 1,000 (KID's usual size), smaller than the sample as KID requires
    kid = kid_from_features(reference_features, feats, subsets=20, subset_size=min(1000, len(feats) // 2),
                            seed=seed)
    coverage = label_coverage_from_probs(probs, confidence=CONFIDENT)
    digits = score_digits(images, labels, classifier) if labels is not None else None
    return {
        "n": len(images),
        "fid": fid_from_features(reference_features, feats),
        "kid": kid.mean,
        "is": inception_score_from_probs(probs, splits=10).mean,
        "precision": pr.precision,
        "recall": pr.recall,
        "covered": coverage.covered,
        "confident": coverage.confident_share,
        "label_accuracy": digits.label_accuracy if digits is not None else None,
    }


def score_generator(generator: torch.nn.Module, n: int = N_SAMPLES, seed: int = 0, classifier=None,
                    reference_features: torch.Tensor | None = None) -> dict:
    """Sample ``n`` images from ``generator`` and score them against the test split."""
    classifier = classifier if classifier is not None else default_classifier()
    if reference_features is None:
        reference_features = test_split_features(classifier)
    images, labels = sample_images(generator, n, seed)
    if images.shape[1:] != (1, 28, 28):
        raise ValueError(f"{type(generator).__name__} makes {tuple(images.shape[1:])} samples, "
                         "not MNIST digits (1, 28, 28): the MNIST scores do not apply")
    return score_images(images, reference_features, labels, classifier, seed)
