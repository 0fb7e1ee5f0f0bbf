"""The result type of the metrics averaged over random parts (KID, Inception Score)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    """A mean over random subsets or splits, and the standard deviation across them.

    ``std`` is the *sample* standard deviation (ddof=1, ``torch.Tensor.std``'s
    default). Some libraries report the population one (ddof=0); for ``k``
    parts, ``std_population = std * sqrt((k - 1) / k)``.
    """

    mean: float
    std: float

    def __str__(self) -> str:
        return f"{self.mean:.4g} +/- {self.std:.2g}"
