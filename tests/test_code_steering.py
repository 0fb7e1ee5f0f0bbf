"""What a continuous code steers: the ink attributes and the sweep statistics of ganlib.metrics.codes."""
import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from ganlib.metrics.codes import _spearman, code_steering, ink_attributes


def bar(width: float, shear: float) -> torch.Tensor:
    """A vertical bar of ``width`` pixels through the middle, its columns moved ``shear`` per row
    (positive: the top leans right), as a (1, 28, 28) image in [-1, 1]."""
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    centre = 13.5 - shear * (rows - 13.5)
    ink = ((cols - centre).abs() <= width / 2).float() * ((rows >= 4) & (rows <= 23)).float()
    return (ink * 2 - 1)[None]


def test_slant_and_stroke_width_of_drawn_bars():
    upright, leaning = ink_attributes(torch.stack([bar(3, 0.0), bar(3, 0.3)])).values()
    assert abs(float(upright[0])) < 1e-6 and float(upright[1]) == pytest.approx(0.3, abs=0.03)
    thin, thick = ink_attributes(torch.stack([bar(2, 0.0), bar(5, 0.0)]))["stroke width"]
    # 2 x area / outline = 2 * 20k / (2 * 20 + 2k) for a 20-row bar k columns wide (k = 2 and 6)
    assert float(thin) == pytest.approx(2 * 40 / 44, rel=1e-6)
    assert float(thick) == pytest.approx(2 * 120 / 52, rel=1e-6) and float(thick) > 2 * float(thin)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        ink_attributes(torch.zeros(2, 28, 28))


def test_spearman_matches_scipy():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(50, 9))
    rows[0] = np.arange(9)              # monotone up
    rows[1] = -np.arange(9.0) ** 3      # monotone down
    ours = _spearman(np.linspace(-2, 2, 9), rows)
    theirs = [stats.spearmanr(np.arange(9), r).statistic for r in rows]
    assert np.allclose(ours, theirs) and ours[0] == pytest.approx(1) and ours[1] == pytest.approx(-1)


class BarGenerator(nn.Module):
    """A stand-in InfoGAN generator: code 1 sets the bar's width, code 2 its slant (noise: jitter)."""

    latent_dim = 4
    latent_codes = {"n_categories": 10, "n_continuous": 2}

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        u = x[:, -2:]
        jitter = 0.05 * x[:, 0]
        return torch.stack([bar(3.5 + 1.2 * float(a), 0.12 * float(b) + float(j))
                            for a, b, j in zip(u[:, 0], u[:, 1], jitter)])


def test_code_steering_finds_what_each_code_moves():
    real = torch.stack([bar(w, s) for w in (2.0, 3.0, 4.0, 5.0) for s in (-0.2, 0.0, 0.2)])
    result = code_steering(BarGenerator(), n_sweeps=40, n_values=5, real_images=real)
    assert result.main_attribute(0) == "stroke width" and result.main_attribute(1) == "slant"
    assert result.monotone[0]["stroke width"] == 1.0 and result.rho[0]["stroke width"] > 0.99
    assert result.monotone[1]["slant"] == 1.0 and result.rho[1]["slant"] > 0.99
    assert result.moves[1]["slant"] == pytest.approx(0.48 / result.real_std["slant"], rel=0.1)
    assert result.moves[1]["stroke width"] < 0.5 * result.moves[1]["slant"]
    assert result.meets(1) and "continuous code 2: slant" in str(result)
    weak = code_steering(BarGenerator(), n_sweeps=40, n_values=5, span=0.2, real_images=real)
    assert weak.moves[1]["slant"] < 0.5 and not weak.meets(1)


def test_code_steering_refuses_a_generator_without_codes():
    with pytest.raises(ValueError, match="no continuous latent codes"):
        code_steering(nn.Linear(2, 2), real_images=torch.zeros(2, 1, 28, 28))
