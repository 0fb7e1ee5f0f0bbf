"""The training loop: its two steps, callbacks, latent inputs, exact resume and input checks."""
import math

import pytest
import torch

import ganlib
from ganlib import data as gdata
from ganlib import losses
from ganlib.models import ToyDiscriminator, ToyGenerator
from ganlib.models.conditional import ConditionalDiscriminator, ConditionalGenerator
from ganlib.train import (
    EMA,
    AfterDStep,
    Callback,
    EarlyStop,
    LabelledNoise,
    MaxSteps,
    NoiseSampler,
    Snapshots,
    TimeBudget,
    d_step,
    g_step,
    latent_sampler,
    read_checkpoint,
    train_gan,
)


def toy_setup(seed=0, n=512, batch_size=64):
    torch.manual_seed(seed)
    points = gdata.ring_of_gaussians(n, generator=torch.Generator().manual_seed(1))
    return ToyGenerator(latent_dim=2, hidden=32), ToyDiscriminator(hidden=32), \
        gdata.TensorBatches(points, batch_size=batch_size)


def adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.9))


# --- the steps -----------------------------------------------------------------

def test_d_step_moves_only_d_and_g_step_moves_only_g():
    G, D, _ = toy_setup()
    real, z = torch.randn(16, 2), torch.randn(16, 2)
    g_before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    fake = G(z)
    loss, real_out, fake_out = d_step(D, adam(D), losses.d_loss_minimax, real, fake)
    assert loss.shape == () and real_out.shape == fake_out.shape == (16,)
    assert all(torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert all(p.grad is None for p in G.parameters())  # detached: no gradient reached G

    d_after_d_step = [p.detach().clone() for p in D.parameters()]
    d_grads = [p.grad.clone() for p in D.parameters()]
    g_step(D, adam(G), losses.g_loss_nonsaturating, fake)
    assert all(torch.equal(a, b) for a, b in zip(d_after_d_step, D.parameters()))
    assert all(torch.equal(a, p.grad) for a, p in zip(d_grads, D.parameters()))  # frozen: no new gradient
    assert all(p.requires_grad for p in D.parameters())  # and is trainable again afterwards
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters()))


def test_d_step_adds_the_penalty():
    G, D, _ = toy_setup()
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    torch.manual_seed(3)
    plain, _, _ = d_step(ToyDiscriminator(hidden=32), torch.optim.SGD(D.parameters(), lr=0.0),
                         losses.d_loss_wasserstein, real, fake)
    torch.manual_seed(3)
    penalized, _, _ = d_step(ToyDiscriminator(hidden=32), torch.optim.SGD(D.parameters(), lr=0.0),
                             losses.d_loss_wasserstein, real, fake,
                             penalty=lambda critic, r, f: torch.tensor(5.0))
    assert penalized.item() == pytest.approx(plain.item() + 5.0)


# --- the loop ------------------------------------------------------------------

def test_train_gan_records_every_step_and_snapshots():
    G, D, batches = toy_setup()
    history = train_gan(G, D, batches, epochs=3, progress=False, callbacks=[Snapshots(every=1)])
    assert len(history) == 3 * len(batches)
    assert history.records["step"] == list(range(1, len(history) + 1))
    assert history.records["epoch"] == [e for e in (1, 2, 3) for _ in range(len(batches))]
    assert [s for s, _ in history.snapshots] == [0, 8, 16, 24]
    assert all(0 <= v <= 1 for v in history.records["D(x)"])


def test_generator_steps_every_n_critic_steps():
    G, D, batches = toy_setup()
    calls = []

    def counting_g_loss(fake_out):
        calls.append(1)
        return losses.g_loss_nonsaturating(fake_out)

    loss = losses.GANLoss(losses.d_loss_minimax, counting_g_loss, scores="probability")
    history = train_gan(G, D, batches, epochs=2, n_critic=3, loss=loss, progress=False)
    assert len(calls) == math.ceil(2 * len(batches) / 3)  # steps 0, 3, 6, ... of 16
    # the plots say what a step is: one critic update here, one batch in the Keras GAN
    assert history.step_unit == "step (one critic update; G every 3)"
    fig = history.plot()
    assert fig.axes[0].get_xlabel() == "step (one critic update; G every 3)"
    assert ganlib.train.History.from_state_dict(history.state_dict()).step_unit == history.step_unit


