"""Auto-checked exercises: ``ganlib.checks.check_<exercise>(your_function)``.

Each check runs your function on cases with known answers and prints what was
expected and what came back for every case.
"""
from .core import Case, CheckResult, ForbiddenHelper, compare_values, forbid, graded, graded_mode, run_check  # noqa: F401
from .ch00_ch01 import check_batches_per_epoch, check_mlp_generator, check_to_pixels  # noqa: F401
from .ch02 import check_jsd, check_optimal_discriminator  # noqa: F401
from .ch03 import check_extragradient_step, check_gda_jacobian  # noqa: F401
from .ch05 import check_conv_transpose_output_size, check_slerp  # noqa: F401
from .ch09 import check_adain, check_truncation  # noqa: F401
from .ch10 import check_cycle_consistency_loss, check_pix2pix_generator_loss  # noqa: F401
from .ch08 import check_frechet_distance, check_inception_score  # noqa: F401
from .ch07 import check_gradient_penalty, check_spectral_norm, check_wasserstein_1d  # noqa: F401
from .ch06 import (check_concat_label_to_noise, check_embedding_by_matmul,  # noqa: F401
                   check_embedding_parameters, check_projection_logit)  # noqa: F401
from .ch04 import check_gan_step, check_nonsaturating_loss  # noqa: F401
from .ch08_losses import check_lsgan_optimal_discriminator, check_mi_lower_bound  # noqa: F401
from .ch12 import check_rank_batches, check_scaled_learning_rate  # noqa: F401
