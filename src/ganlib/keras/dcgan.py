"""Chapter 5's DCGAN in Keras: the same layers as ``ganlib.models.DCGANGenerator``
and ``DCGANDiscriminator`` (images NHWC, (28, 28, 1), in [-1, 1]).

Trained with ``ganlib.keras.GAN`` (its ``train_step`` runs the D and G steps).
Batch norm uses PyTorch's settings (momentum 0.1 in PyTorch's convention is
``momentum=0.9`` in Keras's; epsilon 1e-5), so the two companions match.
"""
from __future__ import annotations

import keras
from keras import layers


def dcgan_initializers():
    """DCGAN's initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    return (keras.initializers.RandomNormal(0.0, 0.02), keras.initializers.RandomNormal(1.0, 0.02))


def _batchnorm(use_batchnorm: bool, gamma_init):
    if not use_batchnorm:
        return []
    return [layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=gamma_init)]


def dcgan_generator(latent_dim: int = 100, width: int = 64, channels: int = 1,
                    use_batchnorm: bool = True, name: str = "dcgan_generator") -> keras.Model:
    """z (latent_dim) -> (7, 7, 2w) -> (14, 14, w) -> (28, 28, channels) tanh.

    ``channels=1`` for MNIST: a 3-channel output (as in some tutorials) cannot
    be compared with 1-channel real digits by the discriminator.
    """
    if latent_dim < 1 or width < 1 or channels < 1:
        raise ValueError("latent_dim, width and channels must be positive integers")
    w_init, g_init = dcgan_initializers()
    bias = not use_batchnorm
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Reshape((1, 1, latent_dim)),
        layers.Conv2DTranspose(2 * width, 7, strides=1, padding="valid", use_bias=bias,
                               kernel_initializer=w_init),                      # 1 -> 7
        *_batchnorm(use_batchnorm, g_init), layers.ReLU(),
        layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=bias,
                               kernel_initializer=w_init),                      # 7 -> 14
        *_batchnorm(use_batchnorm, g_init), layers.ReLU(),
        layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                               kernel_initializer=w_init, activation="tanh"),   # 14 -> 28
    ], name=name)


def dcgan_discriminator(width: int = 64, channels: int = 1, use_batchnorm: bool = True,
                        name: str = "dcgan_discriminator") -> keras.Model:
    """(28, 28, channels) -> strided convs 28 -> 14 -> 7 -> one logit. No pooling,
    LeakyReLU(0.2), batch norm on the second convolution only (never on the input layer)."""
    if width < 1 or channels < 1:
        raise ValueError("width and channels must be positive integers")
    w_init, g_init = dcgan_initializers()
    return keras.Sequential([
        keras.Input((28, 28, channels)),
        layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=w_init),  # 28 -> 14
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=not use_batchnorm,
                      kernel_initializer=w_init),                                       # 14 -> 7
        *_batchnorm(use_batchnorm, g_init), layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, 7, padding="valid", kernel_initializer=w_init),               # 7 -> 1
        layers.Flatten(),                                                               # the logit
    ], name=name)