def test_train_gan_learns_a_1d_gaussian():
    torch.manual_seed(0)
    target = gdata.gaussian_1d(4096, mean=3.0, std=0.5, generator=torch.Generator().manual_seed(0))
    G = ToyGenerator(latent_dim=1, out_dim=1, hidden=32, depth=2)
    D = ToyDiscriminator(in_dim=1, hidden=32, depth=2)
    train_gan(G, D, gdata.TensorBatches(target, batch_size=128), epochs=25, progress=False,
              optimizers=(torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999)),
                          torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))))
    samples = ganlib.generate(G, torch.randn(4000, 1))
    assert abs(samples.mean().item() - 3.0) < 0.3


def test_callbacks_see_every_hook_in_order():
    seen = []

    class Spy(Callback):
        def on_train_begin(self, run): seen.append("begin")
        def on_d_step_end(self, run): seen.append("d")
        def on_g_step_end(self, run): seen.append("g")
        def on_step_end(self, run): seen.append("step")
        def on_epoch_end(self, run): seen.append(f"epoch {run.epoch}")
        def on_train_end(self, run): seen.append("end")

    G, D, batches = toy_setup(n=128)
    train_gan(G, D, batches, epochs=2, n_critic=2, callbacks=[Spy()], progress=False)
    assert seen == ["begin", "d", "g", "step", "d", "step", "epoch 1",
                    "d", "g", "step", "d", "step", "epoch 2", "end"]


def test_a_callback_can_stop_training_and_the_loop_says_why(capsys):
    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, run):
            run.stop = "enough"

    G, D, batches = toy_setup()
    history = train_gan(G, D, batches, epochs=5, callbacks=[StopAfterFirstEpoch()], progress=False)
    assert len(history) == len(batches)
    assert "Stopped early: enough" in capsys.readouterr().out


def test_max_steps_from_the_environment_caps_every_run(monkeypatch):
    G, D, batches = toy_setup()
    monkeypatch.setenv("GANLIB_MAX_STEPS", "3")
    history = train_gan(G, D, batches, epochs=4, progress=False)
    assert len(history) == 3
    monkeypatch.setenv("GANLIB_MAX_STEPS", "three")
    with pytest.raises(ValueError, match="GANLIB_MAX_STEPS"):
        train_gan(G, D, batches, epochs=1, progress=False)


def test_time_budget_stops_at_an_epoch_end():
    G, D, batches = toy_setup()
    history = train_gan(G, D, batches, epochs=50, callbacks=[TimeBudget(minutes=1e-9)], progress=False)
    assert len(history) == len(batches)  # one epoch, then the budget is spent


def test_early_stop_after_patience_epochs_without_improvement():
    G, D, batches = toy_setup()
    scores = iter([1.0, 2.0, 1.5, 1.9, 1.0, 5.0])
    history = train_gan(G, D, batches, epochs=6, progress=False,
                        callbacks=[EarlyStop(lambda run: next(scores), patience=2)])
    assert len(history) == 4 * len(batches)


def test_ema_averages_the_generator_after_every_g_step():
    G, D, batches = toy_setup()
    ema = EMA(decay=0.5)
    train_gan(G, D, batches, epochs=1, callbacks=[ema], progress=False)
    averaged = ema.generator
    assert type(averaged) is type(G)
    differs = [not torch.equal(a, b) for a, b in zip(averaged.parameters(), G.parameters())]
    assert any(differs)
    close = [torch.allclose(a, b, atol=0.05) for a, b in zip(averaged.parameters(), G.parameters())]
    assert all(close)  # decay 0.5 forgets fast: the average stays near the last weights


def test_after_d_step_clips_the_critic():
    G, D, batches = toy_setup()
    history = train_gan(G, D, batches, epochs=1, loss=losses.WASSERSTEIN,
                        callbacks=[AfterDStep(losses.clip_weights(0.01))], progress=False)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01
    assert history.scores == "raw"


def test_nan_loss_raises_with_the_step_and_no_checkpoint_hint_without_one():
    G, D, batches = toy_setup()

    calls = [0]

    def explodes_at_step_5(real_out, fake_out):
        calls[0] += 1
        loss = losses.d_loss_minimax(real_out, fake_out)
        return loss * float("nan") if calls[0] == 5 else loss

    with pytest.raises(FloatingPointError, match="step 5") as err:
        train_gan(G, D, batches, epochs=1, progress=False,
                  loss=losses.GANLoss(explodes_at_step_5, losses.g_loss_nonsaturating, "probability"))
    assert "checkpoint" not in str(err.value)


