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

import json
import os
from dataclasses import dataclass
from pathlib import Path

PROFILE_ENV = "GANLIB_PROFILE"
PROFILES = ("quick", "full")

_DESCRIPTIONS = {
    "quick": "a seconds-long check of every cell (tiny data, a few steps); "
    "pictures will look like noise",
    "full": "the real run (all data, full training: made for a GPU; hours on a CPU)",
}

SWITCH_HINT = (
    "To switch in this session, no restart needed: run %env GANLIB_PROFILE=quick (or =full) "
    "in a cell,\nthen re-run this setup cell and the cells after it.")

# The measured full-profile time of every notebook (``make full-times``; the
# table on book/instructors.md is written from the same file). A repository
# checkout has it; a pip-installed ganlib (Colab) does not, and then the warning
# names no number rather than a stale one.
MEASURED_TIMES = Path(__file__).resolve().parents[2] / "benchmarks" / "full_profile_times.json"
NOTEBOOK_ENVS = ("GANLIB_NOTEBOOK", "JPY_SESSION_NAME")  # the test runner's; Jupyter's (the notebook's path)

FULL_ON_CPU_WAYS_OUT = (
    "Either ask for a GPU (Colab: Runtime > Change runtime type > GPU, then run the notebook\n"
    "again) or switch to the quick profile: %env GANLIB_PROFILE=quick, then re-run this cell.")


def current_notebook() -> str | None:
    """The name (stem) of the notebook this kernel runs, where the front end says it
    (the test runner, Jupyter, VS Code), else None (Colab, plain Python)."""
    for var in NOTEBOOK_ENVS:
        if os.environ.get(var):
            return Path(os.environ[var]).stem
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        shell = None
    for key in ("__session__", "__vsc_ipynb_file__"):
        value = getattr(shell, "user_ns", {}).get(key) if shell is not None else None
        if value:
            return Path(str(value)).stem
    return None


def measured_times(path: Path | str = MEASURED_TIMES) -> dict | None:
    """The measurement file's per-notebook times, or None where it is not shipped."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def duration(seconds: float) -> str:
    """Seconds as the book writes them: '40 s', '12 min', '1.8 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _chapter(stem: str) -> str:
    number = stem.split("_", 1)[0]
    name = f"chapter {int(number)}" if number.isdigit() else stem
    return f"{name}'s Keras companion" if stem.endswith("_keras") else name


def full_on_cpu_warning(notebook: str | None = None, measurement: dict | None = None) -> str:
    """The warning for the full profile without a GPU: the measured CPU time of
    ``notebook`` (default: the one this kernel runs) and of the whole book, read
    from ``benchmarks/full_profile_times.json``, so it cannot drift from the table
    on book/instructors.md."""
    notebook = notebook if notebook is not None else current_notebook()
    measurement = measurement if measurement is not None else measured_times()
    lines = ["WARNING: no CUDA GPU found, and the full profile trains every model for real."]
    times = {name: entry.get("full_cpu_seconds", entry.get("full_seconds"))
             for name, entry in ((measurement or {}).get("notebooks") or {}).items()}
    times = {name: t for name, t in times.items() if isinstance(t, (int, float))}
    if not times:
        lines.append("On a CPU a model chapter takes from minutes to hours (book/instructors.md lists the\n"
                     "measured time of each chapter).")
    else:
        total = duration(sum(times.values()))
        if notebook in times:
            lines.append(f"On one CPU core this notebook, {_chapter(notebook)} ({notebook}), takes about "
                         f"{duration(times[notebook])},\nand the whole book about {total}")
        else:
            slowest = max(times, key=times.get)
            lines.append(f"On one CPU core a chapter takes up to about {duration(times[slowest])} "
                         f"({_chapter(slowest)}),\nand the whole book about {total}")
        lines[-1] += (f" (estimated from steps timed on {measurement.get('date', '?')}; book/instructors.md "
                      "lists every chapter).")
    lines.append(FULL_ON_CPU_WAYS_OUT)
    return "\n".join(lines)


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
            return full_on_cpu_warning()
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


# --- settings CI sets for every run (read by the PyTorch loop and the Keras side alike) ---

MAX_STEPS_ENV = "GANLIB_MAX_STEPS"
TIMINGS_ENV = "GANLIB_TIMINGS"     # a JSON-lines file: every training run appends its seconds per step
NOTEBOOK_ENV = "GANLIB_NOTEBOOK"   # set by the notebook runner: which notebook a timed run belongs to


def max_steps() -> int | None:
    """The step cap ``GANLIB_MAX_STEPS`` sets on every training run, or None when unset.

    CI runs every notebook in the full profile with full-size data and networks but
    only a few steps of training, so the full-only branches execute.
    """
    raw = os.environ.get(MAX_STEPS_ENV, "").strip()
    if not raw:
        return None
    try:
        steps = int(raw)
    except ValueError:
        steps = 0
    if steps < 1:
        raise ValueError(f"{MAX_STEPS_ENV}={raw!r}: set it to a positive whole number of steps, "
                         "or unset it to train for the full number of epochs")
    return steps


def capped_steps(steps: int) -> int:
    """``steps``, or the ``GANLIB_MAX_STEPS`` cap when that is smaller.

    For a notebook's own training loop (``train_gan`` caps itself):
    ``for step in trange(capped_steps(STEPS))``. Unset, it returns ``steps``.
    """
    cap = max_steps()
    return steps if cap is None else min(steps, cap)


def timings_file() -> str | None:
    """Where ``GANLIB_TIMINGS`` asks every training run to append its seconds per step, or None."""
    return os.environ.get(TIMINGS_ENV, "").strip() or None
