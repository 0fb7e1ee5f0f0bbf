"""The GAN training step, the loop that calls it, and what runs around the loop.

Read it in the order chapter 4 teaches it:

1. :mod:`~ganlib.train.steps`: :func:`d_step` and :func:`g_step`, one update of the
   discriminator and one of the generator, each a few lines (d2l's ``update_D`` /
   ``update_G``), and :class:`MixedPrecision`, which lets the same lines train in
   float16 on a GPU;
2. :mod:`~ganlib.train.loop`: :func:`train_gan` and :func:`train_epoch`. For each batch
   the loop draws latent inputs, makes one batch of fakes, calls ``d_step`` and, every
   ``n_critic`` batches, ``g_step``; then it hands the step to the callbacks;
3. :mod:`~ganlib.train.callbacks`: everything else (:class:`Snapshots`, :class:`EMA`,
   :class:`TimeBudget`, :class:`EarlyStop`, :class:`PrintLog`, :class:`AfterDStep`,
   :class:`MaxSteps`, :class:`StepTimes`), each behind one small interface (:class:`Callback`);
4. :mod:`~ganlib.train.checkpoint`: :class:`Checkpoint`, which saves the run's state
   (:meth:`TrainingRun.state_dict`) and resumes it exactly or refuses clearly;
5. :mod:`~ganlib.train.history`: :class:`History`, what a run records.

The loss (a :class:`~ganlib.losses.GANLoss`: D's loss, G's loss and what D's outputs
mean), optimizers, penalties and the way latent inputs are drawn come in as
arguments, so the same loop trains the minimax and non-saturating GANs, WGAN,
WGAN-GP and conditional GANs; it knows no particular model.
"""
from ..latent import LabelledNoise, Latents, NoiseSampler, balanced_labels, fixed_noise, latent_sampler  # noqa: F401
from ..profile import capped_steps, max_steps  # noqa: F401
from .callbacks import (EMA, AfterDStep, Callback, EarlyStop, MaxSteps, PrintLog, Snapshots,  # noqa: F401
                        StepTimes, TimeBudget)
from .checkpoint import (CHECKPOINT_FORMAT, Checkpoint, read_checkpoint, run_fingerprint,  # noqa: F401
                         write_checkpoint)
from .history import RECORD_KEYS, History, generate  # noqa: F401
from .loop import (FLUSH_EVERY, TrainingRun, check_training_inputs, split_batch, train_epoch,  # noqa: F401
                   train_gan)
from .steps import FULL_PRECISION, MixedPrecision, adam, d_step, frozen, g_step  # noqa: F401
