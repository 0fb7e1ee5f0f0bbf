"""Auto-checked exercises: ``ganlib.checks.<exercise>(your_function)``.

Each check runs your function on cases with known answers and prints what was
expected and what came back for every case.
"""
from .core import Case, CheckResult, compare_values, run_check  # noqa: F401
from .ch00_ch01 import batches_per_epoch, mlp_generator, to_pixels  # noqa: F401
from .ch02 import jsd, optimal_discriminator  # noqa: F401
from .ch03 import extragradient_step, gda_jacobian  # noqa: F401
