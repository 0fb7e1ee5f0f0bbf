"""GAN losses, written on the discriminator's logits.

With D(x) = sigmoid(l(x)), the identities log D = -softplus(-l) and
log(1 - D) = -softplus(l) give losses that never take log(0).

Discriminator (both classic GANs): maximise E[log D(x)] + E[log(1 - D(G(z)))],
i.e. minimise its negative, :func:`d_loss_minimax`.
Generator, minimax ("saturating"): minimise E[log(1 - D(G(z)))].
Generator, non-saturating: minimise -E[log D(G(z))] (same fixed point, strong
gradients early in training when D(G(z)) is near 0).

A :class:`GANLoss` holds one objective whole: D's loss, G's loss and what D's
outputs mean. :func:`ganlib.train_gan` takes one (``loss=losses.WASSERSTEIN``, or
by name, ``loss="wasserstein"``); the book's objectives are :data:`MINIMAX`,
:data:`NON_SATURATING`, :data:`WASSERSTEIN`, :data:`HINGE` and
:func:`least_squares` ``(a, b, c)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

SCORES = ("probability", "raw")  # what a GANLoss says D's outputs are


def _name_of(fn) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


@dataclass(frozen=True)
class GANLoss:
    """One GAN objective: the discriminator's loss, the generator's loss, and what D's outputs mean.

    d_loss:  ``d_loss(real_out, fake_out) -> loss``, minimised by the discriminator/critic.
    g_loss:  ``g_loss(fake_out) -> loss``, minimised by the generator.
    scores:  "probability" (D's outputs are logits, read through a sigmoid: a training run
             records D(x) as a probability) or "raw" (a critic's unbounded scores, recorded as
             they are).
    name:    how the objective is called (default: the two functions' names).

    Keeping the three together means a Wasserstein critic cannot be trained with its
    scores read as probabilities, nor a critic's loss paired with a logit loss by mistake.
    """

    d_loss: Callable
    g_loss: Callable
    scores: str
    name: str = ""

    def __post_init__(self):
        for field_name in ("d_loss", "g_loss"):
            if not callable(getattr(self, field_name)):
                raise TypeError(f"GANLoss's {field_name} must be a function of D's outputs, got "
                                f"{getattr(self, field_name)!r}")
        if self.scores not in SCORES:
            raise ValueError(f"GANLoss's scores must be 'probability' (D's outputs are logits, read through "
                             f"a sigmoid) or 'raw' (a critic's scores), got {self.scores!r}")
        if not isinstance(self.name, str):
            raise TypeError(f"GANLoss's name must be a string, got {self.name!r}")
        if not self.name:
            object.__setattr__(self, "name", f"{_name_of(self.d_loss)} / {_name_of(self.g_loss)}")

    def __repr__(self) -> str:
        return (f"GANLoss(d_loss={_name_of(self.d_loss)}, g_loss={_name_of(self.g_loss)}, "
                f"scores={self.scores!r}, name={self.name!r})")


def lookup_loss(loss, table: dict, where: str) -> GANLoss:
    """``loss`` itself when it is a :class:`GANLoss`, else the entry of ``table`` it names."""
    if isinstance(loss, GANLoss):
        other = {"ganlib.losses": "ganlib.keras.losses", "ganlib.keras.losses": "ganlib.losses"}.get(where)
        if other is not None and getattr(loss.d_loss, "__module__", None) == other:
            raise TypeError(f"{loss!r} computes with {other}, the other framework's functions: use "
                            f"{where}'s GANLoss of that name (or pass the name, e.g. loss={loss.name!r})")
        return loss
    if isinstance(loss, str) and loss in table:
        return table[loss]
    names = ", ".join(repr(name) for name in table)
    if isinstance(loss, str):
        raise ValueError(f"no GAN loss is called {loss!r}: the names are {names} (or pass a {where}.GANLoss)")
    raise TypeError(f"loss must be a {where}.GANLoss or one of the names {names}, got {loss!r}"
                    + (": the loss holds both D's and G's losses, e.g. loss=losses.NON_SATURATING"
                       if callable(loss) or isinstance(loss, tuple) else ""))


def d_loss_minimax(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))]): binary cross-entropy, real=1, fake=0."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], the generator's side of the original minimax game."""
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))], the generator loss used in practice."""
    return F.softplus(-fake_logits).mean()


# ---------------------------------------------------------------------------
# Wasserstein and hinge losses (chapter 7). These take raw critic scores,
# not logits: a critic's output is unbounded and is never passed to a sigmoid.
# ---------------------------------------------------------------------------

def d_loss_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's loss, E[f(G(z))] - E[f(x)].

    Minimising it maximises E[f(x)] - E[f(G(z))], the critic's estimate of the
    Wasserstein-1 distance (exact when f is the best 1-Lipschitz function).
    """
    return fake_scores.mean() - real_scores.mean()


