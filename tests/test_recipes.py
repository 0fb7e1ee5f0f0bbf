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


@pytest.mark.parametrize("name", ["mlp_gan", "dcgan", "wgan_gp", "infogan"])
def test_one_call_carries_every_setting_of_a_configuration(name):
    """What a notebook's training cell and the recipe pass to train_gan: loss, optimizers with
    the configuration's learning rates, n_critic, penalty, and an EMA exactly when it has one."""
    from ganlib.recipes.common import replace
    from ganlib.train import EMA, PrintLog

    config = importlib.import_module(f"ganlib.recipes.{name}").CONFIG
    G, D = config.networks()
    shown = PrintLog()
    settings = config.train_kwargs(G, D, callbacks=[shown])
    assert settings["loss"].name.replace("-", " ") in config.describe()["objective"].replace("-", " ")
    opt_g, opt_d = settings["optimizers"]
    assert {g["lr"] for g in opt_d.param_groups} == {config.lr_d} and opt_g.param_groups[0]["lr"] == config.lr_g
    assert {id(p) for g in opt_g.param_groups for p in g["params"]} == {id(p) for p in G.parameters()}
    assert settings["n_critic"] == config.n_critic and (settings["penalty"] is not None) == bool(config.gp_weight)
    assert settings["callbacks"][0] is shown
    assert (settings.ema is not None) == bool(config.ema_decay)
    if settings.ema is not None:
        assert isinstance(settings.ema, EMA) and settings.ema.decay == config.ema_decay
        assert settings["callbacks"][-1] is settings.ema
    plain = replace(config, ema_decay=None).train_kwargs(G, D)
    assert plain.ema is None and plain["callbacks"] == [] and plain.generator_to_sample(G) is G
    printed = str(config)
    assert all(str(value) in printed for value in config.describe().values())
    assert f"{config.epochs} (the full profile)" in printed
