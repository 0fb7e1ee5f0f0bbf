"""WGAN-GP in Keras 3 (chapter 7's companion): a ``GAN`` whose training step
runs ``n_critic`` critic updates with a gradient penalty, then one generator update.

The penalty is the one of ``ganlib.losses.gradient_penalty``: interpolates
x_hat = eps x + (1 - eps) G(z) with one eps ~ Uniform[0, 1] per sample, the
critic's input gradient taken with an inner ``tf.GradientTape``, its norm as
sqrt(sum(g^2) + 1e-12) (never NaN), and weight * mean((norm - 1)^2).

Example::

    import ganlib, ganlib.keras as gk
    from ganlib.keras.wgan import WGANGP, mlp_critic
    wgan = WGANGP(gk.mlp_generator(), mlp_critic(), latent_dim=100, n_critic=5)
    wgan.compile(g_optimizer=gk.keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                 d_optimizer=gk.keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9))
    wgan.fit(gk.mnist_dataset(ganlib.load_mnist("train"), 64), epochs=5)
"""
from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers

from .gan import GAN


def critic_loss(real_scores, fake_scores):
    """E[f(G(z))] - E[f(x)]: minimising it maximises the critic's W-distance estimate."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def generator_loss(fake_scores):
    """-E[f(G(z))]."""
    return -tf.reduce_mean(fake_scores)


def gradient_penalty(critic, real, fake, weight: float = 10.0, training: bool = True):
    """weight * E[(||grad f(x_hat)|| - 1)^2] at random interpolates (one uniform eps per sample)."""
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    batch = tf.shape(real)[0]
    eps_shape = tf.concat([[batch], tf.ones(tf.rank(real) - 1, dtype=tf.int32)], axis=0)
    eps = tf.random.uniform(eps_shape, 0.0, 1.0, dtype=real.dtype)
    points = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(points)
        scores = critic(points, training=training)
    grads = tape.gradient(scores, points)
    axes = tf.range(1, tf.rank(grads))
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return weight * tf.reduce_mean(tf.square(norms - 1.0))


def mlp_critic(in_shape=(28, 28, 1), hidden=(512, 256), name: str = "mlp_critic") -> keras.Model:
    """(28, 28, 1) image -> Dense 512 -> Dense 256 -> one raw score; no normalization layers."""
    model = keras.Sequential([keras.Input(in_shape), layers.Flatten()], name=name)
    for width in hidden:
        model.add(layers.Dense(width))
        model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(layers.Dense(1))
    return model


class WGANGP(GAN):
    """WGAN-GP trained by ``fit``: every step, ``n_critic`` critic updates, then one
    generator update.

    The critic updates of one step share the batch of real images and draw
    fresh noise each time (the PyTorch ``train_gan`` instead takes a new real
    batch per critic update; both are common). ``d_loss`` in the progress bar
    includes the penalty; ``w_estimate`` is E[f(x)] - E[f(G(z))], the critic's
    Wasserstein estimate; ``d_real``/``d_fake`` are mean raw scores.
    """

    def __init__(self, generator: keras.Model, critic: keras.Model, latent_dim: int, *,
                 n_critic: int = 5, gp_weight: float = 10.0, **kwargs):
        kwargs.setdefault("scores", "raw")
        super().__init__(generator, critic, latent_dim, **kwargs)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be at least 1, got {n_critic}")
        if gp_weight < 0 or not math.isfinite(gp_weight):
            raise ValueError(f"gp_weight must be a finite number >= 0, got {gp_weight}")
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight)
        self.w_tracker = keras.metrics.Mean(name="w_estimate")
        self.gp_tracker = keras.metrics.Mean(name="penalty")

    def compile(self, g_optimizer, d_optimizer, d_loss_fn=critic_loss, g_loss_fn=generator_loss,
                **kwargs):
        super().compile(g_optimizer, d_optimizer, d_loss_fn=d_loss_fn, g_loss_fn=g_loss_fn, **kwargs)

    @property
    def metrics(self):
        return super().metrics + [self.w_tracker, self.gp_tracker]

    def d_step(self, real, labels):
        """One critic update: Wasserstein loss plus the gradient penalty."""
        if labels is not None:
            raise ValueError("WGANGP is unconditional: build it with conditional=False")
        z = self.sample_noise(tf.shape(real)[0])
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            real_scores = self.discriminator(real, training=True)
            fake_scores = self.discriminator(fake, training=True)
            penalty = gradient_penalty(self.discriminator, real, fake, self.gp_weight)
            loss = self.d_loss_fn(real_scores, fake_scores) + penalty
        grads = tape.gradient(loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        return {"d_loss": loss, "d_real": self.score(real_scores), "d_fake": self.score(fake_scores),
                "penalty": penalty,
                "w_estimate": tf.reduce_mean(real_scores) - tf.reduce_mean(fake_scores)}

    def train_step(self, data):
        real, labels = self.unpack(data)
        for _ in range(self.n_critic):  # a Python loop: unrolled once when traced
            stats = self.d_step(real, labels)
        stats.update(self.g_step(tf.shape(real)[0], labels))
        self.w_tracker.update_state(stats["w_estimate"])
        self.gp_tracker.update_state(stats["penalty"])
        return self.record(stats)
