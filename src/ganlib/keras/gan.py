"""A GAN as a ``keras.Model`` with its own ``train_step``, and a callback that
records the run as a ``ganlib.History``.

``GAN.train_step`` is split into small methods so later chapters change one
piece and keep the rest:

- ``unpack(data)``                      -> (real images, labels or None)
- ``sample_noise(batch_size)``          -> latent vectors
- ``generator_inputs(z, labels)``       -> what G is called on (``[z, y]`` if conditional)
- ``discriminator_inputs(x, labels)``   -> what D is called on
- ``d_step(real, labels)``              -> dict of D's statistics (override for n_critic, penalties)
- ``g_step(batch_size, labels)``        -> dict with ``g_loss``

Losses are functions of logits, like ``ganlib.losses``:
``d_loss_fn(real_logits, fake_logits)`` and ``g_loss_fn(fake_logits)``.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..train import History
from .data import generate, to_torch_images


def d_loss_minimax(real_logits, fake_logits):
    """-(E[log D(x)] + E[log(1 - D(G(z)))]) on logits (binary cross-entropy, real=1, fake=0)."""
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def g_loss_nonsaturating(fake_logits):
    """-E[log D(G(z))] on logits: the generator loss used in practice."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


def g_loss_saturating(fake_logits):
    """E[log(1 - D(G(z)))] on logits: the generator's side of the original minimax game."""
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


class GAN(keras.Model):
    """Generator + discriminator trained by ``fit`` with alternating steps.

    Each ``train_step`` (one batch): a discriminator step on real and generated
    images, then a generator step on fresh noise. Separate optimizers; the
    metrics ``d_loss``, ``g_loss``, ``d_real`` (mean D(x)) and ``d_fake``
    (mean D(G(z))) appear in Keras's progress bar and ``fit``'s history. With
    ``scores="raw"`` (Wasserstein critics) ``d_real``/``d_fake`` are mean raw
    scores instead of probabilities.

    Example::

        gan = GAN(mlp_generator(), mlp_discriminator(), latent_dim=100)
        gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        gan.fit(mnist_dataset(ganlib.load_mnist("train"), 64), epochs=5,
                callbacks=[GanMonitor(ganlib.fixed_noise(64, 100))])

    Conditional GANs: ``conditional=True`` reads ``(images, labels)`` batches
    and calls ``G([z, y])`` and ``D([x, y])``.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int, *,
                 conditional: bool = False, scores: str = "probability", seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if scores not in ("probability", "raw"):
            raise ValueError("scores must be 'probability' (sigmoid of logits) or 'raw' (critic scores)")
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.conditional = conditional
        self.scores = scores
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        # This step's values (not epoch means), read by GanMonitor for per-step curves.
        self.step_values = {k: tf.Variable(0.0, trainable=False, name=f"last_{k}")
                            for k in ("d_loss", "g_loss", "d_real", "d_fake")}

    def compile(self, g_optimizer, d_optimizer, d_loss_fn=d_loss_minimax,
                g_loss_fn=g_loss_nonsaturating, **kwargs):
        """Set both optimizers and the two losses (defaults: minimax D, non-saturating G)."""
        super().compile(**kwargs)
        if g_optimizer is d_optimizer:
            raise ValueError("give G and D separate optimizer objects: each keeps its own state")
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.d_loss_fn, self.g_loss_fn = d_loss_fn, g_loss_fn

    def fit(self, *args, **kwargs):
        # tf.data datasets shuffle themselves (mnist_dataset does); Keras warns if asked again.
        kwargs.setdefault("shuffle", False)
        return super().fit(*args, **kwargs)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def call(self, z, training=False):
        """Calling the GAN generates: ``gan(z)`` is ``generator(z)``."""
        return self.generator(z, training=training)

    # --- the pieces of one training step -------------------------------------

    def unpack(self, data):
        if isinstance(data, (tuple, list)):
            real, labels = data[0], (data[1] if len(data) > 1 else None)
        else:
            real, labels = data, None
        if self.conditional and labels is None:
            raise ValueError("conditional=True needs (images, labels) batches: "
                             "mnist_dataset(data, batch_size, with_labels=True)")
        return real, (labels if self.conditional else None)

    def sample_noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def generator_inputs(self, z, labels):
        return z if labels is None else [z, labels]

    def discriminator_inputs(self, x, labels):
        return x if labels is None else [x, labels]

    def score(self, logits):
        return tf.reduce_mean(tf.sigmoid(logits) if self.scores == "probability" else logits)

    def d_step(self, real, labels):
        """One discriminator update: raise D on real images, lower it on generated ones."""
        z = self.sample_noise(tf.shape(real)[0])
        fake = self.generator(self.generator_inputs(z, labels), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self.discriminator_inputs(real, labels), training=True)
            fake_logits = self.discriminator(self.discriminator_inputs(fake, labels), training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        return {"d_loss": d_loss, "d_real": self.score(real_logits), "d_fake": self.score(fake_logits)}

    def g_step(self, batch_size, labels):
        """One generator update on fresh noise: make D call the fakes real."""
        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(z, labels), training=True)
            fake_logits = self.discriminator(self.discriminator_inputs(fake, labels), training=True)
            g_loss = self.g_loss_fn(fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"g_loss": g_loss}

    def train_step(self, data):
        real, labels = self.unpack(data)
        stats = self.d_step(real, labels)
        stats.update(self.g_step(tf.shape(real)[0], labels))
        return self.record(stats)

    def record(self, stats):
        """Update the epoch-mean metrics and this step's values; return the progress-bar dict."""
        trackers = {"d_loss": self.d_loss_tracker, "g_loss": self.g_loss_tracker,
                    "d_real": self.d_real_tracker, "d_fake": self.d_fake_tracker}
        for key, tracker in trackers.items():
            if key in stats:
                value = tf.cast(stats[key], "float32")
                tracker.update_state(value)
                self.step_values[key].assign(value)
        return {m.name: m.result() for m in self.metrics}


