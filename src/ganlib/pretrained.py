"""Trained generators shipped inside the package, each with a model card.

The rendered book runs the quick profile, yet shows what a fully trained model
makes: chapters load these generators (small, loaded with ``weights_only=True``)
beside their own quick run.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import torch

WEIGHTS_DIR = Path(__file__).parent / "weights"
MAX_BYTES = 5 * 1024 * 1024


def available(weights_dir: str | Path = WEIGHTS_DIR) -> list[str]:
    """Names of the shipped generators (other shipped weights, such as the
    classifier's, are not listed)."""
    names = []
    for path in sorted(Path(weights_dir).glob("*.pt")):
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(blob, dict) and str(blob.get("module", "")).startswith("ganlib.models"):
            names.append(path.stem)
    return names


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
    path = weights_dir / f"{name}.pt"
    torch.save({"module": cls.__module__, "class": cls.__name__, "kwargs": kwargs,
                "state_dict": state}, path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        path.unlink()
        raise ValueError(f"{name}.pt would be {size / 2**20:.1f} MB; shipped generators must stay under 5 MB")
    (weights_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n")
    return path


def load_generator(name: str, device=None, weights_dir: str | Path = WEIGHTS_DIR) -> torch.nn.Module:
    """Rebuild a shipped generator in eval mode (float32) on ``device``."""
    path = Path(weights_dir) / f"{name}.pt"
    if not path.exists():
        raise FileNotFoundError(f"no shipped generator named {name!r}; available: {available()}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
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

    def _repr_markdown_(self) -> str:
        rows = "\n".join(f"| {k} | {v} |" for k, v in self.facts.items())
        return f"**Model card: `{self.name}`**\n\n| | |\n|---|---|\n{rows}\n"

    def __repr__(self) -> str:
        return "\n".join([f"Model card: {self.name}"] + [f"  {k}: {v}" for k, v in self.facts.items()])
