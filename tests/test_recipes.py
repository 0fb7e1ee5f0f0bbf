"""Every recipe trains, ships, scores and resumes: a smoke run of each on a few hundred
MNIST training images (the real runs take hours on a CPU; their cards record them)."""
import importlib
import json

import pytest
import torch

from ganlib import pretrained
from ganlib.recipes.common import TrainingConfig

RECIPES = ["mlp_gan", "dcgan", "cgan", "wgan_gp", "infogan", "style", "pix2pix"]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_trains_ships_and_resumes(name, tmp_path):
    module = importlib.import_module(f"ganlib.recipes.{name}")
    config = module.CONFIG
    assert isinstance(config, TrainingConfig) and config.name == name
    flags = ["--limit", "256", "--threads", "1", "--score-samples", "200", "--weights-dir", str(tmp_path / "w"),
             "--checkpoint-dir", str(tmp_path / "c")]
    module.run(["--max-epochs", "1", *flags])
    card = json.loads((tmp_path / "w" / f"{name}.json").read_text())
    assert card["split"] == "train[:256]" and card["epochs"] == 1 and card["status"] == "finished"
    assert card["reproduce"].startswith(f"python -m ganlib.recipes.{name} ")
    assert card["steps"] == 256 // config.batch_size
    if name == "mlp_gan":  # the shared driver resumes the same checkpoint: one more epoch, not two
        module.run(["--max-epochs", "2", *flags])
        card = json.loads((tmp_path / "w" / f"{name}.json").read_text())
        assert card["epochs"] == 2 and card["steps"] == 2 * (256 // config.batch_size)

    generator = pretrained.load_generator(name, weights_dir=tmp_path / "w")
    blob = torch.load(tmp_path / "w" / f"{name}.pt", weights_only=True)
    assert all(v.dtype != torch.float32 for v in blob["state_dict"].values())  # shipped in fp16
    record = pretrained.recorded_run(name, weights_dir=tmp_path / "w")
    assert record.records["step"][-1] == card["steps"] and record.snapshots[0][0] == 0
    assert not generator.training
