"""The path a Colab GPU takes (float16 autocast, loss scaling, fused Adam, device-side EMA),
run on the CPU: ``MixedPrecision.emulated()`` goes through the same code as CUDA, with
``torch.amp.GradScaler("cpu")`` in place of the CUDA scaler.

Every recipe's configuration and every loss and penalty the book uses trains a few steps
this way, with an EMA and a checkpoint resume that must match the uninterrupted run.
"""
import dataclasses
import importlib

import pytest
import torch

import ganlib
from ganlib import data as gdata
from ganlib import losses
from ganlib.data import load_mnist
from ganlib.models import ToyDiscriminator, ToyGenerator
from ganlib.recipes.common import noise_batches
from ganlib.train import EMA, AfterDStep, Callback, MixedPrecision, adam, read_checkpoint, train_gan

pytestmark = pytest.mark.skipif(not hasattr(torch.amp, "GradScaler"),
                                reason="the CPU GradScaler needs torch >= 2.3")

RECIPES = ["mlp_gan", "dcgan", "cgan", "wgan_gp", "infogan", "pix2pix", "style"]


@pytest.fixture(scope="module")
def mnist():
    return load_mnist("train", limit=64, verbose=False)


def train_recipe(name, data, epochs, checkpoint=None, precision_of=MixedPrecision.emulated):
    """``name``'s configuration at batch 16 for ``epochs`` epochs of 4 steps, from seed 0."""
    module = importlib.import_module(f"ganlib.recipes.{name}")
    config = dataclasses.replace(module.CONFIG, batch_size=16, ema_decay=0.9)
    prepare = getattr(module, "outline_pairs", noise_batches)
    ganlib.seed_everything(0)
    G, D = config.networks()
    batches, extra = prepare(config, data)
    precision = precision_of()
    settings = config.train_kwargs(G, D, callbacks=[precision])
    history = train_gan(G, D, batches, epochs=epochs, checkpoint=checkpoint, progress=False, **settings, **extra)
    return G, settings.ema, history, precision


