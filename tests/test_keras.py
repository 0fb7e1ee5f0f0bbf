"""The Keras companion helpers: shapes, one real training step, the promise
that ``import ganlib`` never loads TensorFlow, and parity with the PyTorch side
(same names, same losses and penalties on the same numbers, same history keys).
The step cap (GANLIB_MAX_STEPS) is tested in test_keras_max_steps.py."""
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


def test_mnist_dataset_does_not_autotune():
    # tf.data's autotune thread deadlocked an iterator's destructor in CI (fit() never returned)
    ds = gk.mnist_dataset(tiny_data(70), batch_size=32)
    assert ds.options().autotune.enabled is False
    assert len(list(ds)) == 2 and len(list(ds)) == 2  # and a dataset still iterates twice


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
    # fit's metrics carry the history's names (ganlib.train.RECORD_KEYS)
    assert set(fit.history) == {"loss_D", "loss_G", "D(x)", "D(G(z))"}
    # Untrained networks start near D = 1/2, where the D loss is 2 log 2.
    assert abs(fit.history["loss_D"][0] - 2 * np.log(2)) < 0.5
    assert 0 < fit.history["D(x)"][0] < 1 and 0 < fit.history["D(G(z))"][0] < 1
    hist = monitor.history
    assert tuple(hist.records) == ganlib.train.RECORD_KEYS
    assert len(hist) == 2 and hist.records["step"] == [1, 2] and hist.records["epoch"] == [1, 1]
    assert hist.steps_per_epoch == 2
    # fit's epoch mean is the mean of the steps the monitor recorded
    assert np.isclose(np.mean(hist.records["loss_D"]), fit.history["loss_D"][0], atol=1e-5)
    assert len(hist.snapshots) == 2 and tuple(hist.snapshots[-1][1].shape) == (8, 1, 28, 28)
    fig = hist.plot()
    assert len(fig.axes) == 2


LOGITS = (np.array([0.3, -1.2, 2.0, -40.0], np.float32), np.array([-0.5, 0.7, 0.0, 35.0], np.float32))


@pytest.mark.parametrize("name", ["d_loss_minimax", "d_loss_wasserstein", "d_loss_hinge"])
def test_discriminator_losses_match_ganlib_losses(name):
    real, fake = LOGITS
    ours = float(getattr(gk, name)(real, fake))
    theirs = float(getattr(ganlib.losses, name)(torch.tensor(real), torch.tensor(fake)))
    assert np.isclose(ours, theirs, atol=1e-6), (name, ours, theirs)


@pytest.mark.parametrize("name", ["g_loss_nonsaturating", "g_loss_saturating", "g_loss_wasserstein",
                                  "g_loss_hinge"])
def test_generator_losses_match_ganlib_losses(name):
    fake = LOGITS[1]
    ours, theirs = float(getattr(gk, name)(fake)), float(getattr(ganlib.losses, name)(torch.tensor(fake)))
    assert np.isclose(ours, theirs, atol=1e-6), (name, ours, theirs)


def test_every_pytorch_loss_and_penalty_has_its_keras_namesake():
    names = ["d_loss_minimax", "g_loss_saturating", "g_loss_nonsaturating", "d_loss_wasserstein",
             "g_loss_wasserstein", "d_loss_hinge", "g_loss_hinge", "random_interpolates",
             "gradient_norms", "gradient_penalty", "gp_penalty", "r1_penalty"]
    for name in names:
        assert callable(getattr(ganlib.losses, name)) and getattr(gk, name) is getattr(gk.losses, name)


# --- the gradient penalty: the checks chapter 7's companion makes, as tests ---------------

def _images(seed, n=64):
    return np.random.default_rng(seed).normal(size=(n, 28, 28, 1)).astype("float32")


def _nchw(x):
    return torch.from_numpy(x).permute(0, 3, 1, 2)


