"""A GAN as a ``keras.Model`` with its own ``train_step``, a callback that
records the run as a ``ganlib.History``, and one that caps the run's steps.

The Keras counterpart of ``ganlib.train``, under the same names where the two
sides do the same thing: the losses of :mod:`ganlib.keras.losses`, the history
keys ``ganlib.train.RECORD_KEYS`` (``loss_D``, ``loss_G``, ``D(x)``, ``D(G(z))``
are also the names of ``fit``'s metrics), :func:`split_batch` and :class:`MaxSteps`.

``GAN.train_step`` is split into small methods so later chapters change one
piece and keep the rest:

- ``split_batch(data)``                 -> (real images, labels or None), as in ``train_gan``
- ``check_labels(labels)``              -> the labels G and D see (None unless conditional)
- ``sample_noise(batch_size)``          -> latent vectors
- ``generator_inputs(z, labels)``       -> what G is called on (``[z, y]`` if conditional)
- ``discriminator_inputs(x, labels)``   -> what D is called on
- ``d_step(real, labels)``              -> dict of D's statistics (loss, penalty, scores)
- ``g_step(batch_size, labels)``        -> dict with ``loss_G``

The loss is a :class:`ganlib.losses.GANLoss`, as for ``train_gan``: D's loss
``d_loss(real_out, fake_out)`` and G's loss ``g_loss(fake_out)`` on logits (or raw
critic scores), and what D's outputs mean; an optional ``penalty(critic_fn, real, fake)``
is added to D's loss.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ..data import split_batch
from ..profile import MAX_STEPS_ENV, NOTEBOOK_ENV, max_steps, timings_file
from ..train.history import RECORD_KEYS, History
from .data import generate, to_torch_images
from .losses import NON_SATURATING, gan_loss

# split_batch is the function ganlib.train_gan uses (ganlib.data; plain Python on a tuple, so it
# splits TensorFlow batches as it splits torch ones): one function, both sides.
__all__ = ["GAN", "GanMonitor", "MaxSteps", "StepTimes", "split_batch"]

STEP_KEYS = RECORD_KEYS[2:]  # loss_D, loss_G, D(x), D(G(z)): one value per step
FLUSH_EVERY = 50  # steps between reading the recorded values back from the device, as train_gan does


class GAN(keras.Model):
    """Generator + discriminator trained by ``fit`` with alternating steps.

    Each ``train_step`` (one batch): ``n_critic`` discriminator steps on the real
    batch and fresh fakes, then a generator step on fresh noise. Separate
    optimizers; the metrics ``loss_D``, ``loss_G``, ``D(x)`` and ``D(G(z))`` (the
    keys of a ``ganlib.History``) appear in Keras's progress bar and ``fit``'s
    history. ``D(x)``/``D(G(z))`` are mean probabilities, or mean raw scores when
    the compiled loss says D's outputs are raw (``loss=WASSERSTEIN``, a critic).

    Example::

        gan = GAN(mlp_generator(), mlp_discriminator(), latent_dim=100)
        gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        gan.fit(mnist_dataset(ganlib.load_mnist("train"), 64), epochs=5,
                callbacks=[GanMonitor(ganlib.fixed_noise(64, 100))])

    Conditional GANs: ``conditional=True`` reads ``(images, labels)`` batches
    and calls ``G([z, y])`` and ``D([x, y])`` (``ConditionalGAN`` sets it).
    ``n_critic`` critic steps per batch all use that batch's real images (the
    PyTorch ``train_gan`` instead takes one batch per critic step; both are common).
    When ``GANLIB_MAX_STEPS`` is set, ``fit`` stops after that many batches (:class:`MaxSteps`);
    when ``GANLIB_TIMINGS`` is set, it times its steps (:class:`StepTimes`), as ``train_gan`` does.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int, *,
                 conditional: bool = False, n_critic: int = 1, seed: int | None = None, **kwargs):
        if "scores" in kwargs:
            raise TypeError("GAN() takes no scores=...: the loss given to compile() says what D's outputs "
                            "are (loss=gk.WASSERSTEIN records raw critic scores, gk.NON_SATURATING probabilities)")
        super().__init__(**kwargs)
        if not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        if not isinstance(n_critic, (int, np.integer)) or isinstance(n_critic, bool) or n_critic < 1:
            raise ValueError(f"n_critic must be a whole number of at least 1, got {n_critic!r}")
        if not isinstance(conditional, bool):
            raise TypeError(f"conditional must be True or False, got {conditional!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.conditional = conditional
        self.gan_loss = None  # set by compile
        self.n_critic = int(n_critic)
        self.seed_generator = keras.random.SeedGenerator(seed)
        # One Mean per history key: Keras shows them and resets them every epoch.
        self.trackers = {key: keras.metrics.Mean(name=key) for key in STEP_KEYS}
        self.penalty_tracker = keras.metrics.Mean(name="penalty")  # shown when compiled with a penalty
        # This step's values (not epoch means), read by GanMonitor for per-step curves.
        self.step_values = {key: tf.Variable(0.0, trainable=False, name=f"last_{key}")
                            for key in STEP_KEYS}
        self.penalty = None

    def compile(self, g_optimizer, d_optimizer, loss=NON_SATURATING, penalty=None, **kwargs):
        """Set both optimizers, the loss (a :class:`~ganlib.losses.GANLoss` of
        :mod:`ganlib.keras.losses` or its name; default the non-saturating GAN) and an
        optional ``penalty(critic_fn, real, fake)`` added to D's loss, as in
        ``ganlib.train_gan(loss=..., penalty=...)``."""
        for old in ("d_loss", "g_loss", "d_loss_fn", "g_loss_fn", "scores"):
            if old in kwargs:
                raise TypeError(f"compile() takes loss=... (a GANLoss holding D's loss, G's loss and what D's "
                                f"outputs mean, e.g. loss=gk.WASSERSTEIN, or its name), not {old}=...")
        loss = gan_loss(loss)
        super().compile(**kwargs)
        if g_optimizer is d_optimizer:
            raise ValueError("give G and D separate optimizer objects: each keeps its own state")
        if penalty is not None and not callable(penalty):
            raise TypeError(f"penalty must be a function penalty(critic_fn, real, fake), e.g. "
                            f"gk.gp_penalty(10.0), got {penalty!r}")
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.gan_loss, self.penalty = loss, penalty

    @property
    def scores(self) -> str | None:
        """What D's outputs are, as the compiled loss says: "probability" or "raw" (None before compile)."""
        return None if self.gan_loss is None else self.gan_loss.scores

    def fit(self, *args, callbacks=None, **kwargs):
        """``keras.Model.fit``; ``GANLIB_MAX_STEPS`` adds a :class:`MaxSteps` and
        ``GANLIB_TIMINGS`` a :class:`StepTimes` (unless one is given)."""
        # tf.data datasets shuffle themselves (mnist_dataset does); Keras warns if asked again.
        kwargs.setdefault("shuffle", False)
        callbacks = list(callbacks or [])
        for kind in (MaxSteps, StepTimes):  # StepTimes last: the others' work counts in a step's time
            extra = kind.from_env()
            if extra is not None and not any(isinstance(cb, kind) for cb in callbacks):
                callbacks.append(extra)
        return super().fit(*args, callbacks=callbacks, **kwargs)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return list(self.trackers.values()) + ([self.penalty_tracker] if self.penalty is not None else [])

    def call(self, inputs, training=False):
        """Calling the GAN generates: ``gan(z)`` is ``generator(z)`` (``gan([z, y])`` if conditional)."""
        return self.generator(inputs, training=training)

    # --- the pieces of one training step -------------------------------------

    def check_labels(self, labels):
        """The labels G and D are given: None for an unconditional GAN (a batch's
        labels are ignored), (N,) int32 class ids for a conditional one."""
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError(f"{type(self).__name__} is conditional and needs (images, labels) batches: "
                             "mnist_dataset(data, batch_size, with_labels=True)")
        return tf.cast(tf.reshape(labels, [-1]), "int32")

    def sample_noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def generator_inputs(self, z, labels):
        return z if labels is None else [z, labels]

    def discriminator_inputs(self, x, labels):
        return x if labels is None else [x, labels]

    def score(self, outputs):
        return tf.reduce_mean(tf.sigmoid(outputs) if self.scores == "probability" else outputs)

    def d_step(self, real, labels):
        """One discriminator update: raise D on real images, lower it on generated ones."""
        z = self.sample_noise(tf.shape(real)[0])
        fake = self.generator(self.generator_inputs(z, labels), training=True)  # outside the tape: no grad to G

        def critic(x):  # D with this batch's labels bound, as the penalty needs it
            return self.discriminator(self.discriminator_inputs(x, labels), training=True)

        with tf.GradientTape() as tape:
            real_out, fake_out = critic(real), critic(fake)
            loss = self.gan_loss.d_loss(real_out, fake_out)
            stats = {}
            if self.penalty is not None:
                stats["penalty"] = self.penalty(critic, real, fake)
                loss = loss + stats["penalty"]
        grads = tape.gradient(loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        return {"loss_D": loss, "D(x)": self.score(real_out), "D(G(z))": self.score(fake_out), **stats}

    def g_step(self, batch_size, labels):
        """One generator update on fresh noise: make D call the fakes real."""
        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(z, labels), training=True)
            fake_out = self.discriminator(self.discriminator_inputs(fake, labels), training=True)
            loss = self.gan_loss.g_loss(fake_out)
        grads = tape.gradient(loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"loss_G": loss}

    def train_step(self, data):
        real, labels = split_batch(data)
        labels = self.check_labels(labels)
        for _ in range(self.n_critic):  # a Python loop: unrolled once when traced
            stats = self.d_step(real, labels)
        stats.update(self.g_step(tf.shape(real)[0], labels))
        return self.record(stats)

    def record(self, stats):
        """Update the epoch-mean metrics and this step's values; return the progress-bar dict."""
        trackers = {m.name: m for m in self.metrics}
        for key, value in stats.items():
            value = tf.cast(value, "float32")
            if key in self.step_values:
                self.step_values[key].assign(value)
            if key in trackers:
                trackers[key].update_state(value)
        return {m.name: m.result() for m in self.metrics}


class MaxSteps(keras.callbacks.Callback):
    """Stop ``fit`` after ``steps`` batches (``GANLIB_MAX_STEPS`` adds one to every
    ``GAN.fit``): the Keras counterpart of ``ganlib.train.MaxSteps``.

    Used to execute every full-profile branch in CI with full-size data and
    networks but only a few steps of training. Steps are counted in this ``fit``
    call; the epoch in progress ends at once (its ``on_epoch_end`` still runs).
    """

    def __init__(self, steps: int):
        super().__init__()
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        self.steps = steps
        self.stopped = False

    @classmethod
    def from_env(cls) -> "MaxSteps | None":
        """A ``MaxSteps`` from ``GANLIB_MAX_STEPS`` (None when unset); a clear error when malformed.

        The variable is read by ``ganlib.profile.max_steps``: one parser and one error
        message for both sides; ``ganlib.capped_steps(n)`` says how many steps a
        capped run of ``n`` makes.
        """
        steps = max_steps()
        return None if steps is None else cls(steps)

    def on_train_begin(self, logs=None):
        self.done, self.epoch_start, self.stopped = 0, 0, False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = self.done

    def on_train_batch_end(self, batch, logs=None):
        # ``batch`` is the index of the last batch run (several with steps_per_execution).
        self.done = self.epoch_start + batch + 1
        if self.done >= self.steps:
            self.model.stop_training = True
            self.stopped = True

    def on_train_end(self, logs=None):
        planned = (self.params or {}).get("steps")
        epochs = (self.params or {}).get("epochs")
        if self.stopped and not (planned and epochs and self.done >= planned * epochs):
            print(f"Stopped early: capped at {self.steps} steps ({MAX_STEPS_ENV}).")

    def __repr__(self) -> str:
        return f"MaxSteps({self.steps})"


class StepTimes(keras.callbacks.Callback):
    """Append this ``fit``'s size and seconds per step to the JSON-lines file ``path``:
    the Keras counterpart of ``ganlib.train.StepTimes``, writing the same record.

    ``GANLIB_TIMINGS=path`` adds one to every ``GAN.fit``, so the capped full-profile
    run times the Keras companions too. The first step (tracing) is not timed.
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    @classmethod
    def from_env(cls) -> "StepTimes | None":
        path = timings_file()
        return cls(path) if path else None

    def on_train_begin(self, logs=None):
        self.times, self.last, self.done = [], None, 0

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.last is not None:
            self.times.append(now - self.last)
        self.last, self.done = now, self.done + 1

    def on_train_end(self, logs=None):
        params, model = self.params or {}, self.model
        record = {"notebook": os.environ.get(NOTEBOOK_ENV, ""), "framework": "keras",
                  "generator": model.generator.name, "discriminator": model.discriminator.name,
                  "g_params": int(model.generator.count_params()),
                  "d_params": int(model.discriminator.count_params()),
                  "steps_per_epoch": params.get("steps"), "epochs": params.get("epochs"),
                  "first_step": 0, "steps_done": self.done, "timed_steps": len(self.times),
                  "seconds_per_step": float(np.mean(self.times)) if self.times else None}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


class GanMonitor(keras.callbacks.Callback):
    """Record a Keras GAN run as a ``ganlib.History``.

    After every batch it appends that step's ``loss_D``, ``loss_G``, ``D(x)``,
    ``D(G(z))`` (``ganlib.train.RECORD_KEYS``); at the start, every
    ``snapshot_every`` epochs and at the end it generates from the fixed
    ``noise`` (a torch tensor or array; pass ``ganlib.fixed_noise(64, 100)`` to
    show the same latent vectors as a PyTorch run), with ``labels`` for a
    conditional GAN. Afterwards ``monitor.history.plot()`` and
    ``ganlib.plot_snapshots(monitor.history)`` draw it like any ganlib run. The
    monitor keeps its history across ``fit`` calls.
    """

    def __init__(self, noise, labels=None, snapshot_every: int = 1):
        super().__init__()
        if not isinstance(snapshot_every, (int, np.integer)) or snapshot_every < 1:
            raise ValueError(f"snapshot_every must be a whole number of epochs >= 1, got {snapshot_every!r}")
        self.noise = np.asarray(noise.detach().cpu().numpy() if hasattr(noise, "detach") else noise,
                                dtype=np.float32)
        if labels is not None:
            labels = np.asarray(labels.cpu().numpy() if hasattr(labels, "cpu") else labels).astype(np.int32)
            if len(labels) != len(self.noise):
                raise ValueError(f"got {len(labels)} labels for {len(self.noise)} noise vectors: give one each")
        self.labels = labels
        self.snapshot_every = int(snapshot_every)
        self.history = History()
        self.step = 0
        self.epoch = 0
        self.pending = []  # (step, epoch, this step's values still on the device)

    def _snapshot(self):
        if self.history.snapshots and self.history.snapshots[-1][0] == self.step:
            return
        images = generate(self.model.generator, self.noise, self.labels)
        self.history.snapshots.append((self.step, to_torch_images(images)))

    def on_train_begin(self, logs=None):
        if not isinstance(self.model, GAN):
            raise TypeError("GanMonitor records ganlib.keras.GAN models only")
        if self.model.conditional and self.labels is None:
            raise ValueError("this GAN is conditional: give GanMonitor the labels of its snapshots, "
                             "GanMonitor(noise, labels=...)")
        self.history.scores = self.model.scores
        n_critic = getattr(self.model, "n_critic", 1)
        # one Keras step is one batch: all n_critic critic updates and the generator's update
        self.history.step_unit = ("batch (one D and one G update)" if n_critic == 1 else
                                  f"batch ({n_critic} critic updates + 1 G update)")
        if not self.history.steps_per_epoch and (self.params or {}).get("steps"):
            self.history.steps_per_epoch = int(self.params["steps"])
        self._snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # Keep this step's values on the device; read them back in blocks (a GPU waits at every read).
        self.step += 1
        self.pending.append((self.step, self.epoch + 1,
                             tf.stack([self.model.step_values[key].read_value() for key in STEP_KEYS])))
        if len(self.pending) >= FLUSH_EVERY:
            self._flush()

    def _flush(self):
        if not self.pending:
            return
        values = tf.stack([v for _, _, v in self.pending]).numpy()
        for (step, epoch, _), row in zip(self.pending, values):
            record = {"step": step, "epoch": epoch, **dict(zip(STEP_KEYS, row.tolist()))}
            for key in RECORD_KEYS:
                self.history.records[key].append(record[key])
        self.pending = []

    def on_epoch_end(self, epoch, logs=None):
        self._flush()
        if not self.history.steps_per_epoch:
            self.history.steps_per_epoch = self.step
        if (epoch + 1) % self.snapshot_every == 0:
            self._snapshot()

    def on_train_end(self, logs=None):
        self._flush()  # a run stopped mid-epoch (a step cap) keeps its last steps
        self._snapshot()  # the last generator, if no snapshot shows it yet
