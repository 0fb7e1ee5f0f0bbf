"""ganlib: the small shared library of the GAN course.

Chapters import it for the machinery (data, training loop, metrics, plots)
and keep the idea they teach in their own cells. Importing ganlib never
imports TensorFlow; the Keras helpers live in ``ganlib.keras``.
"""
from . import checks, data, losses, models, plots, pretrained  # noqa: F401
from .data import ImageData, TensorBatches, data_root, load_mnist, ring_of_gaussians  # noqa: F401
from .expect import expect  # noqa: F401
from .latent import LabelledNoise, NoiseSampler, fixed_noise  # noqa: F401
from .plots import plot_history, plot_snapshots, show_images  # noqa: F401
from .profile import RunProfile, run_profile, use_profile  # noqa: F401
from .show import show_source  # noqa: F401
from .train import (EMA, AfterDStep, Callback, Checkpoint, EarlyStop, History, MaxSteps, PrintLog,  # noqa: F401
                    Snapshots, TimeBudget, d_step, g_step, generate, train_gan)
from .profile import capped_steps  # noqa: F401
from .utils import device, seed_everything  # noqa: F401

__version__ = "0.1.0"
