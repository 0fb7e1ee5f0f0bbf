"""ganlib.metrics: FID, KID, Inception Score, precision/recall, label coverage.

The formulas are checked against closed forms on Gaussians; the behaviour on
real MNIST test images (GANLIB_DATA) is checked in two feature spaces: pooled
pixels (always) and ganlib's MNIST classifier (when its weights are shipped).
"""

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from ganlib import metrics
from ganlib.metrics import features as features_module
from ganlib.metrics.fid import sqrtm_psd, trace_sqrt_product


def random_spd(d, rng, scale=1.0):
    a = rng.normal(size=(d, d)) * scale
    return a @ a.T + 0.1 * np.eye(d)


# --- FID formula -------------------------------------------------------------

def test_frechet_distance_closed_form_1d():
    # N(m1, s1^2) vs N(m2, s2^2): (m1 - m2)^2 + (s1 - s2)^2
    assert metrics.frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1)


def test_frechet_distance_closed_form_diagonal():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    s1, s2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(want, rel=1e-10)


def test_frechet_distance_matches_scipy_for_non_commuting_covariances():
    rng = np.random.default_rng(1)
    s1, s2 = random_spd(8, rng), random_spd(8, rng)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    want = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-8)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-8)


def test_matrix_square_root_is_stable_for_singular_covariances():
    # 5 samples in 20 dimensions: rank-deficient covariances, where a plain sqrtm
    # of the product returns complex numbers; the eigen route stays real and >= 0.
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5, 20)), rng.normal(size=(5, 20)) + 0.5
    value = metrics.fid_from_features(x, y)
    assert np.isfinite(value) and value > 0
    s = np.cov(x, rowvar=False)
    root = sqrtm_psd(s)
    assert np.allclose(root @ root, s, atol=1e-10)
    # round-off-sized eigenvalues (~1e-16) are cut off, so none adds a spurious sqrt(1e-16)
    assert trace_sqrt_product(s, s) == pytest.approx(np.trace(s), rel=1e-12)


def test_fid_of_samples_approaches_the_gaussian_closed_form():
    gen = torch.Generator().manual_seed(0)
    d, n = 4, 20000
    mu = torch.tensor([1.0, 0.0, -1.0, 0.5])
    scale = torch.tensor([1.0, 2.0, 0.5, 1.0])
    x = torch.randn(n, d, generator=gen)
    y = mu + scale * torch.randn(n, d, generator=gen)
    want = float((mu ** 2).sum() + ((scale - 1) ** 2).sum())
    assert metrics.fid_from_features(x, y) == pytest.approx(want, rel=0.05)