def g_loss_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's loss, -E[f(G(z))]: move the fakes to where the critic scores high."""
    return -fake_scores.mean()


def d_loss_hinge(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Hinge critic loss, E[max(0, 1 - f(x))] + E[max(0, 1 + f(G(z)))] (SN-GAN, BigGAN)."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def g_loss_hinge(fake_scores: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss, -E[f(G(z))] (the same as the Wasserstein one)."""
    return -fake_scores.mean()


def random_interpolates(real: torch.Tensor, fake: torch.Tensor,
                        generator: torch.Generator | None = None, eps: torch.Tensor | None = None):
    """Points on the straight lines between real and fake samples, and their weights.

    One weight eps ~ Uniform[0, 1] per sample, broadcast over the other
    dimensions (C, H, W), as in Gulrajani et al. (2017): x_hat = eps x + (1 - eps) x_fake.
    (Drawing eps from a normal distribution, as some tutorials do, puts points
    outside the segment and penalises the wrong region.) Returns (x_hat, eps).
    ``eps``, when given, are the weights to use (``ganlib.distributed`` passes each rank its
    slice of one draw for the whole global batch).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have the same shape, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}: draw as many fakes as reals")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    if eps is None:
        eps = torch.rand(shape, generator=generator, dtype=real.dtype,
                         device="cpu" if generator is not None else real.device).to(real.device)
    elif tuple(eps.shape) != shape:
        raise ValueError(f"eps must have shape {shape}, one weight per sample, got {tuple(eps.shape)}")
    return eps * real + (1.0 - eps) * fake, eps


def gradient_norms(critic_fn, points: torch.Tensor, eps: float = 1e-12,
                   create_graph: bool = True) -> torch.Tensor:
    """The norm of the critic's input gradient at each point, shape (N,).

    Computed as sqrt(sum(g^2) + eps): a bare sqrt(sum(g^2)) has an infinite
    derivative where the gradient is exactly zero (a dead ReLU critic, or
    real == fake), and the chain rule turns it into NaN in every weight.
    """
    return torch.sqrt(_squared_gradient_norms(critic_fn, points, create_graph) + eps)


def _squared_gradient_norms(critic_fn, points, create_graph: bool = True) -> torch.Tensor:
    points = points.detach().requires_grad_(True)
    scores = critic_fn(points)
    (grads,) = torch.autograd.grad(scores.sum(), points, create_graph=create_graph)
    return grads.flatten(1).pow(2).sum(dim=1)


def gradient_penalty(critic_fn, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     generator: torch.Generator | None = None, eps: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP's two-sided penalty, weight * E[(||grad f(x_hat)|| - 1)^2].

    ``x_hat`` are random interpolates between ``real`` and ``fake`` (one
    uniform weight per sample, :func:`random_interpolates`). The result keeps
    the graph, so it can be added to the critic's loss and back-propagated.
    """
    points, _ = random_interpolates(real.detach(), fake.detach(), generator, eps)
    norms = gradient_norms(critic_fn, points)
    return weight * (norms - 1.0).pow(2).mean()


def gp_penalty(weight: float = 10.0):
    """A ``penalty(critic_fn, real, fake)`` for :func:`ganlib.train_gan` (WGAN-GP)."""
    if weight < 0:
        raise ValueError(f"the penalty weight must be >= 0, got {weight}")

    def penalty(critic_fn, real, fake):
        return gradient_penalty(critic_fn, real, fake, weight=weight)

    penalty.__qualname__ = penalty.__name__ = f"gp_penalty(weight={weight:g})"  # a checkpoint records it
    return penalty


def r1_penalty(gamma: float = 10.0):
    """R1 (Mescheder et al., 2018): (gamma / 2) E[||grad D(x)||^2] on real data only.

    Returns a ``penalty(critic_fn, real, fake)`` for :func:`ganlib.train_gan`.
    """
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")

    def penalty(critic_fn, real, fake):
        return 0.5 * gamma * _squared_gradient_norms(critic_fn, real).mean()

    penalty.__qualname__ = penalty.__name__ = f"r1_penalty(gamma={gamma:g})"  # a checkpoint records it
    return penalty


def clip_weights(c: float = 0.01):
    """An ``after_d_step(critic)`` that clamps every critic parameter to [-c, c].

    The original WGAN's crude way to keep the critic K-Lipschitz.
    """
    if not c > 0:
        raise ValueError(f"the clipping bound c must be positive, got {c}")

    @torch.no_grad()
    def after_d_step(critic: torch.nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-c, c)

    after_d_step.__qualname__ = after_d_step.__name__ = f"clip_weights(c={c:g})"  # a checkpoint records it
    return after_d_step


# ---------------------------------------------------------------------------
# Least squares (LSGAN, Mao et al. 2017) and InfoGAN's mutual-information term
# (chapter 8, "other losses and learned latent codes"). LSGAN's D outputs raw
# scores, pulled towards target values instead of pushed through a sigmoid.
# ---------------------------------------------------------------------------

def d_loss_least_squares(real_scores: torch.Tensor, fake_scores: torch.Tensor,
                         a: float = 0.0, b: float = 1.0) -> torch.Tensor:
    """LSGAN's discriminator loss, 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2].

    ``b`` is the target for real data, ``a`` for fakes. With D optimal, G
    minimises 2C(G) = (a + b - 2c)^2 / 2 + ((b - a) / 2)^2 chi^2(2 p_g || p_data + p_g),
    where chi^2(P || Q) = integral of (P - Q)^2 / Q (chapter 8): a Pearson
    chi-squared divergence for any a != b. a = -1, b = 1, c = 0 (Mao et al.'s
    b - c = 1, b - a = 2) make it the chi^2 itself; a = 0, b = c = 1 (the
    defaults, the 0-1 coding used in practice) give 1/2 + chi^2 / 4.
    """
    return 0.5 * (real_scores - b).pow(2).mean() + 0.5 * (fake_scores - a).pow(2).mean()


def g_loss_least_squares(fake_scores: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """LSGAN's generator loss, 1/2 E[(D(G(z)) - c)^2]: ``c`` is the score G wants D to give."""
    return 0.5 * (fake_scores - c).pow(2).mean()


def least_squares(a: float = 0.0, b: float = 1.0, c: float = 1.0) -> GANLoss:
    """LSGAN's objective with targets a (fakes), b (reals) and c (what G wants), as a
    :class:`GANLoss` on raw scores.

    The name and the functions' names carry the targets, so a checkpoint made with
    other targets is refused on resume.
    """
    for name, value in (("a", a), ("b", b), ("c", c)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
            raise TypeError(f"the LSGAN target {name} must be a number, got {value!r}")
    if a == b:
        raise ValueError(f"the real target b and the fake target a must differ, got a = b = {a}: "
                         "D could not tell real from fake")

    def d_loss(real_scores, fake_scores):
        return d_loss_least_squares(real_scores, fake_scores, a=a, b=b)

    def g_loss(fake_scores):
        return g_loss_least_squares(fake_scores, c=c)

    d_loss.__qualname__ = d_loss.__name__ = f"d_loss_least_squares(a={a:g}, b={b:g})"
    g_loss.__qualname__ = g_loss.__name__ = f"g_loss_least_squares(c={c:g})"
    return GANLoss(d_loss, g_loss, scores="raw", name=f"least squares (a={a:g}, b={b:g}, c={c:g})")


# ---------------------------------------------------------------------------
# The objectives the book trains with, and their names for ``train_gan(loss="...")``.
# ---------------------------------------------------------------------------

MINIMAX = GANLoss(d_loss_minimax, g_loss_saturating, scores="probability", name="minimax")
NON_SATURATING = GANLoss(d_loss_minimax, g_loss_nonsaturating, scores="probability", name="non-saturating")
WASSERSTEIN = GANLoss(d_loss_wasserstein, g_loss_wasserstein, scores="raw", name="wasserstein")
HINGE = GANLoss(d_loss_hinge, g_loss_hinge, scores="raw", name="hinge")
LEAST_SQUARES = least_squares()  # a = 0, b = c = 1

GAN_LOSSES = {"minimax": MINIMAX, "non-saturating": NON_SATURATING, "wasserstein": WASSERSTEIN,
              "hinge": HINGE, "least squares": LEAST_SQUARES}


def gan_loss(loss: GANLoss | str) -> GANLoss:
    """The :class:`GANLoss` called ``loss`` (a key of :data:`GAN_LOSSES`); a GANLoss is returned as it is."""
    return lookup_loss(loss, GAN_LOSSES, "ganlib.losses")


def categorical_info_loss(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """-E[log Q(c | x)] for a categorical code: the cross-entropy of Q's logits (N, K)
    with the codes (N,) that made x. The mutual-information lower bound is
    L_I = H(c) - this (log K for a uniform code)."""
    if logits.dim() != 2 or codes.shape != logits.shape[:1]:
        raise ValueError(f"expected logits (N, K) and codes (N,), got {tuple(logits.shape)} and "
                         f"{tuple(codes.shape)}")
    return F.cross_entropy(logits, codes.long())


def gaussian_info_loss(mean: torch.Tensor, codes: torch.Tensor, std: float | torch.Tensor = 1.0) -> torch.Tensor:
    """-E[log Q(c | x)] for continuous codes under Q(c | x) = N(mean, diag(std^2)), summed over
    the code's dimensions, constants included (so H(c) - this is a true lower bound).

    ``std`` is a number (a fixed deviation) or a tensor shaped like ``mean`` (one that Q predicts)."""
    if mean.shape != codes.shape:
        raise ValueError(f"Q's means {tuple(mean.shape)} and the codes {tuple(codes.shape)} differ in shape")
    if isinstance(std, torch.Tensor):
        if std.shape != mean.shape:
            raise ValueError(f"Q's stds {tuple(std.shape)} and means {tuple(mean.shape)} differ in shape")
        if not bool((std > 0).all()):
            raise ValueError("every standard deviation must be positive (predict a log-std and exponentiate)")
        log_std = std.log()
    else:
        if not std > 0:
            raise ValueError(f"std must be positive, got {std}")
        log_std = math.log(std)
    nll = 0.5 * ((codes - mean) / std).pow(2) + log_std + 0.5 * math.log(2 * math.pi)
    return nll.sum(dim=1).mean()


def infogan_info_loss(cat_logits: torch.Tensor, cont_mean: torch.Tensor, cat_codes: torch.Tensor,
                      cont_codes: torch.Tensor, cat_weight: float = 1.0,
                      cont_weight: float = 0.1, cont_std: float | torch.Tensor = 1.0) -> torch.Tensor:
    """InfoGAN's term, lambda_cat (-E log Q(c_cat|x)) + lambda_cont (-E log Q(c_cont|x)).

    Minimising it over G and Q maximises the lower bound L_I(G, Q) on the
    mutual information between the codes and G's images (Chen et al. 2016).
    """
    return (cat_weight * categorical_info_loss(cat_logits, cat_codes)
            + cont_weight * gaussian_info_loss(cont_mean, cont_codes, cont_std))
