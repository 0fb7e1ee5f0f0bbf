"""What InfoGAN's learned codes do (chapter 8): how well the categorical code matches the
digits, and what each continuous code steers.

An InfoGAN's categorical code is learned without labels, so code 3 need not
draw the digit 3. We generate samples for every code value, let the MNIST
classifier read the digits, and match codes to digits by the **best one-to-one
assignment** (the linear assignment problem on the code-by-digit count
table, solved by ``scipy.optimize.linear_sum_assignment``: a modified
Jonker-Volgenant algorithm since SciPy 1.4, which finds the same optimum as
Kuhn's Hungarian method). The agreement is the share of samples whose digit is
the one assigned to their code: 1.0 means every code draws one digit of its
own; chance for ten equally used codes is about 0.1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class CodeAgreement:
    """``agreement``: share of samples drawn as their code's assigned digit;
    ``assignment[k]``: the digit matched to code k; ``counts[k, d]``: samples of code k read as d."""

    agreement: float
    assignment: list
    counts: np.ndarray

    def __str__(self) -> str:
        pairs = ", ".join(f"{k}->{d}" for k, d in enumerate(self.assignment))
        return (f"code/digit agreement {self.agreement:.1%} (best one-to-one assignment; "
                f"code->digit: {pairs})")


def best_assignment(codes, labels, n_codes: int = 10, n_labels: int = 10) -> CodeAgreement:
    """Match each code to a distinct label so that the most samples agree.

    ``codes`` and ``labels``: integer sequences of the same length (the code that made
    each sample, and what the classifier read it as).
    """
    from scipy.optimize import linear_sum_assignment

    codes = np.asarray(codes.cpu() if isinstance(codes, torch.Tensor) else codes).astype(np.int64).ravel()
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).astype(np.int64).ravel()
    if len(codes) != len(labels) or len(codes) == 0:
        raise ValueError(f"need as many codes as labels (and at least one), got {len(codes)} and {len(labels)}")
    if codes.min() < 0 or codes.max() >= n_codes or labels.min() < 0 or labels.max() >= n_labels:
        raise ValueError(f"codes must lie in 0..{n_codes - 1} and labels in 0..{n_labels - 1}")
    counts = np.zeros((n_codes, n_labels), dtype=np.int64)
    np.add.at(counts, (codes, labels), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    assignment = [-1] * n_codes
    for r, c in zip(rows, cols):
        assignment[int(r)] = int(c)
    return CodeAgreement(agreement=float(counts[rows, cols].sum() / len(codes)), assignment=assignment,
                         counts=counts)


@torch.no_grad()
def code_digit_agreement(generator: torch.nn.Module, n: int = 5000, seed: int = 0, classifier=None,
                         batch_size: int = 1000) -> CodeAgreement:
    """Generate ``n`` samples (every category equally often, as ``InfoGANCodes.fixed`` draws
    them), read them with the MNIST classifier, and match codes to digits one to one."""
    from ..classifier import predict_proba
    from ..latent import latent_sampler

    codes = getattr(generator, "latent_codes", None)
    if codes is None:
        raise ValueError(f"{type(generator).__name__} declares no latent_codes: it is not an InfoGAN generator")
    latents = latent_sampler(generator).fixed(n, seed=seed)
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    x = latents.g_inputs[0]
    images = torch.cat([generator(x[i:i + batch_size].to(dev)).float().cpu() for i in range(0, n, batch_size)])
    generator.train(was_training)
    predicted = predict_proba(images.clamp(-1, 1), classifier).argmax(dim=1)
    return best_assignment(latents.codes["categorical"], predicted, codes["n_categories"], 10)


# --- What a continuous code steers ----------------------------------------------------------

ATTRIBUTES = ("slant", "stroke width")


def ink_attributes(images: torch.Tensor) -> dict:
    """Per image (N, 1, 28, 28) in [-1, 1]: ``slant``, from the ink's second moments (columns
    moved per row, positive leaning right), and ``stroke width``, from the ink itself (pixels:
    twice the inked area over its boundary length, the width of a band of that area and outline).
    """
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected images of shape (N, 1, H, W), got {tuple(images.shape)}")
    ink = (images[:, 0].float().clamp(-1, 1) + 1) / 2                     # 0 = background, 1 = ink
    h, w = ink.shape[1:]
    rows, cols = torch.meshgrid(torch.arange(float(h)), torch.arange(float(w)), indexing="ij")
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    mean_r, mean_c = (ink * rows).sum((1, 2)) / mass, (ink * cols).sum((1, 2)) / mass
    dr, dc = rows - mean_r[:, None, None], cols - mean_c[:, None, None]
    var_r = (ink * dr ** 2).sum((1, 2)) / mass
    slant = -(ink * dr * dc).sum((1, 2)) / mass / var_r.clamp_min(1e-6)  # row index grows downwards
    inked = (ink > 0.5).float()
    padded = torch.nn.functional.pad(inked, (1, 1, 1, 1))
    # edges between an inked pixel and a background neighbour: the outline's length in pixels
    edges = ((padded[:, 1:, :] - padded[:, :-1, :]).abs().sum((1, 2))
             + (padded[:, :, 1:] - padded[:, :, :-1]).abs().sum((1, 2)))
    stroke = 2 * inked.sum((1, 2)) / edges.clamp_min(1.0)
    return {"slant": slant, "stroke width": stroke}


@dataclass
class CodeSteering:
    """What sweeping each continuous code moves, over ``n_sweeps`` random sweeps (fixed noise,
    category and other codes in each). For code j and attribute a: ``moves[j][a]`` is the median
    |a(end) - a(start)| in standard deviations of a over real digits; ``monotone[j][a]`` the share
    of sweeps with |Spearman rho| >= 0.8; ``rho[j][a]`` the median signed Spearman rho."""

    n_sweeps: int
    values: list
    moves: dict
    monotone: dict
    rho: dict
    real_std: dict

    def main_attribute(self, code: int) -> str:
        return max(ATTRIBUTES, key=lambda a: self.moves[code][a])

    def meets(self, code: int, move: float = 2.0, monotone: float = 0.9, other_ratio: float = 0.5) -> bool:
        """The chapter's target: the main attribute moves >= ``move`` std, monotonically in
        >= ``monotone`` of the sweeps, and the other attribute at most ``other_ratio`` as far."""
        main = self.main_attribute(code)
        other = next(a for a in ATTRIBUTES if a != main)
        return (self.moves[code][main] >= move and self.monotone[code][main] >= monotone
                and self.moves[code][other] <= other_ratio * self.moves[code][main])

    def __str__(self) -> str:
        lines = []
        for j in self.moves:
            parts = [f"{a} {self.moves[j][a]:.2f} std (rho {self.rho[j][a]:+.2f}, "
                     f"|rho| >= 0.8 in {self.monotone[j][a]:.0%})" for a in ATTRIBUTES]
            lines.append(f"continuous code {j + 1}: " + "; ".join(parts))
        return "\n".join(lines)


def _spearman(values: np.ndarray, attribute: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of ``attribute`` (sweeps, points) with ``values`` (increasing)."""
    ranks = attribute.argsort(axis=1).argsort(axis=1).astype(np.float64)
    x = np.arange(len(values), dtype=np.float64)
    x, ranks = x - x.mean(), ranks - ranks.mean(axis=1, keepdims=True)
    denom = np.sqrt((x ** 2).sum() * (ranks ** 2).sum(axis=1))
    return np.where(denom > 0, (ranks * x).sum(axis=1) / np.maximum(denom, 1e-12), 0.0)


