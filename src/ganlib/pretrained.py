"""Trained generators shipped inside the package, each with a model card.

The rendered book runs the quick profile, yet shows what a fully trained model
makes: chapters load these generators (small, loaded with ``weights_only=True``)
beside their own quick run.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
from pathlib import Path

import torch

WEIGHTS_DIR = Path(__file__).parent / "weights"
MAX_BYTES = 5 * 1024 * 1024


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (a model card records its weights')."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_weights(path: Path) -> dict:
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, not a torch file, not loadable with weights_only
        raise RuntimeError(f"{path} cannot be read as shipped weights ({type(err).__name__}: {err}); it is "
                           "truncated or not a ganlib weights file. Restore it (git checkout, or "
                           "reinstall ganlib) or retrain it with its recipe.") from err
    if not isinstance(blob, dict) or not {"module", "class", "kwargs", "state_dict"} <= set(blob):
        raise RuntimeError(f"{path} is not a ganlib generator file (it lacks module, class, kwargs and "
                           "state_dict)")
    return blob


def available(weights_dir: str | Path = WEIGHTS_DIR) -> list[str]:
    """Names of the generators in ``weights_dir`` (other weights, such as the classifier's,
    and files that are not ganlib generators are not listed)."""
    names = []
    for path in sorted(Path(weights_dir).glob("*.pt")):
        try:
            blob = _read_weights(path)
        except RuntimeError:
            continue  # a stray or broken file is not a generator; load_generator names it if asked
        if str(blob.get("module", "")).startswith("ganlib.models"):
            names.append(path.stem)
    return names


def _write_atomically(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_generator(generator: torch.nn.Module, name: str, *, kwargs: dict, card: dict,
                   weights_dir: str | Path = WEIGHTS_DIR) -> Path:
    """Write ``name.pt`` (half-precision weights + how to rebuild the model) and
    ``name.json`` (the model card's facts). ``kwargs`` rebuild the class."""
    cls = type(generator)
    if not cls.__module__.startswith("ganlib.models"):
        raise ValueError("only generators defined in ganlib.models can be shipped")
    weights_dir = Path(weights_dir)
    weights_dir.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in generator.state_dict().items()}
    if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise ValueError(f"{name}: the generator's weights hold NaN or infinite values (in float16); "
                         "a diverged run is not shipped")
    path = weights_dir / f"{name}.pt"
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"module": cls.__module__, "class": cls.__name__, "kwargs": kwargs, "state_dict": state}, tmp)
    size = tmp.stat().st_size
    if size > MAX_BYTES:
        tmp.unlink()
        raise ValueError(f"{name}.pt would be {size / 2**20:.1f} MB; shipped generators must stay under 5 MB")
    card = {**card, "weights_sha256": sha256_of(tmp)}
    os.replace(tmp, path)
    _write_atomically(weights_dir / f"{name}.json", lambda p: p.write_text(json.dumps(card, indent=2) + "\n"))
    return path