def same_tensors(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_trains_in_float16_and_resumes_exactly(name, mnist, tmp_path):
    G_whole, ema_whole, whole, precision = train_recipe(name, mnist, epochs=2)
    assert torch.isfinite(torch.tensor(whole.records["loss_D"] + whole.records["loss_G"])).all()
    assert set(precision.state_dict()) == {"D", "G"}  # both players stepped through their scalers

    path = tmp_path / f"{name}.pt"
    train_recipe(name, mnist, epochs=1, checkpoint=path)
    saved = read_checkpoint(path)["loss_scalers"]
    assert set(saved) == {"D", "G"} and saved["D"]["scale"] > 0
    G_resumed, ema_resumed, resumed, _ = train_recipe(name, mnist, epochs=2, checkpoint=path)
    assert resumed.records["loss_D"] == whole.records["loss_D"]
    assert same_tensors(G_resumed, G_whole)
    assert same_tensors(ema_resumed.generator, ema_whole.generator)


def test_autocast_really_runs_float16():
    seen = []

    class Dtype(Callback):
        def on_step_end(self, run):
            with run.precision.autocast():
                seen.append(run.generator(torch.randn(2, run.generator.latent_dim)).dtype)

    G, D, batches = toy_setup()
    train_gan(G, D, batches, epochs=1, callbacks=[Dtype(), MixedPrecision.emulated()], progress=False)
    assert set(seen) == {torch.float16}


def toy_setup(n=256, batch_size=32):
    torch.manual_seed(0)
    points = gdata.ring_of_gaussians(n, generator=torch.Generator().manual_seed(1))
    return ToyGenerator(latent_dim=2, hidden=32), ToyDiscriminator(hidden=32), \
        gdata.TensorBatches(points, batch_size=batch_size)


TOY_LOSSES = {  # every loss and penalty the book trains with
    "minimax": dict(loss=losses.MINIMAX),
    "non-saturating": dict(loss=losses.NON_SATURATING),
    "wasserstein + clipping": dict(loss=losses.WASSERSTEIN, callbacks=[AfterDStep(losses.clip_weights(0.01))],
                                   n_critic=5),
    "wgan-gp": dict(loss=losses.WASSERSTEIN, penalty=losses.gp_penalty(10.0), n_critic=5),
    "hinge": dict(loss=losses.HINGE),
    "least squares": dict(loss=losses.least_squares(0.0, 1.0, 1.0)),
    "r1": dict(loss=losses.NON_SATURATING, penalty=losses.r1_penalty(10.0)),
}


@pytest.mark.parametrize("loss", TOY_LOSSES)
def test_every_loss_and_penalty_trains_in_float16_and_resumes_exactly(loss, tmp_path):
    def run(epochs, checkpoint=None):
        G, D, batches = toy_setup()
        ema = EMA(0.9)
        kwargs = dict(TOY_LOSSES[loss])
        callbacks = kwargs.pop("callbacks", []) + [ema, MixedPrecision.emulated()]
        history = train_gan(G, D, batches, epochs=epochs, optimizers=(adam(G.parameters(), 1e-3, (0.5, 0.9)),
                                                                      adam(D.parameters(), 1e-3, (0.5, 0.9))),
                            callbacks=callbacks, checkpoint=checkpoint, progress=False, **kwargs)
        return G, ema, history

    G_whole, ema_whole, whole = run(2)
    assert torch.isfinite(torch.tensor(whole.records["loss_D"])).all()
    run(1, tmp_path / "run.pt")
    G_resumed, ema_resumed, resumed = run(2, tmp_path / "run.pt")
    assert resumed.records["loss_D"] == whole.records["loss_D"]
    assert same_tensors(G_resumed, G_whole) and same_tensors(ema_resumed.generator, ema_whole.generator)


def test_the_loss_scale_survives_a_checkpoint():
    precision = MixedPrecision.emulated()
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(model.parameters())
    for _ in range(3):
        with precision.autocast():
            loss = model(torch.randn(4, 3)).float().pow(2).mean() * 1e6
        precision.backward_and_step(loss, opt, "D")
    precision.scaler("D").update(1234.0)  # a scale no fresh scaler has
    restored = MixedPrecision.emulated()
    restored.load_state_dict(precision.state_dict())
    assert restored.scaler("D").get_scale() == 1234.0
    assert "G" not in restored.state_dict()


def test_off_on_the_cpu_by_default_and_on_for_cuda():
    assert not MixedPrecision(torch.device("cpu")).enabled
    assert MixedPrecision(torch.device("cuda")).enabled  # constructing touches no GPU
    assert MixedPrecision(torch.device("cuda"), enabled=False).enabled is False


# --- no host reads in a training step -------------------------------------------------

class HostReads(Callback):
    """Counts reads of tensor values into Python (each one makes a GPU wait) between the
    first and the last step: ``.item()``, ``bool()``, ``float()``, ``int()``, ``.tolist()``."""

    order = 100  # begins after every other callback has restored and set up its state

    def __init__(self, monkeypatch):
        self.count, self.on, self.steps = 0, False, 0
        for name in ("item", "__bool__", "__float__", "__int__", "tolist"):
            original = getattr(torch.Tensor, name)

            def counted(tensor, *args, _original=original, **kwargs):
                self.count += self.on
                return _original(tensor, *args, **kwargs)

            monkeypatch.setattr(torch.Tensor, name, counted)

    def on_train_begin(self, run):
        self.on = True

    def on_step_end(self, run):
        self.steps += 1

    def on_train_end(self, run):
        self.on = False


@pytest.mark.parametrize("name", ["mlp_gan", "cgan", "wgan_gp", "infogan"])
def test_a_training_step_reads_nothing_back_from_the_device(name, mnist, monkeypatch):
    """On a GPU every read waits for the queued work: the loop may read the recorded numbers
    once per block of steps (and at an epoch's end), never once per step."""
    module = importlib.import_module(f"ganlib.recipes.{name}")
    config = dataclasses.replace(module.CONFIG, batch_size=4)
    G, D = config.networks()
    counter = HostReads(monkeypatch)
    kwargs = dataclasses.replace(config, ema_decay=0.9).train_kwargs(
        G, D, callbacks=[counter, MixedPrecision.emulated()])
    kwargs["optimizers"] = (adam(G.parameters(), config.lr_g, config.betas, fused=True),  # as on a GPU
                            adam(D.parameters(), config.lr_d, config.betas, fused=True))
    batches = mnist.batches(4, with_labels=True)  # 16 steps
    train_gan(G, D, batches, epochs=1, progress=False, **kwargs)
    assert counter.steps == 16
    assert counter.count <= 4, f"{counter.count} host reads in {counter.steps} steps"