@torch.no_grad()
def code_steering(generator: torch.nn.Module, n_sweeps: int = 1000, n_values: int = 9, span: float = 2.0,
                  seed: int = 0, real_images: torch.Tensor | None = None, batch_size: int = 1000) -> CodeSteering:
    """Sweep each continuous code from -span to span at ``n_values`` points, ``n_sweeps`` times
    (each sweep: its own noise and category, the other continuous codes drawn uniformly in
    [-1, 1] and held), and measure slant and stroke width (:func:`ink_attributes`) along it.
    ``real_images`` (default MNIST's test split) set each attribute's standard deviation."""
    from ..latent import InfoGANCodes

    codes = getattr(generator, "latent_codes", None)
    if codes is None or codes.get("n_continuous", 0) < 1:
        raise ValueError(f"{type(generator).__name__} has no continuous latent codes to sweep")
    if n_sweeps < 2 or n_values < 3:
        raise ValueError("need at least 2 sweeps of at least 3 points each")
    if real_images is None:
        from ..data import load_mnist
        real_images = load_mnist("test", verbose=False).images
    real_std = {a: float(v.std()) for a, v in ink_attributes(real_images.cpu()).items()}
    sampler = InfoGANCodes(generator.latent_dim, **codes)
    g = torch.Generator().manual_seed(seed)
    values = torch.linspace(-span, span, n_values)
    dev = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    moves, monotone, rho = {}, {}, {}
    try:
        for j in range(codes["n_continuous"]):
            z = torch.randn(n_sweeps, generator.latent_dim, generator=g).repeat_interleave(n_values, 0)
            c = torch.randint(codes["n_categories"], (n_sweeps,), generator=g).repeat_interleave(n_values)
            u = (torch.rand(n_sweeps, codes["n_continuous"], generator=g) * 2 - 1).repeat_interleave(n_values, 0)
            u[:, j] = values.repeat(n_sweeps)
            x = sampler.compose(z, c, u).g_inputs[0]
            images = torch.cat([generator(x[i:i + batch_size].to(dev)).float().cpu()
                                for i in range(0, len(x), batch_size)])
            measured = ink_attributes(images)
            moves[j], monotone[j], rho[j] = {}, {}, {}
            for a in ATTRIBUTES:
                along = measured[a].reshape(n_sweeps, n_values).numpy().astype(np.float64)
                moves[j][a] = float(np.median(np.abs(along[:, -1] - along[:, 0])) / real_std[a])
                r = _spearman(values.numpy(), along)
                monotone[j][a] = float((np.abs(r) >= 0.8).mean())
                rho[j][a] = float(np.median(r))
    finally:
        generator.train(was_training)
    return CodeSteering(n_sweeps=n_sweeps, values=values.tolist(), moves=moves, monotone=monotone, rho=rho,
                        real_std=real_std)