def test_fid_rejects_bad_input_with_a_clear_message():
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.fid_from_features(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.fid_from_features(np.full((10, 3), np.nan), np.zeros((10, 3)))


# --- KID, IS, precision/recall, coverage on synthetic data --------------------

def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(1000, 8, generator=gen), torch.randn(1000, 8, generator=gen)
    same = metrics.kid_from_features(x, y, subsets=10, subset_size=500)
    shifted = metrics.kid_from_features(x, y + 1.0, subsets=10, subset_size=500)
    assert abs(same.mean) < 3 * same.std + 1e-3
    assert shifted.mean > 50 * abs(same.mean) and shifted.mean > 0.1


def test_inception_score_limits():
    k = 10
    one_hot_even = torch.eye(k).repeat(10, 1)           # sure of each sample, all classes used
    assert metrics.inception_score_from_probs(one_hot_even, splits=1).mean == pytest.approx(k, rel=1e-6)
    one_class = torch.eye(k)[[3] * 50]                  # sure, but always the same class
    assert metrics.inception_score_from_probs(one_class, splits=1).mean == pytest.approx(1, abs=1e-6)
    unsure = torch.full((50, k), 1 / k)                 # never sure
    assert metrics.inception_score_from_probs(unsure, splits=1).mean == pytest.approx(1, abs=1e-6)
    with pytest.raises(ValueError, match="probability"):
        metrics.inception_score_from_probs(torch.randn(5, k), splits=1)


def test_precision_recall_separate_quality_from_coverage():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(2000, 2, generator=gen)
    collapsed = 0.3 * torch.randn(2000, 2, generator=gen)     # realistic but covers the centre only
    off = torch.randn(2000, 2, generator=gen) + 6.0           # covers nothing real
    pr_same = metrics.precision_recall(real, torch.randn(2000, 2, generator=gen))
    pr_collapsed = metrics.precision_recall(real, collapsed)
    pr_off = metrics.precision_recall(real, off)
    assert pr_same.precision > 0.9 and pr_same.recall > 0.9
    assert pr_collapsed.precision > 0.95 and pr_collapsed.recall < 0.5
    assert pr_off.precision < 0.05 and pr_off.recall < 0.05


def test_label_coverage_counts_missing_classes():
    probs = torch.eye(10)[torch.arange(700) % 7]             # only digits 0..6
    cov = metrics.label_coverage_from_probs(probs)
    assert cov.covered == 7 and cov.confident_share == 1.0
    assert cov.kl_from_uniform == pytest.approx(np.log(10 / 7), rel=1e-6)
    even = metrics.label_coverage_from_probs(torch.eye(10)[torch.arange(1000) % 10])
    assert even.covered == 10 and even.kl_from_uniform == pytest.approx(0, abs=1e-9)


# --- Inception path: a clear error offline -------------------------------------

def test_inception_offline_error_names_the_classifier_alternative(monkeypatch):
    import torchvision

    def no_network(*args, **kwargs):
        raise OSError("simulated: no internet connection")

    monkeypatch.setattr(torchvision.models, "inception_v3", no_network)
    monkeypatch.setattr(features_module, "_INCEPTION", {})
    with pytest.raises(metrics.InceptionUnavailableError) as info:
        metrics.inception_fid(torch.zeros(4, 1, 28, 28), torch.zeros(4, 1, 28, 28))
    message = str(info.value)
    assert "classifier_fid" in message and "NOT comparable" in message and "no internet" in message


def test_inception_path_runs_with_a_stand_in_network(monkeypatch):
    # Everything around the network (resize to 299, 3 channels, pool hook, softmax)
    # runs without downloading: a tiny stand-in with Inception's avgpool/fc layout.
    class StandIn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 2048, 3, stride=32)
            self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
            self.fc = torch.nn.Linear(2048, 1000)

        def forward(self, x):
            assert x.shape[1:] == (3, 299, 299)
            return self.fc(self.avgpool(self.conv(x)).flatten(1))

    monkeypatch.setattr(features_module, "load_inception", lambda device=None: StandIn().eval())
    feats, probs = features_module.inception_outputs(torch.rand(6, 1, 28, 28) * 2 - 1, batch_size=4,
                                                     device="cpu")
    assert feats.shape == (6, 2048) and probs.shape == (6, 1000)
    assert torch.allclose(probs.sum(1), torch.ones(6), atol=1e-5)


# --- real MNIST test images ------------------------------------------------------


def pixel_features(images):
    """A cheap, fixed feature map: 7x7 average-pooled pixels (49 numbers)."""
    return F.avg_pool2d(images, 4).flatten(1)


def classifier_features(images):
    return metrics.classifier_features(images)


def feature_spaces():
    from ganlib.classifier import WEIGHTS_PATH

    spaces = [pytest.param(pixel_features, id="pixels")]
    spaces.append(pytest.param(classifier_features, id="classifier", marks=pytest.mark.skipif(
        not WEIGHTS_PATH.exists(), reason="the MNIST classifier's weights are not shipped yet")))
    return spaces


