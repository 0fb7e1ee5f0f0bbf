"""Measuring generators: one module per family of metrics."""
from .ring import RingCoverage, high_quality_share, mode_counts, modes_covered, ring_coverage  # noqa: F401
