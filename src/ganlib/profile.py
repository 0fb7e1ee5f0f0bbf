"""The run profile: one switch between a seconds-long check and a real run.

Every notebook reads its sizes (epochs, steps, sample counts) through
``run_profile().pick(quick=..., full=...)``, so the same cells run in seconds
in CI (``GANLIB_PROFILE=quick``) and train for real on a GPU (the default,
``full``) without editing a cell.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

PROFILE_ENV = "GANLIB_PROFILE"
PROFILES = ("quick", "full")

_DESCRIPTIONS = {
    "quick": "a seconds-long check of every cell (tiny data, a few steps); "
    "pictures will look like noise",
    "full": "the real run (all data, full training; minutes on a GPU)",
}


@dataclass(frozen=True)
class RunProfile:
    """The active profile. ``pick`` chooses a size for it."""

    name: str

    @property
    def quick(self) -> bool:
        return self.name == "quick"

    def pick(self, *, quick, full):
        """Return ``quick`` in the quick profile and ``full`` in the full one."""
        return quick if self.quick else full

    def __str__(self) -> str:
        return (
            f"Run profile: {self.name} -- {_DESCRIPTIONS[self.name]}.\n"
            f"(Set {PROFILE_ENV}=quick or {PROFILE_ENV}=full before starting "
            "the kernel to change it.)"
        )


def run_profile(name: str | None = None) -> RunProfile:
    """Read the profile from ``GANLIB_PROFILE`` (default ``full``)."""
    raw = name if name is not None else os.environ.get(PROFILE_ENV, "full")
    value = raw.strip().lower()
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={raw!r} is not a run profile: use 'quick' "
            "(seconds, for checks) or 'full' (the real training run)."
        )
    return RunProfile(value)
