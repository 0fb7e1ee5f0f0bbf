"""Measuring generators: one module per family of metrics.

Inception-based scores take ``backend="torchmetrics"`` (published-comparable,
optional extra ``ganlib[metrics]``) or ``"torchvision"``; see ``backends``.
"""
from .backends import BACKENDS, torchmetrics_available  # noqa: F401
from .coverage import LabelCoverage, label_coverage, label_coverage_from_probs  # noqa: F401
from .features import (InceptionUnavailableError, classifier_features,  # noqa: F401
                       classifier_features_and_probabilities, classifier_probabilities,
                       inception_features, load_inception)
from .fid import classifier_fid, fid_from_features, frechet_distance, gaussian_stats, inception_fid  # noqa: F401
from .inception_score import classifier_inception_score, inception_score, inception_score_from_probs  # noqa: F401
from .kid import classifier_kid, inception_kid, kid_from_features  # noqa: F401
from .prd import PrecisionRecall, classifier_precision_recall, precision_recall  # noqa: F401
from .ring import RingCoverage, high_quality_share, mode_counts, modes_covered, ring_coverage  # noqa: F401
from .score import Score  # noqa: F401
