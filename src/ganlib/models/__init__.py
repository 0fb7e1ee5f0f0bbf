"""The book's networks, one module per family.

Discriminators and critics return logits / raw scores (no sigmoid): the
losses apply the sigmoid inside a numerically stable log (see ``ganlib.losses``).
"""
from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_  # noqa: F401
from .mlp import MLPDiscriminator, MLPGenerator, count_parameters  # noqa: F401
from .toy import ToyDiscriminator, ToyGenerator, toy_mlp  # noqa: F401
from .critic import ConvCritic, MLPCritic  # noqa: F401
from .style import MappingNetwork, StyleGenerator, truncate  # noqa: F401
from .pix2pix import PatchDiscriminator, UNetGenerator, pix2pix_generator_loss  # noqa: F401
from .conditional import ConditionalDiscriminator, ConditionalGenerator  # noqa: F401