# --- latent inputs and conditional models ------------------------------------------

def test_latent_sampler_reads_the_declared_attribute_not_the_signature():
    assert isinstance(latent_sampler(ToyGenerator(latent_dim=2)), NoiseSampler)
    cond = latent_sampler(ConditionalGenerator(latent_dim=8, hidden=[16]))
    assert isinstance(cond, LabelledNoise) and cond.latent_dim == 8 and cond.n_classes == 10

    class TwoArgumentsButUnconditional(ToyGenerator):
        def forward(self, z, psi=1.0):
            return super().forward(z) * psi

    assert not isinstance(latent_sampler(TwoArgumentsButUnconditional(latent_dim=2)), LabelledNoise)
    with pytest.raises(ValueError, match="latent_dim"):
        latent_sampler(torch.nn.Linear(2, 2))


def test_conditional_gan_trains_with_labels_through_the_same_loop():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    labels = torch.arange(64) % 10
    G = ConditionalGenerator(latent_dim=8, hidden=[16])
    D = ConditionalDiscriminator(hidden=[16])
    history = train_gan(G, D, gdata.TensorBatches(images, labels, batch_size=16), epochs=1, progress=False)
    assert len(history) == 4
    assert history.snapshots[0][1].shape == (64, 1, 28, 28)
    with pytest.raises(ValueError, match="labels"):
        train_gan(G, D, gdata.TensorBatches(images, batch_size=16), epochs=1, progress=False)


# --- checkpoints that resume exactly ---------------------------------------------------

def run_toy(ckpt, epochs, n_critic, seed=0, callbacks=()):
    G, D, batches = toy_setup(seed=seed, n=448)  # 7 batches an epoch: n_critic 5 does not divide it
    ganlib.seed_everything(seed)
    history = train_gan(G, D, batches, epochs=epochs, n_critic=n_critic, optimizers=(adam(G), adam(D)),
                        checkpoint=ckpt, callbacks=list(callbacks), progress=False)
    return G, D, history


@pytest.mark.parametrize("n_critic", [1, 5])
def test_resumed_training_equals_uninterrupted_training_bit_for_bit(tmp_path, n_critic):
    ema_whole, ema_resumed = EMA(0.9), EMA(0.9)
    G_whole, D_whole, whole = run_toy(None, 3, n_critic, callbacks=[ema_whole])
    run_toy(tmp_path / "run.pt", 2, n_critic, callbacks=[EMA(0.9)])
    # A fresh process: new networks and a different global random state before resuming.
    torch.manual_seed(12345)
    G, D, resumed = run_toy(tmp_path / "run.pt", 3, n_critic, seed=7, callbacks=[ema_resumed])
    assert resumed.records == whole.records
    for a, b in zip([*G.state_dict().values(), *D.state_dict().values()],
                    [*G_whole.state_dict().values(), *D_whole.state_dict().values()]):
        assert torch.equal(a, b)
    for a, b in zip(ema_resumed.generator.parameters(), ema_whole.generator.parameters()):
        assert torch.equal(a, b)


def test_resuming_with_other_settings_names_what_differs(tmp_path):
    run_toy(tmp_path / "run.pt", 1, n_critic=1)
    with pytest.raises(ValueError, match=r"(?s)n_critic.*start fresh"):
        run_toy(tmp_path / "run.pt", 2, n_critic=2)