def test_gradient_penalty_of_a_linear_critic_matches_pytorch():
    w = np.random.default_rng(0).normal(size=(28, 28, 1)).astype("float32")
    w /= np.linalg.norm(w)
    real, fake = _images(1), _images(2)

    def linear_critic(weights):
        weights = tf.constant(weights.reshape(1, -1))
        return lambda x: tf.reduce_sum(tf.reshape(x, (tf.shape(x)[0], -1)) * weights, axis=1)

    # the gradient of <w, x> is w everywhere: the penalty is 10 (|w| - 1)^2 whatever eps is
    assert abs(float(gk.gradient_penalty(linear_critic(w), real, fake))) < 1e-4
    ours = float(gk.gradient_penalty(linear_critic(3 * w), real, fake))
    w_torch = torch.from_numpy(3 * w).permute(2, 0, 1).flatten()
    theirs = float(ganlib.losses.gradient_penalty(lambda x: (x.flatten(1) * w_torch).sum(1),
                                                  _nchw(real), _nchw(fake)))
    assert abs(ours - 40) < 1e-2 and abs(ours - theirs) < 1e-2
    assert abs(float(gk.gradient_penalty(linear_critic(3 * w), real, fake, weight=1.0)) - 4) < 1e-3
    assert abs(float(gk.gp_penalty(2.5)(linear_critic(3 * w), real, fake)) - 10) < 1e-2


def test_gradient_penalty_stays_finite_where_the_gradient_is_zero():
    real = _images(1, 8)
    zero_critic = lambda x: 0.0 * tf.reduce_sum(x, axis=[1, 2, 3])  # noqa: E731
    weights = tf.Variable(tf.zeros((1, 784)))
    with tf.GradientTape() as tape:
        gp = gk.gradient_penalty(lambda x: tf.reduce_sum(tf.reshape(x, (-1, 784)) * weights, axis=1),
                                 real, real)
    grad = tape.gradient(gp, weights)
    assert abs(float(gp) - 10) < 1e-3 and np.isfinite(grad.numpy()).all()  # sqrt(0) would give NaN
    assert abs(float(gk.gradient_penalty(zero_critic, real, real)) - 10) < 1e-3


def test_gradient_norms_and_r1_match_pytorch_on_the_same_points():
    w = np.random.default_rng(3).normal(size=(28, 28, 1)).astype("float32") / 28
    points = _images(4, 16)
    w_tf, w_torch = tf.constant(w[None]), torch.from_numpy(w).permute(2, 0, 1)[None]

    def critic_tf(x):
        return tf.reduce_sum(tf.tanh(x) * w_tf, axis=[1, 2, 3])

    def critic_torch(x):
        return (torch.tanh(x) * w_torch).sum((1, 2, 3))

    ours = gk.gradient_norms(critic_tf, points).numpy()
    theirs = ganlib.losses.gradient_norms(critic_torch, _nchw(points)).detach().numpy()
    assert ours.shape == (16,) and np.allclose(ours, theirs, rtol=1e-5)
    r1_ours = float(gk.r1_penalty(4.0)(critic_tf, points, None))
    r1_theirs = float(ganlib.losses.r1_penalty(4.0)(critic_torch, _nchw(points), None).detach())
    assert np.isclose(r1_ours, r1_theirs, rtol=1e-5)


def test_random_interpolates_use_one_uniform_weight_per_image():
    points, eps = gk.random_interpolates(np.ones((4000, 28, 28, 1), "float32"),
                                         np.zeros((4000, 28, 28, 1), "float32"))
    points, eps = points.numpy().reshape(4000, -1), eps.numpy()
    assert eps.shape == (4000, 1, 1, 1)
    assert np.allclose(points, eps.reshape(-1, 1))             # one weight per image
    assert eps.min() >= 0 and eps.max() <= 1                    # on the segment
    assert abs(eps.mean() - 0.5) < 0.02 and abs(eps.var() - 1 / 12) < 0.005
    with pytest.raises(ValueError, match="same shape"):
        gk.random_interpolates(np.ones((4, 28, 28, 1), "float32"), np.ones((3, 28, 28, 1), "float32"))


