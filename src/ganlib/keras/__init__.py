"""The TensorFlow/Keras companion helpers (Keras 3 on the TensorFlow backend).

Only this package imports TensorFlow: ``import ganlib`` stays fast and works
where TensorFlow is absent; ``import ganlib.keras`` loads it.

- :class:`GAN`: a ``keras.Model`` whose ``train_step`` runs ``n_critic``
  discriminator steps and one generator step (non-saturating loss on logits by
  default, any loss and penalty of :mod:`ganlib.keras.losses`), so
  ``model.fit(dataset)`` trains a GAN with Keras's progress bar; ``conditional=True``
  is the one conditional path (``ConditionalGAN``, chapter 6).
- :class:`GanMonitor`: a callback that fills a ``ganlib.History`` (per-step
  losses, D(x), D(G(z)), fixed-noise snapshots), so ``ganlib.plot_history``
  and ``ganlib.plot_snapshots`` draw Keras runs exactly like PyTorch runs.
- :class:`MaxSteps`: stops ``fit`` after N batches; ``GAN.fit`` adds one when
  ``GANLIB_MAX_STEPS=N`` is set, as ``ganlib.train_gan`` does (and a
  :class:`StepTimes` when ``GANLIB_TIMINGS`` names a file).
- the losses of ``ganlib.losses`` under the same names (``d_loss_minimax``,
  ``g_loss_nonsaturating``, ``d_loss_wasserstein``, ``gp_penalty``, ...), the objectives
  ``GAN.compile(loss=...)`` takes (``NON_SATURATING``, ``WASSERSTEIN``, ``HINGE``,
  ``MINIMAX``, or their names), and ``split_batch``, the very function ``ganlib.train``
  splits batches with.
- :func:`mnist_dataset`: a shuffled ``tf.data.Dataset`` from ``ganlib.load_mnist``.
- :func:`mlp_generator`, :func:`mlp_discriminator`: chapter 4's MLP GAN in Keras.
- :func:`generate`, :func:`to_torch_images`: samples as NHWC NumPy, and the
  bridge to ``ganlib.plots.show_images`` (NCHW).

Example::

    import ganlib, ganlib.keras as gk
    data = ganlib.load_mnist("train")
    gan = gk.GAN(gk.mlp_generator(), gk.mlp_discriminator(), latent_dim=100)
    gan.compile(g_optimizer=gk.keras.optimizers.Adam(2e-4, beta_1=0.5),
                d_optimizer=gk.keras.optimizers.Adam(2e-4, beta_1=0.5))
    monitor = gk.GanMonitor(ganlib.fixed_noise(64, 100))
    gan.fit(gk.mnist_dataset(data, 64), epochs=5, callbacks=[monitor])
    monitor.history.plot(); ganlib.plot_snapshots(monitor.history)
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# With TensorFlow loaded first, the first torch optimizer (which imports
# torch._dynamo) crashes the process (a native-library clash seen with torch
# 2.14 and TensorFlow 2.21). Loading torch's side first avoids it.
import torch._dynamo  # noqa: E402,F401

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the page

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402



def allow_gpu_memory_growth(config=tf.config) -> list:
    """Let TensorFlow take GPU memory as it needs it instead of all of it at start-up, so
    PyTorch in the same kernel (an Inception score, a ganlib generator) still finds memory.
    Returns the GPUs it was set for. Must run before TensorFlow first touches a GPU."""
    gpus = config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # TensorFlow already initialised this GPU: its setting stays
            pass
    return gpus


allow_gpu_memory_growth()

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"ganlib.keras needs Keras on the TensorFlow backend, but KERAS_BACKEND is "
        f"{keras.backend.backend()!r}: set KERAS_BACKEND=tensorflow before importing keras.")

from .data import generate, mnist_dataset, to_numpy_images, to_torch_images  # noqa: E402,F401
from .gan import GAN, GanMonitor, MaxSteps, StepTimes, split_batch  # noqa: E402,F401
from . import losses  # noqa: E402,F401
from .losses import (HINGE, MINIMAX, NON_SATURATING, WASSERSTEIN, GANLoss, d_loss_hinge,  # noqa: E402,F401
                     d_loss_minimax, d_loss_wasserstein, g_loss_hinge, g_loss_nonsaturating, g_loss_saturating,
                     g_loss_wasserstein, gan_loss, gp_penalty, gradient_norms, gradient_penalty, r1_penalty,
                     random_interpolates)
from .conditional import ConditionalGAN  # noqa: E402,F401
from .wgan import WGANGP, mlp_critic  # noqa: E402,F401
from .mlp import mlp_discriminator, mlp_generator  # noqa: E402,F401
