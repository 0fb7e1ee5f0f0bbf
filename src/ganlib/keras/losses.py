"""The GAN losses of ``ganlib.losses``, in TensorFlow, under the same names.

Each function here takes and returns TensorFlow tensors (NumPy arrays are
accepted) and computes what the PyTorch function of the same name computes;
``tests/test_keras.py`` checks each pair on the same numbers.

- on the discriminator's logits: :func:`d_loss_minimax`, :func:`g_loss_saturating`,
  :func:`g_loss_nonsaturating` (log D = -softplus(-l), log(1 - D) = -softplus(l));
- on a critic's raw scores (chapter 7): :func:`d_loss_wasserstein`,
  :func:`g_loss_wasserstein`, :func:`d_loss_hinge`, :func:`g_loss_hinge`;
- the objectives as :class:`ganlib.losses.GANLoss` objects of these functions, under the
  names of ``ganlib.losses``: :data:`MINIMAX`, :data:`NON_SATURATING`, :data:`WASSERSTEIN`,
  :data:`HINGE`, and :func:`gan_loss` to look one up by name; ``GAN.compile(loss=...)``
  takes one (as ``train_gan(loss=...)``);
- penalties: :func:`random_interpolates`, :func:`gradient_norms`,
  :func:`gradient_penalty`, and the factories :func:`gp_penalty` and
  :func:`r1_penalty`, whose ``penalty(critic_fn, real, fake)`` is what
  ``ganlib.keras.GAN.compile(penalty=...)`` takes (as ``train_gan(penalty=...)``).
"""
from __future__ import annotations

import math

import tensorflow as tf

from ..losses import GANLoss, lookup_loss


def _float(x):
    """A floating-point tensor (NumPy arrays and integer tensors become float32)."""
    x = tf.convert_to_tensor(x)
    return x if x.dtype.is_floating else tf.cast(x, "float32")