def test_penalty_factories_refuse_bad_weights():
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number >= 0"):
            gk.gp_penalty(bad)
        with pytest.raises(ValueError, match="gamma"):
            gk.r1_penalty(bad)
    with pytest.raises(ValueError, match="does not depend on its input"):
        gk.gradient_norms(lambda x: tf.zeros((4,)), np.ones((4, 3), "float32"))


# --- one function each side ------------------------------------------------------

def test_split_batch_is_the_pytorch_loops_function_and_splits_tf_batches():
    assert gk.split_batch is ganlib.train.split_batch
    images, labels = tf.zeros((4, 28, 28, 1)), tf.constant([1, 2, 3, 4])
    assert gk.split_batch(images) == (images, None)
    x, y = gk.split_batch((images, labels))
    assert x is images and y is labels
    batch = next(iter(gk.mnist_dataset(tiny_data(64), 32, with_labels=True)))
    x, y = gk.split_batch(batch)
    assert tuple(x.shape) == (32, 28, 28, 1) and tuple(y.shape) == (32,)
    assert not hasattr(gk.GAN, "unpack")


def test_the_critic_is_the_discriminator_as_on_the_pytorch_side():
    from ganlib.keras.wgan import mlp_critic

    critic, disc = mlp_critic(), gk.mlp_discriminator()
    assert critic.name == "mlp_critic"
    assert [type(layer) for layer in critic.layers] == [type(layer) for layer in disc.layers]
    assert critic.count_params() == ganlib.models.count_parameters(ganlib.models.MLPCritic())


def test_conditional_networks_match_the_pytorch_ones():
    from ganlib.keras.conditional import conditional_discriminator, conditional_generator
    from ganlib.models import ConditionalDiscriminator, ConditionalGenerator, count_parameters

    for mode in ("embedding", "onehot"):
        g = conditional_generator(label_mode=mode)
        assert sum(int(np.prod(w.shape)) for w in g.trainable_weights) == count_parameters(
            ConditionalGenerator(label_mode=mode))
        d = conditional_discriminator(label_mode=mode)
        assert d.count_params() == count_parameters(ConditionalDiscriminator(label_mode=mode))


# --- the one conditional path ------------------------------------------------------

def _compiled(gan, **kwargs):
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3), **kwargs)
    return gan


def _small_conditional_gan(cls=None, **kwargs):
    from ganlib.keras.conditional import ConditionalGAN, conditional_discriminator, conditional_generator

    cls = cls or ConditionalGAN
    return cls(conditional_generator(hidden=(8,)), conditional_discriminator(hidden=(8,)), latent_dim=100,
               seed=0, **kwargs)


def test_conditional_gan_trains_through_the_one_train_step_and_sees_labels():
    from ganlib.keras.conditional import ConditionalGAN

    assert ConditionalGAN.train_step is gk.GAN.train_step  # no second copy of the step
    gan = _compiled(_small_conditional_gan())
    images, labels = tf.zeros((4, 28, 28, 1)), tf.constant([[0], [3], [9], [9]], "int64")  # (N, 1) int64
    stats = gan.train_step((images, labels))
    assert set(stats) == {"loss_D", "loss_G", "D(x)", "D(G(z))"} and np.isfinite(float(stats["loss_D"]))
    with pytest.raises(ValueError, match="with_labels=True"):
        gan.train_step(images)
    monitor = gk.GanMonitor(ganlib.fixed_noise(10, 100), labels=torch.arange(10))
    ds = gk.mnist_dataset(tiny_data(64), 32, with_labels=True, seed=0)
    gan.fit(ds, epochs=1, verbose=0, callbacks=[monitor])
    assert len(monitor.history) == 2 and tuple(monitor.history.snapshots[-1][1].shape) == (10, 1, 28, 28)
    with pytest.raises(ValueError, match="labels"):
        gan.fit(ds, epochs=1, verbose=0, callbacks=[gk.GanMonitor(ganlib.fixed_noise(10, 100))])
    with pytest.raises(ValueError, match="one each"):
        gk.GanMonitor(ganlib.fixed_noise(10, 100), labels=np.arange(3))
    with pytest.raises(ValueError, match="conditional"):
        ConditionalGAN(gan.generator, gan.discriminator, latent_dim=100, conditional=False)


