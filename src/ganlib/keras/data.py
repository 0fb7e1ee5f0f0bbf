"""Moving images between ganlib (torch, NCHW) and Keras (NumPy/TensorFlow, NHWC)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import torch

from ..data import ImageData


def to_numpy_images(images) -> np.ndarray:
    """(N, C, H, W) torch images -> (N, H, W, C) float32 NumPy, the layout Keras uses."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"expected a batch of images (N, C, H, W), got shape {images.shape}")
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1))


def to_torch_images(images) -> torch.Tensor:
    """(N, H, W, C) Keras images (NumPy or tf.Tensor) -> (N, C, H, W) torch, for ganlib.plots."""
    if isinstance(images, tf.Tensor):
        images = images.numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"expected a batch of NHWC images (N, H, W, C), got shape {images.shape}")
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def mnist_dataset(data: ImageData, batch_size: int = 64, *, with_labels: bool = False,
                  shuffle: bool = True, seed: int | None = None) -> tf.data.Dataset:
    """A shuffled, batched ``tf.data.Dataset`` of NHWC images in [-1, 1] (and labels).

    ``data`` is what ``ganlib.load_mnist`` returns. The last incomplete batch
    is dropped, like ``ImageData.batches``, so every step sees a full batch.
    """
    if not isinstance(data, ImageData):
        raise TypeError(f"mnist_dataset needs an ImageData (from ganlib.load_mnist), got {type(data).__name__}")
    if batch_size < 1 or batch_size > len(data):
        raise ValueError(f"batch_size must be between 1 and the number of images ({len(data)}), got {batch_size}")
    images = to_numpy_images(data.images)
    tensors = (images, data.labels.cpu().numpy().astype(np.int32)) if with_labels else images
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    # A fixed prefetch and no autotuning: destroying an iterator waits for tf.data's autotune
    # thread, and a CI run's fit() sat idle there for minutes at the end of an epoch (gdb trace).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.batch(batch_size, drop_remainder=True).prefetch(2).with_options(options)


def generate(generator, noise, labels=None, batch_size: int = 1024) -> np.ndarray:
    """Run a Keras generator in inference mode; returns NHWC NumPy images.

    ``noise`` may be a torch tensor (e.g. ``ganlib.fixed_noise``), so a Keras and
    a PyTorch model can be shown the very same latent vectors.
    """
    if isinstance(noise, torch.Tensor):
        noise = noise.detach().cpu().numpy()
    noise = np.asarray(noise, dtype=np.float32)
    if labels is not None:
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        return np.concatenate([np.asarray(generator([noise[i:i + batch_size], labels[i:i + batch_size]],
                                                    training=False))
                               for i in range(0, len(noise), batch_size)])
    return np.concatenate([np.asarray(generator(noise[i:i + batch_size], training=False))
                           for i in range(0, len(noise), batch_size)])