def test_resuming_a_finished_run_says_so_and_returns_its_history(tmp_path, capsys):
    G_done, _, done = run_toy(tmp_path / "run.pt", 2, n_critic=1)
    G, _, again = run_toy(tmp_path / "run.pt", 2, n_critic=1, seed=3)
    assert "finished run" in capsys.readouterr().out
    assert again.records == done.records
    assert all(torch.equal(a, b) for a, b in zip(G.parameters(), G_done.parameters()))


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_a_damaged_checkpoint_names_the_file_and_what_to_do(tmp_path, damage):
    path = tmp_path / "run.pt"
    run_toy(path, 1, n_critic=1)
    blob = path.read_bytes()
    path.write_bytes({"empty": b"", "truncated": blob[: len(blob) // 2], "garbage": b"not a checkpoint" * 9}[damage])
    with pytest.raises(RuntimeError, match=r"(?s)run\.pt.*(Delete it|delete it)"):
        run_toy(path, 2, n_critic=1)


def test_checkpoint_loads_with_weights_only(tmp_path):
    run_toy(tmp_path / "run.pt", 1, n_critic=1)
    outer = torch.load(tmp_path / "run.pt", weights_only=True)  # tensors and plain values only
    assert set(outer) == {"format", "sha256", "payload"}
    state = read_checkpoint(tmp_path / "run.pt")
    assert state["epoch"] == 1 and state["step"] == 7
    assert read_checkpoint(tmp_path / "run.pt")["fingerprint"]["n_critic"] == 1


def test_nan_message_points_at_an_existing_checkpoint(tmp_path):
    G, D, batches = toy_setup()
    calls = [0]

    def explodes_in_epoch_2(real_out, fake_out):
        calls[0] += 1
        loss = losses.d_loss_minimax(real_out, fake_out)
        return loss * float("nan") if calls[0] == len(batches) + 2 else loss

    with pytest.raises(FloatingPointError, match="run.pt"):
        train_gan(G, D, batches, epochs=2, checkpoint=tmp_path / "run.pt", progress=False,
                  loss=losses.GANLoss(explodes_in_epoch_2, losses.g_loss_nonsaturating, "probability"))


# --- inputs checked ------------------------------------------------------------------------

def test_train_gan_rejects_bad_arguments():
    G, D, batches = toy_setup()
    with pytest.raises(ValueError, match="epochs"):
        train_gan(G, D, batches, epochs=0)
    with pytest.raises(ValueError, match="n_critic"):
        train_gan(G, D, batches, epochs=1, n_critic=0)
    with pytest.raises(ValueError, match="every"):
        Snapshots(every=-1)
    with pytest.raises(ValueError, match="positive"):
        MaxSteps(0)


def test_a_raw_tensor_instead_of_batches_is_refused():
    G, D, _ = toy_setup()
    with pytest.raises(TypeError, match="TensorBatches"):
        train_gan(G, D, torch.randn(256, 2), epochs=1)


@pytest.mark.parametrize("images, message", [
    ((torch.rand(32, 1, 28, 28) * 255).to(torch.uint8), "float32"),
    (torch.rand(32, 1, 28, 28, dtype=torch.float64), "float64"),
    (torch.rand(32, 1, 28, 28) * 255, r"x / 127.5 - 1"),
])
def test_real_images_in_the_wrong_type_or_range_are_refused(images, message):
    from ganlib.models import MLPDiscriminator, MLPGenerator

    with pytest.raises((TypeError, ValueError), match=message):
        train_gan(MLPGenerator(), MLPDiscriminator(), gdata.TensorBatches(images, batch_size=8), epochs=1)


def test_a_generator_that_makes_the_wrong_shape_is_named():
    from ganlib.models import MLPDiscriminator, MLPGenerator

    G = MLPGenerator(out_shape=(1, 32, 32))
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    with pytest.raises(ValueError, match=r"MLPGenerator makes images of shape \(1, 32, 32\).*\(1, 28, 28\)"):
        train_gan(G, MLPDiscriminator(), gdata.TensorBatches(images, batch_size=8), epochs=1)


def test_a_checkpoint_holds_the_snapshot_taken_at_its_epoch_end(tmp_path):
    run_toy(tmp_path / "run.pt", 2, n_critic=1, callbacks=[Snapshots(every=1)])
    state = read_checkpoint(tmp_path / "run.pt")
    assert [s for s, _ in state["history"]["snapshots"]] == [0, 7, 14]


def test_train_gan_stays_short_enough_to_read():
    """Chapter 4 reads the loop: train_gan fits on a screen (signature, docstring and body), takes
    at most 14 parameters, and its epoch body is its own function."""
    import inspect

    from ganlib.train import train_epoch
    assert len(inspect.signature(train_gan).parameters) <= 14
    assert len(inspect.getsource(train_gan).splitlines()) <= 80
    body = inspect.getsource(train_gan).split('"""', 2)[2]  # without the signature and docstring
    assert len([line for line in body.splitlines() if line.strip()]) <= 80
    assert len(inspect.getsource(train_epoch).splitlines()) <= 40


# --- the loss is one object ------------------------------------------------------------------

@pytest.mark.parametrize("loss, scores", [(losses.NON_SATURATING, "probability"), ("minimax", "probability"),
                                          (losses.WASSERSTEIN, "raw"), ("hinge", "raw"),
                                          (losses.least_squares(a=-1, b=1, c=0), "raw")])
def test_the_loss_says_how_d_outputs_are_recorded(loss, scores):
    G, D, batches = toy_setup(n=128)
    history = train_gan(G, D, batches, epochs=1, loss=loss, progress=False)
    assert history.scores == scores
    if scores == "probability":
        assert all(0 <= v <= 1 for v in history.records["D(x)"] + history.records["D(G(z))"])


def test_a_critic_loss_records_raw_scores_not_probabilities():
    """A Wasserstein critic's mean score, recorded as it is (a sigmoid would squash it into (0, 1))."""
    G, D, batches = toy_setup(n=128)
    with torch.no_grad():
        D.net[-1].bias.fill_(5.0)  # scores near 5 at first: the first recorded D(x) is far above 1
    history = train_gan(G, D, batches, epochs=1, loss="wasserstein", progress=False,
                        optimizers=(torch.optim.SGD(G.parameters(), lr=0.0), torch.optim.SGD(D.parameters(), lr=0.0)))
    assert history.scores == "raw" and history.records["D(x)"][0] > 1.5


@pytest.mark.parametrize("old", ["d_loss", "g_loss", "scores", "desc", "device", "opt_g", "opt_d", "precision"])
def test_the_old_keywords_are_gone_with_a_type_error(old):
    G, D, batches = toy_setup(n=128)
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{old}'"):
        train_gan(G, D, batches, epochs=1, progress=False, **{old: None})


def test_a_loss_that_is_not_a_gan_loss_is_refused_with_the_names():
    G, D, batches = toy_setup(n=128)
    with pytest.raises(TypeError, match="NON_SATURATING"):
        train_gan(G, D, batches, epochs=1, loss=losses.d_loss_wasserstein, progress=False)
    with pytest.raises(ValueError, match="'non-saturating', 'wasserstein'"):
        train_gan(G, D, batches, epochs=1, loss="wgan", progress=False)


def test_the_fingerprint_records_the_loss_by_name_and_functions(tmp_path):
    G, D, batches = toy_setup(n=128)
    train_gan(G, D, batches, epochs=1, loss=losses.least_squares(a=-1, b=1, c=0), checkpoint=tmp_path / "r.pt",
              progress=False)
    fingerprint = read_checkpoint(tmp_path / "r.pt")["fingerprint"]
    assert fingerprint["loss"] == "least squares (a=-1, b=1, c=0)" and fingerprint["scores"] == "raw"
    assert fingerprint["d_loss"] == "d_loss_least_squares(a=-1, b=1)"
    with pytest.raises(ValueError, match="c=1"):  # other targets: another run
        train_gan(G, D, batches, epochs=2, loss=losses.LEAST_SQUARES, checkpoint=tmp_path / "r.pt", progress=False)


# --- the other settings --------------------------------------------------------------------

def test_training_runs_where_the_generator_is_and_d_must_be_there_too():
    G, D, batches = toy_setup(n=128)
    D.to("meta")
    with pytest.raises(ValueError, match="generator is on cpu but the discriminator on meta"):
        train_gan(G, D, batches, epochs=1, progress=False)


def test_optimizers_come_as_one_pair():
    G, D, batches = toy_setup(n=128)
    with pytest.raises(TypeError, match=r"pair \(opt_g, opt_d\)"):
        train_gan(G, D, batches, epochs=1, optimizers=adam(G), progress=False)
    with pytest.raises(ValueError, match="swap"):
        train_gan(G, D, batches, epochs=1, optimizers=(adam(D), adam(G)), progress=False)


def test_progress_takes_a_label_and_mixed_precision_rides_with_the_callbacks(capsys):
    from ganlib.train import MixedPrecision

    G, D, batches = toy_setup(n=128)
    precision = MixedPrecision(torch.device("cpu"), enabled=False)
    seen = []

    class Spy(Callback):
        def on_train_begin(self, run):
            seen.append(run.precision)

    train_gan(G, D, batches, epochs=1, callbacks=[precision, Spy()], progress="ring GAN")
    assert seen == [precision]
    assert "ring GAN" in capsys.readouterr().err
    with pytest.raises(TypeError, match="progress"):
        train_gan(G, D, batches, epochs=1, progress=None)
    with pytest.raises(ValueError, match="one MixedPrecision"):
        train_gan(G, D, batches, epochs=1, callbacks=[precision, MixedPrecision.emulated()], progress=False)