def test_an_unconditional_gan_ignores_the_labels_of_a_labelled_dataset():
    gan = _compiled(gk.GAN(gk.mlp_generator(hidden=(8,)), gk.mlp_discriminator(hidden=(8,)), latent_dim=100,
                           seed=0))
    fit = gan.fit(gk.mnist_dataset(tiny_data(64), 32, with_labels=True), epochs=1, verbose=0)
    assert np.isfinite(fit.history["loss_D"][0])


def test_the_labels_reach_the_discriminator():
    """A discriminator that reads only the label gets different outputs for different labels."""
    gan = _compiled(_small_conditional_gan())
    images = tf.zeros((4, 28, 28, 1))
    out = [gan.discriminator([images, tf.fill((4,), k)], training=False).numpy() for k in (0, 7)]
    assert not np.allclose(*out)


# --- WGAN-GP: GAN with n_critic, Wasserstein losses and the penalty -----------------

def test_wgangp_makes_n_critic_critic_updates_per_batch_with_the_penalty():
    from ganlib.keras.wgan import WGANGP, mlp_critic

    keras.utils.set_random_seed(0)
    wgan = _compiled(WGANGP(gk.mlp_generator(hidden=(16,)), mlp_critic(hidden=(16,)), latent_dim=100,
                            n_critic=3, seed=0))
    assert wgan.scores == "raw" and wgan.gan_loss is gk.WASSERSTEIN
    assert wgan.gan_loss.d_loss is gk.d_loss_wasserstein and wgan.gan_loss.g_loss is gk.g_loss_wasserstein
    assert WGANGP.train_step is gk.GAN.train_step
    monitor = gk.GanMonitor(ganlib.fixed_noise(4, 100))
    fit = wgan.fit(gk.mnist_dataset(tiny_data(64), 32), epochs=1, verbose=0, callbacks=[monitor])
    assert int(wgan.d_optimizer.iterations.numpy()) == 3 * 2 and int(wgan.g_optimizer.iterations.numpy()) == 2
    assert set(fit.history) == {"loss_D", "loss_G", "D(x)", "D(G(z))", "w_estimate", "penalty"}
    assert fit.history["penalty"][0] > 0
    # one Keras step is one batch of 3 critic updates and a G update; the plots say so
    assert monitor.history.step_unit == "batch (3 critic updates + 1 G update)"
    assert np.isclose(fit.history["w_estimate"][0], fit.history["D(x)"][0] - fit.history["D(G(z))"][0],
                      atol=1e-4)
    assert monitor.history.scores == "raw"
    plain = _compiled(WGANGP(gk.mlp_generator(hidden=(16,)), mlp_critic(hidden=(16,)), latent_dim=100,
                             gp_weight=0))
    assert plain.penalty is None and "penalty" not in [m.name for m in plain.metrics]
    with pytest.raises(ValueError, match="gp_weight|penalty weight"):
        WGANGP(gk.mlp_generator(), mlp_critic(), latent_dim=100, gp_weight=-1)
    with pytest.raises(ValueError, match="n_critic"):
        WGANGP(gk.mlp_generator(), mlp_critic(), latent_dim=100, n_critic=0)