def load_generator(name: str, device=None, weights_dir: str | Path = WEIGHTS_DIR) -> torch.nn.Module:
    """Rebuild a shipped generator in eval mode (float32) on ``device``."""
    path = Path(weights_dir) / f"{name}.pt"
    if not path.exists():
        raise FileNotFoundError(f"no generator named {name!r} in {weights_dir}; available there: "
                                f"{available(weights_dir)}")
    card_path = path.with_suffix(".json")
    if card_path.exists():
        expected = json.loads(card_path.read_text()).get("weights_sha256")
        if expected is not None and sha256_of(path) != expected:
            raise RuntimeError(f"{path} does not match the SHA-256 its model card ({card_path.name}) records: "
                               "the file changed after it was shipped. Restore it (git checkout, or "
                               "reinstall ganlib) or retrain it with its recipe.")
    blob = _read_weights(path)
    bad = [k for k, v in blob["state_dict"].items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise RuntimeError(f"{path} holds NaN or infinite weights ({', '.join(bad[:3])}): it would "
                           "generate nothing. Restore the file or retrain it with its recipe.")
    if not blob["module"].startswith("ganlib.models"):
        raise ValueError(f"{path} names a class outside ganlib.models; refusing to build it")
    cls = getattr(importlib.import_module(blob["module"]), blob["class"])
    model = cls(**blob["kwargs"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in blob["state_dict"].items()})
    model.eval()
    return model.to(device) if device is not None else model


def model_card(name: str, weights_dir: str | Path = WEIGHTS_DIR) -> dict:
    """The facts recorded when the generator was trained (data, epochs, seed, ...)."""
    path = Path(weights_dir) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no model card for {name!r} in {weights_dir}")
    return json.loads(path.read_text())


class ModelCard:
    """A model card that renders as a table in Jupyter and the book."""

    def __init__(self, name: str, weights_dir: str | Path = WEIGHTS_DIR):
        self.name, self.facts = name, model_card(name, weights_dir)

    CODE_FACTS = ("generator", "discriminator", "reproduce")  # shown as code: no markdown inside

    def _repr_markdown_(self) -> str:
        def cell(value):
            if isinstance(value, dict):  # a group of facts (the scores, say): one line
                return "; ".join(f"{k}: {cell(v)}" for k, v in value.items())
            return str(value).replace("|", "\\|").replace("*", "\\*")

        rows = "\n".join(f"| {k} | " + (f"`{v}`" if k in self.CODE_FACTS else cell(v)) + " |"
                         for k, v in self.facts.items())
        # Renders as a table where markdown has tables (the book: nb_render_markdown_format in _config.yml).
        return f"**Model card: `{self.name}`**\n\n| fact | value |\n|---|---|\n{rows}\n"

    def __repr__(self) -> str:
        return "\n".join([f"Model card: {self.name}"] + [f"  {k}: {v}" for k, v in self.facts.items()])


def recorded_run(name: str, weights_dir: str | Path = WEIGHTS_DIR):
    """The recorded training run shipped beside a generator (``name_run.pth``), as a
    :class:`ganlib.train.History`: loss and D(x) / D(G(z)) curves (block means of at
    most 400 points) and snapshots from fixed noise, so ``.plot()`` and
    ``ganlib.plot_snapshots`` draw the full run the shipped weights came from."""
    from .train.history import RECORD_KEYS, History

    path = Path(weights_dir) / f"{name}_run.pth"
    if not path.exists():
        raise FileNotFoundError(f"no recorded run for {name!r} ({path.name}); it is written by "
                                f"python -m ganlib.recipes.{name}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    steps = [int(s) for s in blob["steps"]]
    per_epoch = max(1, int(blob["steps_per_epoch"]))
    records = {key: [] for key in RECORD_KEYS}
    records["step"] = steps
    records["epoch"] = [1 + (s - 1) // per_epoch for s in steps]
    for key in ("loss_D", "loss_G", "D(x)", "D(G(z))"):
        records[key] = [float(v) for v in blob["curves"][key]]
    return History(records=records, snapshots=[(int(s), img.float()) for s, img in blob["snapshots"]],
                   scores=blob["scores"], steps_per_epoch=per_epoch)


def show_recorded_run(name: str, weights_dir: str | Path = WEIGHTS_DIR):
    """Draw the recorded full run behind a shipped generator: its curves and its
    snapshots from fixed noise, titled with what the model card says about the run."""
    import matplotlib.pyplot as plt

    from .plots import plot_snapshots

    run, card = recorded_run(name, weights_dir), model_card(name, weights_dir)
    steps = run.records["step"][-1] if run.records["step"] else 0
    what = (f"the recorded full run of `{name}`: {card.get('epochs', '?')} epochs, {steps:,} "
            f"steps on MNIST's {card.get('split', '?')} split ({card.get('hardware', '?')})")
    run.plot(title=what[0].upper() + what[1:])
    plt.show()
    plot_snapshots(run, title=f"`{name}` during its recorded run: the same 16 fixed inputs at each snapshot")
    plt.show()
    return run
