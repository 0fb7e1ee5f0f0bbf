"""Walking through a generator's latent space: linear and spherical interpolation.

Latent vectors drawn from N(0, I) in d dimensions have norms close to sqrt(d):
they live near a sphere. The straight line between two of them cuts inside
that sphere (its midpoint has norm about sqrt(d/2)), where the generator saw
almost no training noise; spherical interpolation (slerp) walks along the
sphere instead.

It is also where a GAN's inputs are drawn for training: :class:`NoiseSampler`
(z ~ N(0, I)), :class:`LabelledNoise` (noise plus the batch's labels, for a
conditional GAN), :class:`InfoGANCodes` (noise plus latent codes), chosen by
:func:`latent_sampler` from what a generator declares.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


def _as_times(t, like: torch.Tensor) -> torch.Tensor:
    times = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    if times.dim() > 1:
        raise ValueError(f"t must be a number or a 1-D sequence of numbers, got shape {tuple(times.shape)}")
    return times


def _check_pair(z0: torch.Tensor, z1: torch.Tensor) -> None:
    if not (isinstance(z0, torch.Tensor) and isinstance(z1, torch.Tensor)):
        raise TypeError("z0 and z1 must be torch tensors (use torch.as_tensor on NumPy arrays)")
    if z0.shape != z1.shape or z0.dim() != 1:
        raise ValueError(f"z0 and z1 must be 1-D latent vectors of the same length, got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}; interpolate one pair at a time")


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """Linear interpolation (1 - t) z0 + t z1.

    ``t`` a number gives one vector (d,); ``t`` a sequence of n numbers gives (n, d).
    """
    _check_pair(z0, z1)
    times = _as_times(t, z0)
    if times.dim() == 0:
        return (1 - times) * z0 + times * z1
    return (1 - times)[:, None] * z0 + times[:, None] * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle from z0 to z1.

    slerp(z0, z1, t) = sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1,
    with w the angle between z0 and z1. For (nearly) parallel vectors, where
    sin(w) is 0, it falls back to :func:`lerp`, its limit. Shapes as in :func:`lerp`.
    """
    _check_pair(z0, z1)
    times = _as_times(t, z0)
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(eps)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < eps:
        return lerp(z0, z1, t)
    scalar = times.dim() == 0
    times = times.reshape(-1, 1)
    out = (torch.sin((1 - times) * omega) * z0 + torch.sin(times * omega) * z1) / torch.sin(omega)
    return out[0] if scalar else out


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, method: str = "slerp") -> torch.Tensor:
    """``steps`` latent vectors (steps, d) from z0 to z1 inclusive, by "slerp" or "lerp"."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both ends), got {steps}")
    if method not in ("slerp", "lerp"):
        raise ValueError(f"method must be 'slerp' or 'lerp', got {method!r}")
    times = torch.linspace(0, 1, steps)
    return (slerp if method == "slerp" else lerp)(z0, z1, times)


# --- drawing a GAN's inputs (used by ganlib.train_gan) ------------------------------

def fixed_noise(n: int, latent_dim: int, seed: int = 0, device=None) -> torch.Tensor:
    """The same ``n`` latent vectors every time (for comparable snapshots)."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, latent_dim, generator=gen)
    return z.to(device) if device is not None else z


def balanced_labels(n: int, n_classes: int = 10, device=None) -> torch.Tensor:
    """0, 1, ..., n_classes - 1, 0, 1, ...: every class asked for equally often."""
    if n < 1 or n_classes < 1:
        raise ValueError(f"need n >= 1 and n_classes >= 1, got n={n}, n_classes={n_classes}")
    return torch.arange(n, device=device) % n_classes


@dataclass
class Latents:
    """What one batch of fakes is made from.

    ``g_inputs``: the generator is called as ``G(*g_inputs)``;
    ``d_inputs``: extra inputs the discriminator takes with every image,
    ``D(x, *d_inputs)`` (a conditional GAN's labels; empty otherwise);
    ``codes``: anything else a loss may need (InfoGAN's latent codes).
    """

    g_inputs: tuple
    d_inputs: tuple = ()
    codes: dict = field(default_factory=dict)


class NoiseSampler:
    """Latent inputs of an unconditional GAN: z ~ N(0, I), ``G(z)``."""

    def __init__(self, latent_dim: int):
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
        self.latent_dim = latent_dim

    def __call__(self, n: int, labels, device) -> Latents:
        return Latents((torch.randn(n, self.latent_dim, device=device),))

    def fixed(self, n: int, seed: int = 0, device=None) -> Latents:
        """The same ``n`` inputs every time (snapshots)."""
        return Latents((fixed_noise(n, self.latent_dim, seed, device),))

    def __repr__(self) -> str:
        return f"NoiseSampler(latent_dim={self.latent_dim})"


class LabelledNoise(NoiseSampler):
    """Latent inputs of a conditional GAN: noise plus the batch's own labels.

    ``G(z, y)`` is asked for the digits the real batch holds, and ``D`` sees
    the same labels beside the real and the generated images.
    """

    def __init__(self, latent_dim: int, n_classes: int = 10):
        super().__init__(latent_dim)
        self.n_classes = n_classes

    def __call__(self, n: int, labels, device) -> Latents:
        if labels is None:
            raise ValueError("a conditional GAN needs batches of (images, labels): "
                             "use data.batches(..., with_labels=True)")
        z = torch.randn(n, self.latent_dim, device=device)
        return Latents((z, labels), (labels,))

    def fixed(self, n: int, seed: int = 0, device=None) -> Latents:
        labels = balanced_labels(n, self.n_classes, device)
        return Latents((fixed_noise(n, self.latent_dim, seed, device), labels), (labels,))

    def __repr__(self) -> str:
        return f"LabelledNoise(latent_dim={self.latent_dim}, n_classes={self.n_classes})"


