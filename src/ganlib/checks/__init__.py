"""Auto-checked exercises: ``ganlib.checks.<exercise>(your_function)``.

Each check runs your function on cases with known answers and prints what was
expected and what came back for every case.
"""
from .core import Case, CheckResult, compare_values, run_check  # noqa: F401
from .ch00_ch01 import batches_per_epoch, mlp_generator, to_pixels  # noqa: F401
from .ch02 import jsd, optimal_discriminator  # noqa: F401
from .ch03 import extragradient_step, gda_jacobian  # noqa: F401
from .ch05 import conv_transpose_output_size, slerp  # noqa: F401
from .ch09 import adain, truncation  # noqa: F401
from .ch10 import cycle_consistency_loss, pix2pix_generator_loss  # noqa: F401
from .ch08 import frechet_distance, inception_score  # noqa: F401
from .ch07 import gradient_penalty, wasserstein_1d  # noqa: F401
from .ch06 import concat_label_to_noise, embedding_by_matmul  # noqa: F401
from .ch04 import gan_step  # noqa: F401