def d_loss_minimax(real_logits, fake_logits):
    """-(E[log D(x)] + E[log(1 - D(G(z)))]): binary cross-entropy on logits, real=1, fake=0."""
    real_logits, fake_logits = _float(real_logits), _float(fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def g_loss_saturating(fake_logits):
    """E[log(1 - D(G(z)))] on logits: the generator's side of the original minimax game."""
    return -tf.reduce_mean(tf.nn.softplus(_float(fake_logits)))


def g_loss_nonsaturating(fake_logits):
    """-E[log D(G(z))] on logits: the generator loss used in practice."""
    return tf.reduce_mean(tf.nn.softplus(-_float(fake_logits)))


def d_loss_wasserstein(real_scores, fake_scores):
    """The critic's loss E[f(G(z))] - E[f(x)]; minimising it maximises the W-distance estimate."""
    return tf.reduce_mean(_float(fake_scores)) - tf.reduce_mean(_float(real_scores))


def g_loss_wasserstein(fake_scores):
    """The generator's loss -E[f(G(z))]."""
    return -tf.reduce_mean(_float(fake_scores))


def d_loss_hinge(real_scores, fake_scores):
    """Hinge critic loss, E[max(0, 1 - f(x))] + E[max(0, 1 + f(G(z)))]."""
    return (tf.reduce_mean(tf.nn.relu(1.0 - _float(real_scores)))
            + tf.reduce_mean(tf.nn.relu(1.0 + _float(fake_scores))))


def g_loss_hinge(fake_scores):
    """Hinge generator loss, -E[f(G(z))] (the same as the Wasserstein one)."""
    return -tf.reduce_mean(_float(fake_scores))


MINIMAX = GANLoss(d_loss_minimax, g_loss_saturating, scores="probability", name="minimax")
NON_SATURATING = GANLoss(d_loss_minimax, g_loss_nonsaturating, scores="probability", name="non-saturating")
WASSERSTEIN = GANLoss(d_loss_wasserstein, g_loss_wasserstein, scores="raw", name="wasserstein")
HINGE = GANLoss(d_loss_hinge, g_loss_hinge, scores="raw", name="hinge")

GAN_LOSSES = {"minimax": MINIMAX, "non-saturating": NON_SATURATING, "wasserstein": WASSERSTEIN, "hinge": HINGE}


def gan_loss(loss: GANLoss | str) -> GANLoss:
    """The Keras :class:`~ganlib.losses.GANLoss` called ``loss`` (a key of :data:`GAN_LOSSES`);
    a GANLoss is returned as it is."""
    return lookup_loss(loss, GAN_LOSSES, "ganlib.keras.losses")


def random_interpolates(real, fake, seed=None):
    """Points x_hat = eps x + (1 - eps) x_fake, one eps ~ Uniform[0, 1] per sample; returns (x_hat, eps).

    ``eps`` has shape (N, 1, 1, 1) for images, broadcast over height, width and channels.
    """
    real = _float(real)
    fake = tf.cast(fake, real.dtype)
    if real.shape.rank is not None and fake.shape.rank is not None and \
            not real.shape.is_compatible_with(fake.shape):
        raise ValueError(f"real and fake batches must have the same shape, got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}: draw as many fakes as reals")
    batch = tf.shape(real)[0]
    eps_shape = tf.concat([[batch], tf.ones(tf.rank(real) - 1, dtype=tf.int32)], axis=0)
    eps = tf.random.uniform(eps_shape, 0.0, 1.0, dtype=real.dtype, seed=seed)
    return eps * real + (1.0 - eps) * fake, eps


def gradient_norms(critic_fn, points, eps: float = 1e-12):
    """The norm of the critic's input gradient at each point, shape (N,), as sqrt(sum(g^2) + eps).

    An inner ``tf.GradientTape`` watches ``points`` (a tensor, not a variable, so it
    must be watched); inside an outer tape the result can be differentiated again.
    The ``eps`` keeps the norm's derivative finite where the gradient is exactly zero.
    """
    return tf.sqrt(_squared_gradient_norms(critic_fn, points) + eps)


def _squared_gradient_norms(critic_fn, points):
    points = _float(points)
    with tf.GradientTape() as tape:
        tape.watch(points)
        scores = critic_fn(points)
    grads = tape.gradient(scores, points)
    if grads is None:
        raise ValueError("the critic's output does not depend on its input: critic_fn(x) must "
                         "compute its scores from x with TensorFlow operations")
    return tf.reduce_sum(tf.square(grads), axis=tf.range(1, tf.rank(grads)))


def gradient_penalty(critic_fn, real, fake, weight: float = 10.0, seed=None):
    """WGAN-GP's two-sided penalty, weight * E[(||grad f(x_hat)|| - 1)^2].

    ``x_hat`` are random interpolates between ``real`` and ``fake`` (one uniform
    weight per sample, :func:`random_interpolates`). ``critic_fn(x)`` returns the
    scores; a Keras critic in training mode is ``lambda x: critic(x, training=True)``
    (``GAN.d_step`` passes that, with the labels bound for a conditional critic).
    """
    points, _ = random_interpolates(tf.stop_gradient(_float(real)), tf.stop_gradient(fake), seed)
    norms = gradient_norms(critic_fn, points)
    return weight * tf.reduce_mean(tf.square(norms - 1.0))


def _check_weight(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def gp_penalty(weight: float = 10.0):
    """A ``penalty(critic_fn, real, fake)`` for ``GAN.compile(penalty=...)`` (WGAN-GP)."""
    weight = _check_weight("the penalty weight", weight)

    def penalty(critic_fn, real, fake):
        return gradient_penalty(critic_fn, real, fake, weight=weight)

    return penalty


def r1_penalty(gamma: float = 10.0):
    """R1 (Mescheder et al., 2018): (gamma / 2) E[||grad D(x)||^2] on real data only."""
    gamma = _check_weight("gamma", gamma)

    def penalty(critic_fn, real, fake):
        return 0.5 * gamma * tf.reduce_mean(_squared_gradient_norms(critic_fn, real))

    return penalty
