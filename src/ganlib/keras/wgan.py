"""WGAN-GP in Keras 3 (chapter 7's companion): chapter 4's ``GAN`` with
``n_critic`` critic updates per batch, the Wasserstein losses, raw critic
scores and the gradient penalty of :func:`ganlib.keras.losses.gradient_penalty`
(interpolates x_hat = eps x + (1 - eps) G(z) with one eps ~ Uniform[0, 1] per
sample, the critic's input gradient from an inner ``tf.GradientTape``, its norm
as sqrt(sum(g^2) + 1e-12), never NaN, and weight * mean((norm - 1)^2)).

Example::

    import ganlib, ganlib.keras as gk
    from ganlib.keras.wgan import WGANGP, mlp_critic
    wgan = WGANGP(gk.mlp_generator(), mlp_critic(), latent_dim=100, n_critic=5)
    wgan.compile(g_optimizer=gk.keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                 d_optimizer=gk.keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9))
    wgan.fit(gk.mnist_dataset(ganlib.load_mnist("train"), 64), epochs=5)
"""
from __future__ import annotations

import keras

from .gan import GAN
from .losses import WASSERSTEIN, d_loss_wasserstein, g_loss_wasserstein, gp_penalty, gradient_penalty  # noqa: F401
from .mlp import mlp_discriminator


def mlp_critic(in_shape=(28, 28, 1), hidden=(512, 256), name: str = "mlp_critic") -> keras.Model:
    """(28, 28, 1) image -> Dense 512 -> Dense 256 -> one raw score; no normalization layers.

    Chapter 4's discriminator (:func:`ganlib.keras.mlp_discriminator`) under a
    critic's name, as ``ganlib.models.MLPCritic`` is ``MLPDiscriminator``: what
    changes is how its output is read (an unbounded score, never a sigmoid).
    """
    return mlp_discriminator(in_shape, hidden, name=name)


class WGANGP(GAN):
    """WGAN-GP trained by ``fit``: every batch, ``n_critic`` critic updates with the
    gradient penalty, then one generator update.

    It is ``GAN(..., n_critic=n_critic)`` compiled with ``loss=WASSERSTEIN``
    (``d_loss_wasserstein``, ``g_loss_wasserstein``, raw scores) and
    ``gp_penalty(gp_weight)`` (no penalty when ``gp_weight`` is 0). The critic updates of one step share
    the batch of real images and draw fresh noise each time. ``loss_D`` in the
    progress bar includes the penalty; ``w_estimate`` is E[f(x)] - E[f(G(z))], the
    critic's Wasserstein estimate; ``D(x)``/``D(G(z))`` are mean raw scores.
    """

    def __init__(self, generator: keras.Model, critic: keras.Model, latent_dim: int, *,
                 n_critic: int = 5, gp_weight: float = 10.0, **kwargs):
        super().__init__(generator, critic, latent_dim, n_critic=n_critic, **kwargs)
        penalty = gp_penalty(gp_weight)  # checks the weight: a finite number >= 0
        self.gp_weight = float(gp_weight)
        self.default_penalty = penalty if self.gp_weight > 0 else None
        self.w_tracker = keras.metrics.Mean(name="w_estimate")

    def compile(self, g_optimizer, d_optimizer, loss=WASSERSTEIN, penalty=None, **kwargs):
        """As ``GAN.compile``, with the Wasserstein loss and ``gp_penalty(gp_weight)`` by default."""
        super().compile(g_optimizer, d_optimizer, loss=loss, penalty=penalty or self.default_penalty, **kwargs)

    @property
    def metrics(self):
        return super().metrics + [self.w_tracker]

    def d_step(self, real, labels):
        """``GAN.d_step`` (Wasserstein loss plus the penalty), and the critic's W estimate."""
        stats = super().d_step(real, labels)
        stats["w_estimate"] = stats["D(x)"] - stats["D(G(z))"]  # mean raw scores
        return stats
