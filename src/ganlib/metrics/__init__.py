"""Measuring generators: one module per family of metrics."""