class GanMonitor(keras.callbacks.Callback):
    """Record a Keras GAN run as a ``ganlib.History``.

    After every batch it appends that step's ``loss_D``, ``loss_G``, ``D(x)``,
    ``D(G(z))``; every ``snapshot_every`` epochs it generates from the fixed
    ``noise`` (a torch tensor or array; pass ``ganlib.fixed_noise(64, 100)`` to
    show the same latent vectors as a PyTorch run). Afterwards
    ``monitor.history.plot()`` and ``ganlib.plot_snapshots(monitor.history)``
    draw it like any ganlib run. The monitor keeps its history across ``fit`` calls.
    """

    def __init__(self, noise, labels=None, snapshot_every: int = 1):
        super().__init__()
        if snapshot_every < 1:
            raise ValueError(f"snapshot_every must be at least 1 epoch, got {snapshot_every}")
        self.noise = np.asarray(noise.detach().cpu().numpy() if hasattr(noise, "detach") else noise,
                                dtype=np.float32)
        self.labels = labels
        self.snapshot_every = snapshot_every
        self.history = History()
        self.step = 0
        self.epoch = 0

    def _snapshot(self):
        images = generate(self.model.generator, self.noise, self.labels)
        self.history.snapshots.append((self.step, to_torch_images(images)))

    def on_train_begin(self, logs=None):
        if not isinstance(self.model, GAN):
            raise TypeError("GanMonitor records ganlib.keras.GAN models only")
        self.history.scores = self.model.scores
        if not self.history.snapshots:
            self._snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        values = {k: float(v.numpy()) for k, v in self.model.step_values.items()}
        rec = self.history.records
        for key, value in (("step", self.step), ("epoch", self.epoch + 1), ("loss_D", values["d_loss"]),
                           ("loss_G", values["g_loss"]), ("D(x)", values["d_real"]),
                           ("D(G(z))", values["d_fake"])):
            rec[key].append(value)

    def on_epoch_end(self, epoch, logs=None):
        if not self.history.steps_per_epoch:
            self.history.steps_per_epoch = self.step
        if (epoch + 1) % self.snapshot_every == 0:
            self._snapshot()
