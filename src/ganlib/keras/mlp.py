"""Chapter 4's MLP GAN in Keras: the same layers as ``ganlib.models.MLPGenerator``
and ``MLPDiscriminator`` (images NHWC, (28, 28, 1), in [-1, 1])."""
from __future__ import annotations

import math

import keras
from keras import layers


def mlp_generator(latent_dim: int = 100, hidden=(256, 512), out_shape=(28, 28, 1),
                  name: str = "mlp_generator") -> keras.Model:
    """z (latent_dim) -> Dense 256 -> Dense 512 -> Dense 784 tanh -> (28, 28, 1)."""
    model = keras.Sequential([keras.Input((latent_dim,))], name=name)
    for width in hidden:
        model.add(layers.Dense(width))
        model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(layers.Dense(math.prod(out_shape), activation="tanh"))
    model.add(layers.Reshape(out_shape))
    return model


def mlp_discriminator(in_shape=(28, 28, 1), hidden=(512, 256),
                      name: str = "mlp_discriminator") -> keras.Model:
    """(28, 28, 1) image -> Dense 512 -> Dense 256 -> one logit (no sigmoid: the loss applies it)."""
    model = keras.Sequential([keras.Input(in_shape), layers.Flatten()], name=name)
    for width in hidden:
        model.add(layers.Dense(width))
        model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(layers.Dense(1))
    return model
