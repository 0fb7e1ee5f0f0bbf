"""pytest settings shared by the unit tests and the nbval notebook runs.

Environment set here is inherited by the notebook kernels nbval starts.
"""
import os

os.environ.setdefault("GANLIB_PROFILE", "quick")
os.environ.setdefault("GANLIB_STRICT_CHECKS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
