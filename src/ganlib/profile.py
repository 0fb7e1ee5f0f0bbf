"""The run profile: one switch between a seconds-long check and a real run.

Every notebook reads its sizes (epochs, steps, sample counts) through
``run_profile().pick(quick=..., full=...)``, so the same cells run in seconds
in CI (``GANLIB_PROFILE=quick``) and train for real on a GPU (the default,
``full``) without editing a cell.

The profile is read from the environment each time ``run_profile()`` is
called, so it can be switched in a running session (Colab or Jupyter) without
a restart: run ``%env GANLIB_PROFILE=quick`` (or ``ganlib.use_profile("quick")``)
and re-run the setup cell and the cells after it.
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

SWITCH_HINT = (
    "To switch in this session, no restart needed: run %env GANLIB_PROFILE=quick (or =full) "
    "in a cell,\nthen re-run this setup cell and the cells after it.")

# Derived from the README's benchmarks (2-core CPU: MLP GAN about 3,500 images/s,
# DCGAN about 470 images/s) and the chapters' full sizes.
FULL_ON_CPU_WARNING = (
    "WARNING: no CUDA GPU found, and the full profile trains every model for real.\n"
    "On a 2-core CPU that takes about 10 minutes for chapter 4, about 20 for chapter 5 and\n"
    "hours for the whole book (minutes per chapter on a GPU). Either ask for a GPU\n"
    "(Colab: Runtime > Change runtime type > GPU, then run the notebook again) or switch to\n"
    "the quick profile: %env GANLIB_PROFILE=quick, then re-run this cell.")


def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA GPU (False if torch cannot tell)."""
    try:
        import torch
        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - a broken torch install
        return False


@dataclass(frozen=True)
class RunProfile:
    """The active profile. ``pick`` chooses a size for it.

    ``cuda`` records whether a CUDA GPU was seen when the profile was read
    (``None``: not looked at); the full profile without one prints a warning.
    """

    name: str
    cuda: bool | None = None

    @property
    def quick(self) -> bool:
        return self.name == "quick"

    def pick(self, *, quick, full):
        """Return ``quick`` in the quick profile and ``full`` in the full one."""
        return quick if self.quick else full

    def caption(self, what: str, where: str) -> str:
        """A figure title that says what the picture is: ``what``, plus in the quick
        profile that seconds of training still make noise and ``where`` the real
        result is shown."""
        if not self.quick:
            return what
        return f"{what}\n(quick profile: seconds of training, still noise; {where})"

    @property
    def warning(self) -> str | None:
        """What the reader must know before running this profile here, if anything."""
        if self.name == "full" and self.cuda is False:
            return FULL_ON_CPU_WARNING
        return None

    def __str__(self) -> str:
        lines = [f"Run profile: {self.name} -- {_DESCRIPTIONS[self.name]}."]
        if self.warning:
            lines.append(self.warning)
        lines.append(f"({SWITCH_HINT})")
        return "\n".join(lines)


def run_profile(name: str | None = None) -> RunProfile:
    """The profile named ``name``, else the one in ``GANLIB_PROFILE`` (default ``full``).

    The environment is read at every call, so changing ``GANLIB_PROFILE`` in a
    running session (``%env GANLIB_PROFILE=quick``) takes effect the next time
    the setup cell runs.
    """
    raw = name if name is not None else os.environ.get(PROFILE_ENV, "full")
    value = str(raw).strip().lower()
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={raw!r} is not a run profile: use 'quick' "
            "(seconds, for checks) or 'full' (the real training run), e.g. "
            f"%env {PROFILE_ENV}=quick, then re-run the setup cell.")
    return RunProfile(value, cuda=cuda_available() if value == "full" else None)


def use_profile(name: str) -> RunProfile:
    """Switch this session to profile ``name`` (sets ``GANLIB_PROFILE``) and return it.

    The same as ``%env GANLIB_PROFILE=<name>``, for scripts and plain Python:
    re-run the setup cell (or call ``run_profile()`` again) and the cells after it.
    """
    profile = run_profile(name)
    os.environ[PROFILE_ENV] = profile.name
    return profile
