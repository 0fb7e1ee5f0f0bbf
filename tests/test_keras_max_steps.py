"""GANLIB_MAX_STEPS on the Keras side: ``GAN.fit`` stops after N batches, as
``ganlib.train_gan`` does (issue 15's capped full-profile run)."""
import pytest
import torch

import ganlib
from ganlib.data import ImageData

gk = pytest.importorskip("ganlib.keras")
keras = gk.keras


def tiny_data(n=128):
    gen = torch.Generator().manual_seed(0)
    return ImageData(torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1, torch.arange(n) % 10, "fake", "test")


def small_gan():
    keras.utils.set_random_seed(0)
    gan = gk.GAN(gk.mlp_generator(hidden=(8,)), gk.mlp_discriminator(hidden=(8,)), latent_dim=100, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def run(epochs=3, callbacks=(), snapshot_every=1):
    gan = small_gan()
    monitor = gk.GanMonitor(ganlib.fixed_noise(4, 100), snapshot_every=snapshot_every)
    fit = gan.fit(gk.mnist_dataset(tiny_data(), 32, seed=0), epochs=epochs, verbose=0,
                  callbacks=[monitor, *callbacks])  # 4 batches an epoch
    return gan, monitor.history, fit


def test_the_variable_caps_fit_mid_epoch(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_MAX_STEPS", "3")
    gan, history, fit = run(epochs=3, snapshot_every=2)
    assert len(history) == 3 and history.records["step"] == [1, 2, 3] and history.records["epoch"] == [1] * 3
    assert int(gan.d_optimizer.iterations.numpy()) == 3 and int(gan.g_optimizer.iterations.numpy()) == 3
    assert len(fit.history["loss_D"]) == 1                      # one (partial) epoch, then stop
    assert history.steps_per_epoch == 4                         # the planned epoch, not the capped one
    assert [s for s, _ in history.snapshots] == [0, 3]          # the capped generator is shown
    assert "Stopped early: capped at 3 steps (GANLIB_MAX_STEPS)" in capsys.readouterr().out
    assert ganlib.capped_steps(4 * 3) == 3 and ganlib.capped_steps(2) == 2  # what the notebooks assert


def test_a_cap_across_epochs_counts_every_batch(monkeypatch):
    monkeypatch.setenv("GANLIB_MAX_STEPS", "6")
    gan, history, fit = run(epochs=3)
    assert len(history) == 6 and history.records["epoch"] == [1] * 4 + [2] * 2
    assert len(fit.history["loss_D"]) == 2


def test_a_cap_above_the_run_changes_nothing(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_MAX_STEPS", "100")
    _, history, _ = run(epochs=2)
    assert len(history) == 8
    assert "Stopped early" not in capsys.readouterr().out


def test_unset_or_empty_adds_no_cap(monkeypatch):
    monkeypatch.delenv("GANLIB_MAX_STEPS", raising=False)
    assert gk.MaxSteps.from_env() is None and ganlib.capped_steps(12) == 12
    _, history, _ = run(epochs=2)
    assert len(history) == 8
    monkeypatch.setenv("GANLIB_MAX_STEPS", "  ")
    assert gk.MaxSteps.from_env() is None


@pytest.mark.parametrize("raw", ["three", "0", "-2", "1.5"])
def test_a_bad_value_stops_fit_with_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("GANLIB_MAX_STEPS", raw)
    gan = small_gan()
    with pytest.raises(ValueError, match="GANLIB_MAX_STEPS=.*positive whole number"):
        gan.fit(gk.mnist_dataset(tiny_data(), 32), epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations.numpy()) == 0  # refused before any step


def test_an_explicit_callback_caps_without_the_variable_and_is_not_doubled(monkeypatch):
    monkeypatch.delenv("GANLIB_MAX_STEPS", raising=False)
    _, history, _ = run(epochs=2, callbacks=[gk.MaxSteps(5)])
    assert len(history) == 5
    monkeypatch.setenv("GANLIB_MAX_STEPS", "2")
    _, history, _ = run(epochs=2, callbacks=[gk.MaxSteps(5)])  # the explicit one wins
    assert len(history) == 5
    for bad in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match="positive int"):
            gk.MaxSteps(bad)


def test_the_cap_counts_steps_per_fit_call(monkeypatch):
    monkeypatch.setenv("GANLIB_MAX_STEPS", "2")
    gan = small_gan()
    monitor = gk.GanMonitor(ganlib.fixed_noise(4, 100))
    ds = gk.mnist_dataset(tiny_data(), 32, seed=0)
    for _ in range(2):
        gan.fit(ds, epochs=5, verbose=0, callbacks=[monitor])
    assert monitor.history.records["step"] == [1, 2, 3, 4]
    assert int(gan.g_optimizer.iterations.numpy()) == 4


def test_timings_record_the_capped_fit_like_the_pytorch_side(monkeypatch, tmp_path):
    import json

    path = tmp_path / "steps.jsonl"
    monkeypatch.setenv("GANLIB_MAX_STEPS", "3")
    monkeypatch.setenv("GANLIB_TIMINGS", str(path))
    monkeypatch.setenv("GANLIB_NOTEBOOK", "04_mlp_gan_keras")
    gan, history, _ = run(epochs=3)
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["notebook"] == "04_mlp_gan_keras" and record["framework"] == "keras"
    assert (record["steps_per_epoch"], record["epochs"], record["first_step"]) == (4, 3, 0)
    assert (record["steps_done"], record["timed_steps"]) == (3, 2) and record["seconds_per_step"] > 0
    assert record["g_params"] == gan.generator.count_params() and record["generator"] == gan.generator.name
    monkeypatch.delenv("GANLIB_TIMINGS")
    run(epochs=1)
    assert len(path.read_text().splitlines()) == 1  # unset: nothing written
