"""InfoGAN in Keras 3 (chapter 8's companion): a ``GAN`` whose generator step adds
the mutual-information term, computed by a Q head that shares the discriminator's body.

The same design as the PyTorch side (``ganlib.models.infogan``, ``ganlib.recipes.infogan``):

- G's input is ``[z, one_hot(c), u]``: noise, a categorical code of K values and m
  continuous codes in [-1, 1] (:meth:`InfoGAN.sample_codes`);
- D is ``body`` then ``d_head`` (one logit); Q is ``q_head`` on the same body's features;
- D's step is chapter 4's (non-saturating GAN on logits);
- G's step minimises ``g_loss + info_loss(Q(body(G(x))), codes)`` over G's and Q's
  weights with G's optimizer; D's body is not updated by the Q loss.

Example::

    import ganlib, ganlib.keras as gk
    from ganlib.keras.infogan import InfoGAN, infogan_networks
    gan = InfoGAN(*infogan_networks())
    gan.compile(g_optimizer=gk.keras.optimizers.Adam(1e-3, beta_1=0.5),
                d_optimizer=gk.keras.optimizers.Adam(2e-4, beta_1=0.5))
    gan.fit(gk.mnist_dataset(ganlib.load_mnist("train"), 64), epochs=5)
"""
from __future__ import annotations

import math

import keras
import tensorflow as tf
import torch
from keras import layers

from .data import generate, to_torch_images
from .dcgan import dcgan_initializers
from .gan import GAN


def categorical_info_loss(logits, codes):
    """-E[log Q(c | x)]: the cross-entropy of Q's logits (N, K) with the codes (N,)."""
    codes = tf.cast(codes, tf.int32)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=codes, logits=logits))


def gaussian_info_loss(mean, codes, std: float = 1.0):
    """-E[log Q(u | x)] for Q(u | x) = N(mean, std^2 I), summed over the code's dimensions."""
    codes = tf.cast(codes, mean.dtype)
    nll = 0.5 * tf.square((codes - mean) / std) + math.log(std) + 0.5 * math.log(2 * math.pi)
    return tf.reduce_mean(tf.reduce_sum(nll, axis=1))


def info_loss(cat_logits, cont_mean, cat_codes, cont_codes, cat_weight: float = 1.0,
              cont_weight: float = 0.1):
    """InfoGAN's term, as ``ganlib.losses.infogan_info_loss``: lambda_cat x categorical
    cross-entropy + lambda_cont x Gaussian negative log-likelihood."""
    return (cat_weight * categorical_info_loss(cat_logits, cat_codes)
            + cont_weight * gaussian_info_loss(cont_mean, cont_codes))


def infogan_networks(noise_dim: int = 62, n_categories: int = 10, n_continuous: int = 2, width: int = 64,
                     feature_dim: int = 1024, q_hidden: int = 128):
    """(generator, body, d_head, q_head), the layers of ``ganlib.models.infogan`` in Keras (NHWC)."""
    if min(noise_dim, n_categories, width, feature_dim, q_hidden) < 1 or n_continuous < 0:
        raise ValueError("noise_dim, n_categories, width, feature_dim and q_hidden must be positive, "
                         "n_continuous >= 0")
    w_init, g_init = dcgan_initializers()
    bn = lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=g_init)
    generator = keras.Sequential([
        keras.Input((noise_dim + n_categories + n_continuous,)),
        layers.Dense(2 * width * 49, use_bias=False, kernel_initializer=w_init), bn(), layers.ReLU(),
        layers.Reshape((7, 7, 2 * width)),
        layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=w_init), bn(), layers.ReLU(),                 # 7 -> 14
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", kernel_initializer=w_init,
                               activation="tanh"),                                               # 14 -> 28
    ], name="infogan_generator")
    body = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=w_init),        # 28 -> 14
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=False, kernel_initializer=w_init),
        bn(), layers.LeakyReLU(negative_slope=0.2), layers.Flatten(),                          # 14 -> 7
        layers.Dense(feature_dim, use_bias=False, kernel_initializer=w_init), bn(),
        layers.LeakyReLU(negative_slope=0.2),
    ], name="d_body")
    d_head = keras.Sequential([keras.Input((feature_dim,)), layers.Dense(1, kernel_initializer=w_init)],
                              name="d_head")
    q_head = keras.Sequential([
        keras.Input((feature_dim,)),
        layers.Dense(q_hidden, use_bias=False, kernel_initializer=w_init), bn(), layers.LeakyReLU(negative_slope=0.2),
        layers.Dense(n_categories + n_continuous, kernel_initializer=w_init),
    ], name="q_head")
    return generator, body, d_head, q_head