class ImageToImage:
    """Inputs of an image-to-image GAN (pix2pix): the condition image itself.

    Batches are ``(target, condition)``: ``G(condition)`` is compared with the
    target, and ``D`` sees the condition beside either image, ``D(image, condition)``.
    ``fixed_conditions`` are the inputs shown in snapshots.
    """

    def __init__(self, fixed_conditions: torch.Tensor):
        if not isinstance(fixed_conditions, torch.Tensor) or fixed_conditions.dim() != 4:
            raise ValueError("fixed_conditions must be a batch of condition images (N, C, H, W)")
        self.fixed_conditions = fixed_conditions

    def __call__(self, n: int, labels, device) -> Latents:
        if labels is None:
            raise ValueError("an image-to-image GAN needs batches of (target, condition) images: "
                             "TensorBatches(targets, conditions, batch_size=...)")
        return Latents((labels,), (labels,))

    def fixed(self, n: int, seed: int = 0, device=None) -> Latents:
        x = self.fixed_conditions[:n]
        x = x.to(device) if device is not None else x
        return Latents((x,), (x,))

    def __repr__(self) -> str:
        return f"ImageToImage(condition shape {tuple(self.fixed_conditions.shape[1:])})"


class InfoGANCodes:
    """Latent inputs of an InfoGAN: noise z ~ N(0, I), a categorical code c ~ Uniform{0..K-1}
    and continuous codes u ~ Uniform[-1, 1]^m, concatenated as G's one input
    ``[z, one_hot(c), u]``. ``codes`` carries c and u for the mutual-information term.
    ``fixed()`` asks for every category equally often (0, 1, ..., K-1, 0, ...).
    """

    def __init__(self, noise_dim: int, n_categories: int = 10, n_continuous: int = 2):
        for name, value, low in (("noise_dim", noise_dim, 1), ("n_categories", n_categories, 2),
                                 ("n_continuous", n_continuous, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int of at least {low}, got {value!r}")
        self.noise_dim, self.n_categories, self.n_continuous = noise_dim, n_categories, n_continuous

    @property
    def input_dim(self) -> int:
        return self.noise_dim + self.n_categories + self.n_continuous

    def compose(self, z: torch.Tensor, categorical: torch.Tensor, continuous: torch.Tensor,
                check: bool = True) -> Latents:
        """G's input for given noise (N, noise_dim), categories (N,) and continuous codes (N, m).

        ``check=False`` skips the range check of the categories (it makes a GPU wait): for
        codes drawn in range, as every training step draws them."""
        n = len(z)
        if z.shape != (n, self.noise_dim) or categorical.shape != (n,) or continuous.shape != (n, self.n_continuous):
            raise ValueError(f"expected z ({n}, {self.noise_dim}), categorical ({n},) and continuous "
                             f"({n}, {self.n_continuous}); got {tuple(z.shape)}, {tuple(categorical.shape)} "
                             f"and {tuple(continuous.shape)}")
        categorical = categorical.long().to(z.device)
        if check and (categorical.min() < 0 or categorical.max() >= self.n_categories):
            raise ValueError(f"categorical codes must lie in 0..{self.n_categories - 1}")
        one_hot = torch.nn.functional.one_hot(categorical, self.n_categories).to(z.dtype)
        x = torch.cat([z, one_hot, continuous.to(z)], dim=1)
        return Latents((x,), (), {"categorical": categorical, "continuous": continuous.to(z)})

    def __call__(self, n: int, labels, device) -> Latents:
        z = torch.randn(n, self.noise_dim, device=device)
        c = torch.randint(self.n_categories, (n,), device=device)
        u = torch.rand(n, self.n_continuous, device=device) * 2 - 1
        return self.compose(z, c, u, check=False)  # drawn in range

    def fixed(self, n: int, seed: int = 0, device=None) -> Latents:
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.noise_dim, generator=gen)
        u = torch.rand(n, self.n_continuous, generator=gen) * 2 - 1
        latents = self.compose(z, balanced_labels(n, self.n_categories), u)
        if device is None:
            return latents
        return Latents(tuple(x.to(device) for x in latents.g_inputs), (),
                       {k: v.to(device) for k, v in latents.codes.items()})

    def __repr__(self) -> str:
        return (f"InfoGANCodes(noise_dim={self.noise_dim}, n_categories={self.n_categories}, "
                f"n_continuous={self.n_continuous})")


def latent_sampler(generator: torch.nn.Module):
    """The default way to draw ``generator``'s inputs, from its declared attributes.

    A generator says it is conditional with ``conditional = True`` (and its
    ``n_classes``); its noise size is ``latent_dim``; an InfoGAN generator declares
    ``latent_codes = {"n_categories": K, "n_continuous": m}``. Nothing inspects ``forward``.
    """
    latent_dim = getattr(generator, "latent_dim", None)
    if latent_dim is None:
        raise ValueError(f"{type(generator).__name__} has no .latent_dim attribute: give it one, "
                         "or pass latents=NoiseSampler(latent_dim) to train_gan")
    codes = getattr(generator, "latent_codes", None)
    if codes is not None:
        return InfoGANCodes(latent_dim, **codes)
    if getattr(generator, "conditional", False):
        return LabelledNoise(latent_dim, getattr(generator, "n_classes", 10))
    return NoiseSampler(latent_dim)
