"""Label coverage for MNIST: which digits does a generator make, and how sure
is a classifier of them?

Mode collapse on MNIST shows up as digits that are (almost) never produced.
A classifier labels every sample; a class counts as *covered* when it gets at
least ``min_share`` of the uniform share 1/K (default: half of it, 5 %).
Samples the classifier is unsure of (max probability below ``confidence``)
are left out of the histogram: a blur that is 30 % "3" is no "3".
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..classifier import confident_mask
from .features import classifier_probabilities, validated_probabilities


@dataclass(frozen=True)
class LabelCoverage:
    covered: int             # classes with at least min_share * (1 / K) of the confident samples
    n_classes: int
    shares: tuple            # share of each class among confident samples
    confident_share: float   # share of samples with max probability >= confidence
    kl_from_uniform: float   # KL(shares || uniform) in nats; 0 when every class is equally common

    @property
    def coverage(self) -> float:
        return self.covered / self.n_classes

    def __str__(self) -> str:
        return (f"{self.covered}/{self.n_classes} classes covered, {self.confident_share:.1%} confident, "
                f"KL from uniform {self.kl_from_uniform:.3f}")


def label_coverage_from_probs(probs, confidence: float = 0.9, min_share: float = 0.5) -> LabelCoverage:
    """Label coverage from classifier probabilities (N, K)."""
    p = validated_probabilities(probs)
    if not 0 <= confidence < 1 or not 0 < min_share <= 1:
        raise ValueError("need 0 <= confidence < 1 and 0 < min_share <= 1")
    n_classes = p.shape[1]
    label = p.argmax(dim=1)
    sure = confident_mask(p, confidence)
    counts = torch.bincount(label[sure], minlength=n_classes).double()
    shares = counts / counts.sum() if counts.sum() > 0 else counts
    covered = int((shares >= min_share / n_classes).sum())
    nonzero = shares > 0
    kl = float((shares[nonzero] * (shares[nonzero] * n_classes).log()).sum()) if counts.sum() > 0 else float("inf")
    return LabelCoverage(covered, n_classes, tuple(float(s) for s in shares), float(sure.double().mean()), kl)


def label_coverage(images, classifier=None, confidence: float = 0.9, min_share: float = 0.5) -> LabelCoverage:
    """Label coverage of generated MNIST digits, judged by ganlib's classifier."""
    return label_coverage_from_probs(classifier_probabilities(images, classifier), confidence, min_share)
