"""Precision and recall for generative models (Kynkaanniemi et al., 2019).

Each set of feature vectors gets a manifold estimate: the union of balls
around its points, each ball reaching that point's k-th nearest neighbour in
the same set. Then

* precision = share of generated samples inside the *real* manifold
  (are the samples realistic?),
* recall    = share of real samples inside the *generated* manifold
  (does the generator cover all of the data?).

FID folds both failures into one number; these two keep them apart.

Distances are computed in float64: in float32, samples whose distance ties a
radius to within round-off can flip in or out when feature norms are large.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .features import classifier_features, validated_feature_pair


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float

    def __str__(self) -> str:
        return f"precision {self.precision:.3f}, recall {self.recall:.3f}"


def knn_radii(features: torch.Tensor, k: int = 3, chunk: int = 2048) -> torch.Tensor:
    """Distance from each point to its k-th nearest neighbour in the same set (itself excluded)."""
    if not 1 <= k < len(features):
        raise ValueError(f"k must be between 1 and N - 1 = {len(features) - 1}, got {k}")
    radii = []
    for start in range(0, len(features), chunk):
        d = torch.cdist(features[start:start + chunk], features)
        # the k+1 smallest include the point itself at distance 0
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def inside_manifold(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
                    chunk: int = 2048) -> torch.Tensor:
    """Boolean (N,): is each point within radius of at least one centre?"""
    hits = []
    for start in range(0, len(points), chunk):
        d = torch.cdist(points[start:start + chunk], centres)
        hits.append((d <= radii.unsqueeze(0)).any(dim=1))
    return torch.cat(hits)


def precision_recall(real_features, fake_features, k: int = 3) -> PrecisionRecall:
    """k-NN precision and recall between real and generated feature clouds."""
    real, fake = validated_feature_pair(real_features, fake_features)
    precision = inside_manifold(fake, real, knn_radii(real, k)).double().mean()
    recall = inside_manifold(real, fake, knn_radii(fake, k)).double().mean()
    return PrecisionRecall(float(precision), float(recall))


def classifier_precision_recall(real_images, fake_images, k: int = 3, classifier=None) -> PrecisionRecall:
    """Precision and recall in the feature space of ganlib's MNIST classifier."""
    return precision_recall(classifier_features(real_images, classifier),
                            classifier_features(fake_images, classifier), k)