def test_a_conditional_wgangp_binds_the_labels_in_the_penalty():
    from ganlib.keras.wgan import WGANGP

    wgan = _compiled(_small_conditional_gan(WGANGP, conditional=True, n_critic=2))
    stats = wgan.train_step((tf.zeros((4, 28, 28, 1)), tf.constant([1, 2, 3, 4])))
    assert float(stats["penalty"]) > 0 and np.isfinite(float(stats["loss_D"]))


def test_gan_compile_takes_train_gans_loss_object_and_penalty():
    gan = gk.GAN(gk.mlp_generator(hidden=(8,)), gk.mlp_discriminator(hidden=(8,)), latent_dim=100, seed=0)
    assert gan.scores is None  # not compiled yet: no loss says what D's outputs are
    _compiled(gan)
    assert gan.gan_loss is gk.NON_SATURATING and gan.scores == "probability"
    _compiled(gan, loss=gk.HINGE, penalty=gk.r1_penalty(1.0))
    assert gan.scores == "raw"
    stats = gan.train_step(tf.zeros((4, 28, 28, 1)) + 0.5)
    assert "penalty" in stats and float(stats["penalty"]) >= 0
    assert _compiled(gan, loss="wasserstein").gan_loss is gk.WASSERSTEIN   # by name, as train_gan
    for old in ("d_loss", "g_loss", "d_loss_fn", "g_loss_fn", "scores"):
        with pytest.raises(TypeError, match=f"takes loss=.*not {old}="):
            _compiled(gan, **{old: gk.d_loss_minimax})
    with pytest.raises(ValueError, match="'minimax', 'non-saturating', 'wasserstein', 'hinge'"):
        _compiled(gan, loss="binary_crossentropy")
    with pytest.raises(TypeError, match="other framework"):
        _compiled(gan, loss=ganlib.losses.WASSERSTEIN)   # the PyTorch functions
    with pytest.raises(TypeError, match="penalty"):
        _compiled(gan, penalty=10.0)


def test_the_keras_objectives_mirror_the_pytorch_ones():
    for name, loss in gk.losses.GAN_LOSSES.items():
        torch_loss = ganlib.losses.GAN_LOSSES[name]
        assert (loss.name, loss.scores) == (torch_loss.name, torch_loss.scores)
        assert loss.d_loss.__name__ == torch_loss.d_loss.__name__
        assert loss.g_loss.__name__ == torch_loss.g_loss.__name__
        assert gk.gan_loss(name) is loss


def test_bad_arguments_raise_clear_errors():
    G, D = gk.mlp_generator(), gk.mlp_discriminator()
    with pytest.raises(TypeError, match="loss given to compile"):
        gk.GAN(G, D, latent_dim=100, scores="raw")
    with pytest.raises(ValueError, match="n_critic"):
        gk.GAN(G, D, latent_dim=100, n_critic=0)
    with pytest.raises(TypeError, match="conditional"):
        gk.GAN(G, D, latent_dim=100, conditional="yes")
    with pytest.raises(ValueError, match="snapshot_every"):
        gk.GanMonitor(np.zeros((4, 100)), snapshot_every=0)
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


def test_tensorflow_grows_gpu_memory_instead_of_taking_it_all():
    """On a GPU, TensorFlow's default takes all the memory and leaves none for PyTorch in the
    same kernel; ganlib.keras turns on memory growth for every GPU (a fake config here)."""
    calls = []

    class Experimental:
        @staticmethod
        def set_memory_growth(device, enable):
            calls.append((device, enable))
            if device == "GPU:1":
                raise RuntimeError("Physical devices cannot be modified after being initialized")

    class Config:
        experimental = Experimental

        @staticmethod
        def list_physical_devices(kind):
            return ["GPU:0", "GPU:1"] if kind == "GPU" else []

    assert gk.allow_gpu_memory_growth(Config) == ["GPU:0", "GPU:1"]
    assert calls == [("GPU:0", True), ("GPU:1", True)]
