"""Inception Score (Salimans et al., 2016) and its MNIST-classifier twin.

IS = exp( E_x KL( p(y|x) || p(y) ) ): high when each sample is classified
confidently (low entropy of p(y|x)) and the classes are used evenly (high
entropy of p(y)). It never looks at real data, so it cannot see whether the
samples *look like* the training set, only whether a classifier is sure of them.
With K classes it lies in [1, K].

Conventions, checked against torchmetrics (``tests/test_metrics_peers.py``):
the parts are consecutive (``torch.tensor_split``; torchmetrics shuffles
first, then ``torch.chunk``s), and ``std`` is the *sample* standard deviation
over the parts (ddof=1, as torchmetrics); Salimans et al.'s code and
torch-fidelity report the population one (ddof=0).
"""
from __future__ import annotations

import torch

from .features import classifier_probabilities, inception_outputs, validated_probabilities
from .score import Score


def inception_score_from_probs(probs, splits: int = 10, eps: float = 1e-12) -> Score:
    """Inception Score from class probabilities (N, K), mean and std over ``splits`` parts."""
    p = validated_probabilities(probs)
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and the number of samples ({len(p)}), got {splits}")
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(0, keepdim=True)
        kl = (part * ((part + eps).log() - (marginal + eps).log())).sum(1)
        scores.append(kl.mean().exp())
    scores = torch.stack(scores)
    return Score(float(scores.mean()), float(scores.std()) if splits > 1 else 0.0)


def classifier_inception_score(images, classifier=None, splits: int = 10) -> Score:
    """MNIST-classifier score (TF-GAN's "MNIST score"): IS with ganlib's classifier. Range [1, 10]."""
    return inception_score_from_probs(classifier_probabilities(images, classifier), splits)


def inception_score(images, splits: int = 10, batch_size: int = 100, device=None,
                    backend: str | None = None) -> Score:
    """Inception Score with Inception-v3 (needs downloaded weights; offline: classifier_inception_score).

    ``backend``: ``"torchmetrics"`` (the TF-ported Inception of published
    numbers; it shuffles the samples before splitting), ``"torchvision"``
    (ganlib's formula on torchvision's Inception), or None for torchmetrics
    where it and its weights are available, else torchvision.
    """
    from .backends import resolve_backend, torchmetrics_inception_score

    if resolve_backend(backend) == "torchmetrics":
        return torchmetrics_inception_score(images, splits=splits, batch_size=batch_size, device=device)
    return inception_score_from_probs(inception_outputs(images, batch_size, device)[1], splits)