def blur(images, k=5):
    return F.avg_pool2d(F.pad(images, (k // 2,) * 4, value=-1.0), k, stride=1)


@pytest.mark.parametrize("extract", feature_spaces())
def test_fid_real_vs_real_is_near_zero_and_grows_with_noise(mnist, extract):
    half = 2000
    a, b = mnist.images[:half], mnist.images[half:2 * half]
    fa = extract(a)
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(b.shape, generator=gen)
    fids = [metrics.fid_from_features(fa, extract((b + s * noise).clamp(-1, 1)))
            for s in (0.0, 0.1, 0.25, 0.5, 1.0)]
    assert all(x < y for x, y in zip(fids, fids[1:])), fids
    assert fids[0] < 0.05 * fids[-1], fids  # real vs real is small next to real vs noisy


@pytest.mark.parametrize("extract", feature_spaces())
def test_recall_falls_when_classes_are_dropped(mnist, extract):
    ref, other = mnist.images[:2000], mnist.images[2000:4000]
    f_ref = extract(ref)
    base = metrics.precision_recall(f_ref, extract(other))
    few = other[mnist.labels[2000:4000] < 5]  # a "generator" that never draws 5..9
    dropped = metrics.precision_recall(f_ref, extract(few))
    assert dropped.recall < base.recall - 0.2, (base, dropped)
    assert dropped.precision > base.precision - 0.1, (base, dropped)  # what it draws is still real


def test_precision_falls_for_noisy_samples_in_pixel_space(mnist):
    ref, other = mnist.images[:2000].flatten(1), mnist.images[2000:4000]
    gen = torch.Generator().manual_seed(0)
    noisy = (other + 0.4 * torch.randn(other.shape, generator=gen)).clamp(-1, 1)
    base = metrics.precision_recall(ref, other.flatten(1))
    worse = metrics.precision_recall(ref, noisy.flatten(1))
    assert worse.precision < base.precision - 0.3, (base, worse)


@pytest.mark.parametrize("extract", [pytest.param(lambda x: x.flatten(1), id="pixels784")] + feature_spaces())
def test_blur_trades_recall_for_precision(mnist, extract):
    # Blurred digits are "average" digits: they sit in the dense middle of the real
    # cloud (like the truncation trick), so precision does not fall, recall collapses.
    ref, other = mnist.images[:2000], mnist.images[2000:4000]
    f_ref = extract(ref)
    base = metrics.precision_recall(f_ref, extract(other))
    blurred = metrics.precision_recall(f_ref, extract(blur(other, 5)))
    assert blurred.recall < base.recall - 0.5, (base, blurred)


# --- the scoreboard ------------------------------------------------------------

def test_scoreboard_scores_every_generator_in_a_folder_and_writes_a_table(mnist, tmp_path):
    from ganlib import pretrained
    from ganlib.classifier import DigitClassifier
    from ganlib.models import MLPGenerator
    from ganlib.recipes import scoreboard

    torch.manual_seed(0)
    pretrained.save_generator(MLPGenerator(latent_dim=8, hidden=(16,)), "tiny", kwargs={
        "latent_dim": 8, "hidden": [16]}, card={"note": "untrained"}, weights_dir=tmp_path)
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    untrained_classifier = DigitClassifier().eval()  # the plumbing, not the numbers, is tested here
    rows, notes = scoreboard.score_generators(n_samples=200, weights_dir=tmp_path, progress=False,
                                              classifier=untrained_classifier)
    assert rows[0]["name"].startswith("real MNIST") and rows[1]["name"] == "`tiny`" and len(rows) == 2
    assert rows[1]["fid"] > rows[0]["fid"] and rows[1]["label_accuracy"] is None
    assert len(notes) == 1 and "broken" in notes[0]
    table = scoreboard.markdown_table(rows, notes, n_samples=200)
    assert table.count("\n|") == 3 and "MNIST-classifier" in table and "200 images" in table
    assert rows[1]["trained_on"] == "?"  # its card names no split
    assert "lower FID than the real row" not in table and "below 0" not in table
    better = [rows[0], {**rows[1], "fid": rows[0]["fid"] / 2, "kid": -0.01}]
    notes = scoreboard.reading_notes(better)
    assert len(notes) == 2 and "`tiny` has a lower FID than the real row" in notes[0] and "(`tiny`)" in notes[1]

    images, labels = scoreboard.sample_images(pretrained.load_generator("tiny", weights_dir=tmp_path), 30)
    assert images.shape == (30, 1, 28, 28) and labels is None
    again, _ = scoreboard.sample_images(pretrained.load_generator("tiny", weights_dir=tmp_path), 30)
    assert torch.equal(images, again)  # same seed, same samples


# --- chapter 9's auto-checked exercises ------------------------------------------

def test_chapter8_checks_accept_the_library_and_reject_elementwise_sqrt(monkeypatch, capsys):
    from ganlib import checks

    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    checks.check_frechet_distance(metrics.frechet_distance)
    checks.check_inception_score(lambda p: metrics.inception_score_from_probs(p, splits=1).mean)

    def elementwise(mu1, s1, mu2, s2):
        return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.sqrt(np.abs(s1 * s2))))

    with pytest.raises(AssertionError, match="strict mode"):
        checks.check_frechet_distance(elementwise)
    assert "matrix square root" in capsys.readouterr().out
