"""The Keras companion helpers: shapes, one real training step, and the promise
that ``import ganlib`` never loads TensorFlow."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import ganlib
from ganlib.data import ImageData


def test_import_ganlib_does_not_import_tensorflow():
    code = ("import sys, ganlib, ganlib.classifier, ganlib.pretrained; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout


gk = pytest.importorskip("ganlib.keras")
keras, tf = gk.keras, gk.tf


def tiny_data(n=64):
    gen = torch.Generator().manual_seed(0)
    return ImageData(torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1, torch.arange(n) % 10, "fake", "test")


def test_mlp_shapes_match_the_pytorch_models():
    G, D = gk.mlp_generator(), gk.mlp_discriminator()
    x = G(np.zeros((3, 100), np.float32))
    assert tuple(x.shape) == (3, 28, 28, 1)
    assert float(tf.reduce_max(tf.abs(x))) <= 1.0
    assert tuple(D(x).shape) == (3, 1)
    torch_g, torch_d = ganlib.models.MLPGenerator(), ganlib.models.MLPDiscriminator()
    assert G.count_params() == ganlib.models.count_parameters(torch_g)
    assert D.count_params() == ganlib.models.count_parameters(torch_d)


def test_mnist_dataset_is_nhwc_batched_and_drops_the_last_batch():
    ds = gk.mnist_dataset(tiny_data(70), batch_size=32)
    batches = list(ds)
    assert len(batches) == 2 and tuple(batches[0].shape) == (32, 28, 28, 1)
    images, labels = next(iter(gk.mnist_dataset(tiny_data(70), 32, with_labels=True)))
    assert labels.dtype == tf.int32 and tuple(labels.shape) == (32,)
    with pytest.raises(ValueError, match="batch_size"):
        gk.mnist_dataset(tiny_data(10), batch_size=64)
    with pytest.raises(TypeError, match="ImageData"):
        gk.mnist_dataset(np.zeros((10, 28, 28, 1)), 2)


def test_image_layout_round_trip():
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(gk.to_torch_images(gk.to_numpy_images(x)), x)


def test_one_train_step_updates_both_networks_and_reports_metrics():
    keras.utils.set_random_seed(0)
    gan = gk.GAN(gk.mlp_generator(), gk.mlp_discriminator(), latent_dim=100, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    monitor = gk.GanMonitor(ganlib.fixed_noise(8, 100))
    fit = gan.fit(gk.mnist_dataset(tiny_data(64), 32), epochs=1, verbose=0, callbacks=[monitor])
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_before, gan.generator.trainable_weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(d_before, gan.discriminator.trainable_weights))
    assert set(fit.history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    # Untrained networks start near D = 1/2, where the D loss is 2 log 2.
    assert abs(fit.history["d_loss"][0] - 2 * np.log(2)) < 0.5
    assert 0 < fit.history["d_real"][0] < 1 and 0 < fit.history["d_fake"][0] < 1
    hist = monitor.history
    assert len(hist) == 2 and hist.records["step"] == [1, 2]
    assert len(hist.snapshots) == 2 and tuple(hist.snapshots[-1][1].shape) == (8, 1, 28, 28)
    fig = hist.plot()
    assert len(fig.axes) == 2


def test_losses_match_ganlib_losses():
    real, fake = np.array([0.3, -1.2, 2.0], np.float32), np.array([-0.5, 0.7, 0.0], np.float32)
    rt, ft = torch.tensor(real), torch.tensor(fake)
    assert np.isclose(float(gk.d_loss_minimax(real, fake)), float(ganlib.losses.d_loss_minimax(rt, ft)), atol=1e-6)
    assert np.isclose(float(gk.g_loss_nonsaturating(fake)), float(ganlib.losses.g_loss_nonsaturating(ft)), atol=1e-6)
    assert np.isclose(float(gk.g_loss_saturating(fake)), float(ganlib.losses.g_loss_saturating(ft)), atol=1e-6)


def test_bad_arguments_raise_clear_errors():
    G, D = gk.mlp_generator(), gk.mlp_discriminator()
    with pytest.raises(ValueError, match="scores"):
        gk.GAN(G, D, latent_dim=100, scores="logits")
    gan = gk.GAN(G, D, latent_dim=100)
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="separate"):
        gan.compile(g_optimizer=opt, d_optimizer=opt)
    with pytest.raises(ValueError, match="NHWC"):
        gk.to_torch_images(np.zeros((28, 28)))


def test_torch_optimizers_work_after_importing_ganlib_keras():
    """Regression: TF loaded before torch._dynamo made torch.optim segfault."""
    import subprocess
    import sys

    code = ("import ganlib.keras, torch; "
            "torch.optim.Adam([torch.zeros(1, requires_grad=True)]); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-500:]
