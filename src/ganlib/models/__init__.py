"""The book's networks, one module per family.

Discriminators and critics return logits / raw scores (no sigmoid): the
losses apply the sigmoid inside a numerically stable log (see ``ganlib.losses``).
"""
from .mlp import MLPDiscriminator, MLPGenerator, count_parameters  # noqa: F401
from .toy import ToyDiscriminator, ToyGenerator, toy_mlp  # noqa: F401
