"""Chapter 6's conditional GAN in Keras 3: G([z, y]) and D([x, y]).

The same networks as ``ganlib.models.ConditionalGenerator`` and
``ConditionalDiscriminator`` (MLPs; the label enters through a learned
``Embedding`` or a fixed one-hot code, concatenated at the input), and
:class:`ConditionalGAN`, chapter 4's ``GAN`` with ``conditional=True``: its
``train_step`` reads ``(images, labels)`` batches and gives every network call its labels.
"""
from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from .data import generate
from .gan import GAN

LABEL_MODES = ("embedding", "onehot")


def label_code(labels, n_classes: int, mode: str, embed_dim: int | None, name: str):
    """The label's vector: an Embedding row or the one-hot code (a Keras tensor)."""
    if mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {mode!r}")
    if mode == "onehot":
        # Labels arrive as (N,) integers; the one-hot of (N,) is (N, n_classes).
        return layers.Lambda(lambda y: tf.one_hot(tf.cast(y, "int32"), n_classes),
                             output_shape=(n_classes,), name=f"{name}_onehot")(labels)
    return layers.Embedding(n_classes, embed_dim or n_classes, name=f"{name}_embedding")(labels)


def conditional_generator(latent_dim: int = 100, n_classes: int = 10, label_mode: str = "embedding",
                          embed_dim: int | None = None, hidden=(256, 512, 1024),
                          out_shape=(28, 28, 1), name: str = "conditional_generator") -> keras.Model:
    """[z (latent_dim), y (class id)] -> image (28, 28, 1) in [-1, 1].

    The label's code is concatenated to the noise; then Dense + BatchNorm +
    LeakyReLU blocks and a tanh output layer.
    """
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((), dtype="int32", name="label")
    h = layers.Concatenate(name="z_and_label")([z, label_code(y, n_classes, label_mode, embed_dim, "g")])
    for width in hidden:
        h = layers.Dense(width)(h)
        h = layers.BatchNormalization()(h)
        h = layers.LeakyReLU(negative_slope=0.2)(h)
    h = layers.Dense(math.prod(out_shape), activation="tanh")(h)
    return keras.Model([z, y], layers.Reshape(out_shape)(h), name=name)


def conditional_discriminator(n_classes: int = 10, label_mode: str = "embedding",
                              embed_dim: int | None = None, hidden=(512, 256), in_shape=(28, 28, 1),
                              dropout: float = 0.3, name: str = "conditional_discriminator"
                              ) -> keras.Model:
    """[x (28, 28, 1), y (class id)] -> one logit: is x a real image of class y?

    ``label_mode`` "embedding" / "onehot": the label's code is concatenated to the
    flattened image; "projection": the image alone gives features ``h`` and the
    logit is ``Dense(1)(h) + <class_vector(y), h>`` (the projection discriminator).
    """
    if label_mode not in LABEL_MODES + ("projection",):
        raise ValueError(f"label_mode must be one of {LABEL_MODES + ('projection',)}, got {label_mode!r}")
    x = keras.Input(in_shape, name="image")
    y = keras.Input((), dtype="int32", name="label")
    h = layers.Flatten()(x)
    if label_mode != "projection":
        h = layers.Concatenate(name="image_and_label")([h, label_code(y, n_classes, label_mode, embed_dim, "d")])
    for width in hidden:
        h = layers.Dense(width)(h)
        h = layers.LeakyReLU(negative_slope=0.2)(h)
        h = layers.Dropout(dropout)(h)
    logit = layers.Dense(1, name="unconditional_logit")(h)
    if label_mode == "projection":
        class_vector = layers.Embedding(n_classes, hidden[-1], name="class_vectors")(y)
        inner = layers.Dot(axes=1, name="projection")([class_vector, h])
        logit = layers.Add(name="logit")([logit, inner])
    return keras.Model([x, y], logit, name=name)


class ConditionalGAN(GAN):
    """Chapter 4's ``GAN`` with ``conditional=True``: ``fit`` takes ``(images, labels)`` batches.

    Nothing in the training step is new: ``GAN.train_step`` splits each batch,
    and with ``conditional=True`` it gives the labels to every call,
    ``D([x, y])``, ``D([G([z, y]), y])`` and ``G([z, y])``, so G must make digits
    that D accepts *as that class*. This class adds ``n_classes`` and
    :meth:`generate_digits`.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 n_classes: int = 10, **kwargs):
        if kwargs.pop("conditional", True) is not True:
            raise ValueError("a ConditionalGAN is conditional: use GAN for an unconditional model")
        super().__init__(generator, discriminator, latent_dim, conditional=True, **kwargs)
        self.n_classes = int(n_classes)

    def generate_digits(self, digits, noise) -> np.ndarray:
        """Images (NHWC NumPy) of the requested ``digits`` (one per noise vector)."""
        digits = np.asarray(digits.cpu() if hasattr(digits, "cpu") else digits).astype("int32").reshape(-1)
        if len(digits) != len(noise):
            raise ValueError(f"got {len(digits)} digits for {len(noise)} noise vectors: give one each")
        if digits.min() < 0 or digits.max() >= self.n_classes:
            raise ValueError(f"digits must lie in 0..{self.n_classes - 1}, got {digits.min()}..{digits.max()}")
        return generate(self.generator, noise, digits)
