"""Recorded full-size experiments: what a chapter's comparison shows when it runs at full size.

Some comparisons (an ablation, four losses on MNIST, WGAN against WGAN-GP) take minutes
to hours at the size where their outcome shows; the quick profile, which builds the
published book, trains them for seconds. Such an experiment is a few cells of its
chapter, tagged ``record:<name>`` in the notebook. They end with
:func:`record_experiment`, which gathers what each arm of the comparison produced
(numbers, sample images or 2-D points, curves) into a :class:`Record`.

- In any run, :func:`record_experiment` returns this run's record.
- ``python -m ganlib.tools.record <notebook> <name>`` executes the setup cell and the
  tagged cells, unchanged, in the full profile, and ships the result here as
  ``<name>.json`` (numbers, curves, what ran, where, how long, the SHA-256 of the cells'
  code and of the settings they read of each recipe configuration) and ``<name>.npz`` (images and points).
- :func:`shown` gives what the page should show: this run's record in the full profile,
  the recorded one in the quick profile. A test fails when a tagged cell, or a setting of a
  recipe's ``CONFIG`` that the cells read, changes and the record was not made again
  (:func:`stale_reasons`).
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

RECORDS_DIR = Path(__file__).resolve().parent
RECORD_TO_ENV = "GANLIB_RECORD_TO"   # set by ``python -m ganlib.tools.record``: where to save
TAG_PREFIX = "record:"
MAX_BYTES = 2**20                     # one record, JSON and arrays together


@dataclass
class Record:
    """One experiment's outcome. ``arms[arm]`` holds ``numbers`` (name -> value), ``curves``
    (name -> [xs, ys]) and optionally ``images`` (uint8 (N, 28, 28)) and ``points`` (N, 2).
    ``facts`` says what ran: notebook, profile, hardware, minutes, date, how to reproduce."""

    name: str
    arms: dict
    facts: dict = field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        return "recorded" in self.facts

    def images(self, arm: str) -> torch.Tensor:
        """``arm``'s sample images as floats (N, 1, H, W) in [-1, 1], as the plotting functions take them."""
        return torch.as_tensor(np.asarray(self.arms[arm]["images"])).float().div(127.5).sub(1)[:, None]

    def numbers(self, key: str) -> dict:
        """``{arm: arms[arm]["numbers"][key]}``, for a table or an assert over the arms."""
        return {arm: values["numbers"][key] for arm, values in self.arms.items()}

    @property
    def caption(self) -> str:
        """What these results are, for a figure's title."""
        f = self.facts
        if not self.recorded:
            return f"this page's run ({f.get('profile', '?')} profile)"
        minutes = f.get("minutes")
        took = f", {minutes:.0f} min" if isinstance(minutes, (int, float)) else ""
        return (f"recorded full-size run ({f['hardware']}{took}, {f['recorded']}; "
                f"python -m ganlib.tools.record {f['notebook']} {self.name})")

    def table(self, keys=None, formats: dict | None = None) -> str:
        """The arms' numbers as a Markdown table (one row per arm)."""
        keys = list(keys or next(iter(self.arms.values()))["numbers"])
        formats = formats or {}
        rows = ["| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for arm, values in self.arms.items():
            cells = [format(values["numbers"][k], formats.get(k, "")) if not isinstance(values["numbers"][k], str)
                     else values["numbers"][k] for k in keys]
            rows.append(f"| {arm} | " + " | ".join(cells) + " |")
        return "\n".join(rows)

    # --- saving and loading ---------------------------------------------------------------
    def _arrays(self) -> dict:
        out = {}
        for arm, values in self.arms.items():
            for kind in ("images", "points"):
                if values.get(kind) is not None:
                    out[f"{arm}/{kind}"] = np.asarray(values[kind])
        return out

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``<name>.json`` and ``<name>.npz`` (atomically) into ``folder``; return the JSON."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self._arrays())
        arrays = buffer.getvalue()
        meta = {"name": self.name, "facts": self.facts, "arrays_sha256": hashlib.sha256(arrays).hexdigest(),
                "arms": {arm: {k: v for k, v in values.items() if k not in ("images", "points")}
                         for arm, values in self.arms.items()}}
        text = json.dumps(meta, indent=1, sort_keys=False) + "\n"
        if len(arrays) + len(text) > MAX_BYTES:
            raise ValueError(f"record {self.name!r} takes {(len(arrays) + len(text)) / 2**20:.2f} MB; a record "
                             f"may take at most {MAX_BYTES / 2**20:.0f} MB: keep fewer images or curve points")
        for suffix, data in ((".npz", arrays), (".json", text.encode())):
            tmp = folder / f".{self.name}{suffix}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, folder / f"{self.name}{suffix}")
        return folder / f"{self.name}.json"


def _as_uint8_images(images) -> np.ndarray:
    x = torch.as_tensor(images).detach().float().cpu()
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(f"images must be (N, 1, H, W) or (N, H, W) in [-1, 1], got {tuple(x.shape)}")
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def _plain(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def record_experiment(name: str, arms: dict, **notes) -> Record:
    """Gather an experiment's outcome. ``arms[arm]`` is a dict with ``numbers`` (name -> number
    or text) and any of ``curves`` (name -> (xs, ys)), ``images`` (samples in [-1, 1]) and
    ``points`` ((N, 2) samples). ``notes``: what else the record should say (settings).
    In a recording run (``python -m ganlib.tools.record``) the record is also saved."""
    from ..profile import run_profile

    if not arms:
        raise ValueError("an experiment needs at least one arm")
    clean = {}
    for arm, values in arms.items():
        unknown = set(values) - {"numbers", "curves", "images", "points"}
        if unknown or "numbers" not in values:
            raise ValueError(f"arm {arm!r}: give 'numbers' and any of 'curves', 'images', 'points' "
                             f"(got {sorted(values)})")
        clean[arm] = {"numbers": {k: _plain(v) for k, v in values["numbers"].items()},
                      "curves": {k: [_plain(xs), _plain(ys)] for k, (xs, ys) in values.get("curves", {}).items()}}
        if values.get("images") is not None:
            clean[arm]["images"] = _as_uint8_images(values["images"])
        if values.get("points") is not None:
            clean[arm]["points"] = torch.as_tensor(values["points"]).detach().float().cpu().numpy()
    record = Record(name, clean, {"profile": run_profile().name, **{k: _plain(v) for k, v in notes.items()}})
    target = os.environ.get(RECORD_TO_ENV)
    if target:
        record.facts["hardware"] = hardware()
        record.save(target)
    return record


def load(name: str, folder: str | os.PathLike = RECORDS_DIR) -> Record:
    """The shipped record ``name``, its arrays checked against the SHA-256 in its JSON."""
    folder = Path(folder)
    path = folder / f"{name}.json"
    if not path.exists():
        have = sorted(p.stem for p in folder.glob("*.json"))
        raise FileNotFoundError(f"no recorded experiment {name!r} in {folder} (there: {', '.join(have) or 'none'}); "
                                f"make it with python -m ganlib.tools.record <notebook> {name}")
    meta = json.loads(path.read_text())
    arrays_path = folder / f"{name}.npz"
    data = arrays_path.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta["arrays_sha256"]:
        raise ValueError(f"{arrays_path} does not match the SHA-256 in {path.name}: the file is damaged or "
                         "from another recording; make the record again")
    arms = meta["arms"]
    with np.load(io.BytesIO(data)) as arrays:
        for key in arrays.files:
            arm, kind = key.rsplit("/", 1)
            arms[arm][kind] = arrays[key]
    return Record(meta["name"], arms, meta["facts"])


def shown(this_run: Record, folder: str | os.PathLike = RECORDS_DIR) -> Record:
    """What the page shows: this run's record in the full profile (it is the full-size
    experiment), the shipped recording of the same experiment in the quick profile."""
    if this_run.facts.get("profile") == "full" or os.environ.get(RECORD_TO_ENV):
        return this_run   # the full-size run itself, or a recording (a dry run included)
    return load(this_run.name, folder)


def hardware() -> str:
    """The GPU's name, else the CPU model and thread count."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    n = torch.get_num_threads()
                    return f"CPU: {line.split(':', 1)[1].strip()} ({n} thread{'' if n == 1 else 's'})"
    except OSError:
        pass
    return f"CPU: {platform.processor() or platform.machine()}"


def today() -> str:
    return datetime.date.today().isoformat()


# --- which cells make an experiment ------------------------------------------------------------

def experiment_cells(notebook: dict, name: str) -> list[str]:
    """The code an experiment runs: the notebook's setup cell (its first code cell), then every
    code cell tagged ``record:<name>``, in order."""
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in code if TAG_PREFIX + name in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise ValueError(f"no cell of this notebook is tagged {TAG_PREFIX}{name}")
    return ["".join(c["source"]) for c in [code[0], *[c for c in tagged if c is not code[0]]]]


def cells_sha256(notebook: dict, name: str) -> str:
    return hashlib.sha256("\n\n# ---- next cell ----\n\n".join(experiment_cells(notebook, name)).encode()).hexdigest()


NOT_CONFIGURATIONS = {"common", "scoreboard"}   # recipe modules that hold no CONFIG of their own
WHOLE = None   # configuration_reads' value for a recipe whose whole CONFIG the cells use


def configuration_reads(notebook: dict, name: str) -> dict:
    """``{recipe: settings}`` for each recipe whose ``CONFIG`` the experiment's cells use
    (chapter 5's ablation uses ``ganlib.recipes.dcgan``'s): the record depends on those
    settings as much as on its cells. A recipe counts when a name bound to it or to its
    ``CONFIG`` (``from ganlib.recipes.dcgan import CONFIG``, ``from ganlib.recipes import
    wgan_gp``) is used in the cells, or when the code spells ``ganlib.recipes.<recipe>`` out;
    an import left unused does not count. ``settings`` is the sorted tuple of the fields
    read when the cells only read fields (``wgan_gp.CONFIG.n_critic``), else :data:`WHOLE`
    (the configuration is passed, printed or its methods called: every setting matters)."""
    import ast
    from dataclasses import fields

    from ..recipes.common import TrainingConfig

    field_names = {f.name for f in fields(TrainingConfig)}
    bound, chains = {}, []   # bound name -> (recipe, "module" | "config"); each name's dotted chain
    for source in experiment_cells(notebook, name):
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "ganlib.recipes":
                bound.update({alias.asname or alias.name: (alias.name, "module") for alias in node.names})
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ganlib.recipes."):
                recipe = node.module.split(".")[2]
                bound.update({alias.asname or alias.name: (recipe, "config")
                              for alias in node.names if alias.name == "CONFIG"})
            elif isinstance(node, ast.Import):
                chains += [["ganlib", "recipes", alias.name.split(".")[2]] for alias in node.names
                           if alias.name.startswith("ganlib.recipes.")]
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                chain, top = [node.id], node   # the longest attribute chain starting at this name
                while isinstance(parents.get(top), ast.Attribute) and parents[top].value is top:
                    top = parents[top]
                    chain.append(top.attr)
                chains.append(chain)
    reads = {}
    for chain in chains:
        if chain[:2] == ["ganlib", "recipes"] and len(chain) > 2:
            recipe, rest = chain[2], chain[3:]
        elif chain[0] in bound:
            recipe, kind = bound[chain[0]]
            rest = chain[1:] if kind == "module" else ["CONFIG", *chain[1:]]
        else:
            continue
        read = rest[1] if len(rest) > 1 and rest[0] == "CONFIG" and rest[1] in field_names else WHOLE
        if read is WHOLE or reads.get(recipe, ()) is WHOLE:
            reads[recipe] = WHOLE
        else:
            reads[recipe] = tuple(sorted({*reads.get(recipe, ()), read}))
    return {recipe: reads[recipe] for recipe in sorted(reads) if recipe not in NOT_CONFIGURATIONS}


def recipes_read(notebook: dict, name: str) -> list[str]:
    """The recipes whose ``CONFIG`` the experiment's cells use (see :func:`configuration_reads`)."""
    return list(configuration_reads(notebook, name))


def configuration_fingerprints(reads) -> dict:
    """``{recipe: SHA-256}`` of what the cells read of each recipe's ``CONFIG``: the fields
    they read, or (a recipe mapped to :data:`WHOLE`, or a plain list of recipes) every
    setting its model card lists and its epochs."""
    import importlib

    if not isinstance(reads, dict):
        reads = dict.fromkeys(reads, WHOLE)
    fingerprints = {}
    for recipe, settings in reads.items():
        config = importlib.import_module(f"ganlib.recipes.{recipe}").CONFIG
        if settings is WHOLE:
            read = {"epochs": config.epochs, **config.describe()}
        else:
            read = {"fields read": list(settings), **{key: getattr(config, key) for key in settings}}
        text = json.dumps(read, sort_keys=True, default=str)
        fingerprints[recipe] = hashlib.sha256(text.encode()).hexdigest()
    return fingerprints


def stale_reasons(notebook: dict, name: str, record: Record) -> list[str]:
    """Why ``record`` no longer shows what the notebook's tagged cells would run (empty when it
    still does): their code changed, or a recipe configuration they read changed."""
    remake = f"make it again: python -m ganlib.tools.record {record.facts.get('notebook', '<notebook>')} {name}"
    reasons = []
    if record.facts.get("cells_sha256") != cells_sha256(notebook, name):
        reasons.append(f"the cells tagged {TAG_PREFIX}{name} changed since the record was made; {remake}")
    made_with = record.facts.get("configurations")
    if made_with is None:
        reasons.append(f"the record does not say which recipe configurations it ran; {remake}")
        return reasons
    reads = configuration_reads(notebook, name)
    now = configuration_fingerprints(reads)
    for recipe in sorted(set(now) | set(made_with)):
        if now.get(recipe) != made_with.get(recipe):
            what = (f"ganlib.recipes.{recipe}.CONFIG" if reads.get(recipe) is WHOLE else
                    f"ganlib.recipes.{recipe}.CONFIG's {', '.join(reads[recipe])}")
            reasons.append(f"{what} is not what record {name!r} ran with (it changed, or the cells read it "
                           f"only now or no longer, or read other settings of it); {remake}")
    return reasons


def tagged_experiments(notebook: dict) -> list[str]:
    names = []
    for cell in notebook["cells"]:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith(TAG_PREFIX) and tag[len(TAG_PREFIX):] not in names:
                names.append(tag[len(TAG_PREFIX):])
    return names


# --- drawing ---------------------------------------------------------------------------------

def show(record: Record, *, what: str = "images", title: str = "", nrow: int = 8, xlim=(-3, 3)):
    """One panel per arm: its sample images (``what="images"``) or 2-D points (``"points"``,
    drawn over the ring's centres), titled with the arm and the record's caption."""
    import matplotlib.pyplot as plt

    arms = [a for a, v in record.arms.items() if v.get(what) is not None]
    if not arms:
        raise ValueError(f"record {record.name!r} has no {what} to show")
    width = 3.2 if what == "points" else 3.0
    fig, axes = plt.subplots(1, len(arms), figsize=(width * len(arms), width + 0.6), squeeze=False)
    for ax, arm in zip(axes[0], arms):
        data = record.arms[arm][what]
        if what == "images":
            from ..plots import show_images
            show_images(record.images(arm)[:nrow * nrow], nrow=nrow, ax=ax, title=arm)
        else:
            from ..data import ring_centers
            ax.scatter(*ring_centers().numpy().T, s=40, marker="x", color="gray", label="modes")
            ax.scatter(*np.asarray(data)[:1000].T, s=2, alpha=0.5)
            ax.set(xlim=xlim, ylim=xlim, xticks=[], yticks=[], title=arm)
            ax.set_aspect("equal")
    fig.suptitle((title + "\n" if title else "") + record.caption, fontsize=9)
    fig.tight_layout()
    return fig


def plot_curves(record: Record, curve: str, *, xlabel: str, ylabel: str, title: str = "", ax=None):
    """One line per arm for ``curve``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for arm, values in record.arms.items():
        if curve in values["curves"]:
            xs, ys = values["curves"][curve]
            ax.plot(xs, ys, label=arm, lw=2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=(title + "\n" if title else "") + record.caption)
    ax.title.set_fontsize(9)
    ax.legend()
    return ax
