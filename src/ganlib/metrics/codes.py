"""How well a learned categorical code matches the digits (InfoGAN, chapter 8).

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