class InfoGAN(GAN):
    """An InfoGAN trained by ``fit``: chapter 4's D step, and a G step with the Q loss.

    ``loss_G`` includes the mutual-information term, as in ``train_gan``;
    ``info_loss`` in the progress bar is that term alone (its categorical part is
    H(c) - L_I, so it falls towards 0 as Q recovers the code).
    """

    def __init__(self, generator: keras.Model, body: keras.Model, d_head: keras.Model, q_head: keras.Model,
                 noise_dim: int = 62, n_categories: int = 10, n_continuous: int = 2, *,
                 cat_weight: float = 1.0, cont_weight: float = 0.1, **kwargs):
        discriminator = keras.Sequential([body, d_head], name="discriminator")
        super().__init__(generator, discriminator, noise_dim + n_categories + n_continuous, **kwargs)
        if self.conditional:
            raise ValueError("InfoGAN learns its codes without labels: build it with conditional=False")
        self.body, self.d_head, self.q_head = body, d_head, q_head
        self.noise_dim, self.n_categories, self.n_continuous = int(noise_dim), int(n_categories), int(n_continuous)
        self.cat_weight, self.cont_weight = float(cat_weight), float(cont_weight)
        self.info_tracker = keras.metrics.Mean(name="info_loss")

    @property
    def metrics(self):
        return super().metrics + [self.info_tracker]

    def sample_codes(self, batch_size):
        """(G's input [z, one_hot(c), u], c, u) for one batch."""
        z = keras.random.normal((batch_size, self.noise_dim), seed=self.seed_generator)
        c = keras.random.randint((batch_size,), 0, self.n_categories, seed=self.seed_generator)
        u = keras.random.uniform((batch_size, self.n_continuous), -1.0, 1.0, seed=self.seed_generator)
        x = tf.concat([z, tf.one_hot(c, self.n_categories, dtype=z.dtype), u], axis=1)
        return x, c, u

    def sample_noise(self, batch_size):
        """The D step's fakes come from full InfoGAN inputs (codes included)."""
        return self.sample_codes(batch_size)[0]

    def g_step(self, batch_size, labels):
        """One update of G and Q: fool D, and let Q read the codes back from the fakes."""
        x, c, u = self.sample_codes(batch_size)
        weights = self.generator.trainable_weights + self.q_head.trainable_weights
        with tf.GradientTape() as tape:
            fake = self.generator(x, training=True)
            features = self.body(fake, training=True)
            adversarial = self.gan_loss.g_loss(self.d_head(features, training=True))
            q_out = self.q_head(features, training=True)
            info = info_loss(q_out[:, :self.n_categories], q_out[:, self.n_categories:], c, u,
                             self.cat_weight, self.cont_weight)
            loss = adversarial + info
        grads = tape.gradient(loss, weights)
        self.g_optimizer.apply_gradients(zip(grads, weights))
        return {"loss_G": loss, "info_loss": info}

    def torch_generator(self) -> "TorchInfoGANGenerator":
        """The generator seen from PyTorch, so that ganlib's InfoGAN metrics
        (``ganlib.metrics.codes.code_steering``) measure it as they measure the PyTorch one."""
        return TorchInfoGANGenerator(self.generator, self.noise_dim, self.n_categories, self.n_continuous)


class TorchInfoGANGenerator(torch.nn.Module):
    """A Keras InfoGAN generator behind the PyTorch ``InfoGANGenerator``'s interface, for measuring
    (inference only: no gradient reaches the Keras weights). It has ``latent_dim`` (the noise size)
    and ``latent_codes``, takes G's input ``[z, one_hot(c), u]`` as a torch tensor and returns
    NCHW images in [-1, 1], run by Keras in inference mode."""

    def __init__(self, generator: keras.Model, noise_dim: int, n_categories: int, n_continuous: int):
        super().__init__()
        self.keras_generator = generator
        self.latent_dim = int(noise_dim)
        self.latent_codes = {"n_categories": int(n_categories), "n_continuous": int(n_continuous)}
        # metrics place their inputs on the module's device (next(parameters())): here always the CPU
        self.device_anchor = torch.nn.Parameter(torch.zeros(0), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = self.latent_dim + self.latent_codes["n_categories"] + self.latent_codes["n_continuous"]
        if x.dim() != 2 or x.shape[1] != expected:
            raise ValueError(f"expected G's inputs of shape (N, {expected}) = [z, one_hot(c), u], "
                             f"got {tuple(x.shape)}")
        return to_torch_images(generate(self.keras_generator, x))
