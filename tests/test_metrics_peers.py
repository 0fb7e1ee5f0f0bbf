"""ganlib's FID, KID and IS against torchmetrics, and the torchmetrics backend.

Offline and without any weights: torchmetrics' metrics accept a custom
feature extractor, so an identity "network" hands them the very feature
arrays ganlib gets, and the two computations must agree to 1e-6 relative.
The backend switch runs end to end with a small stand-in for torchmetrics'
Inception; nothing is downloaded (the loader is replaced, and a test proves
that a missing download gives a clear error).
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlib import metrics
from ganlib.metrics import backends, prd

tm = pytest.importorskip("torchmetrics.image", reason="torchmetrics is in requirements.txt")
from torchmetrics.image.kid import poly_mmd  # noqa: E402

REL = 1e-6
pytestmark = pytest.mark.filterwarnings("ignore:Metric .* will save all extracted features")


class Identity(torch.nn.Module):
    """A 'feature extractor' that returns its input: torchmetrics then sees our features."""

    def __init__(self, d):
        super().__init__()
        self.num_features = d

    def forward(self, x):
        return x


def torchmetrics_fid(real, fake):
    metric = tm.FrechetInceptionDistance(feature=Identity(real.shape[1]))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return float(metric.compute())



def random_features(n, d, seed, shift=0.0):
    gen = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    return torch.randn(n, d, generator=gen, dtype=torch.float64) @ mix + shift


def real_feature_pairs(mnist):
    """Two disjoint halves of MNIST's test split, as 7x7 pooled pixels and as blurred pixels."""
    a, b = mnist.images[:1500], mnist.images[1500:3000]
    pooled = lambda x: F.avg_pool2d(x, 4).flatten(1).double()  # noqa: E731
    blurred = F.avg_pool2d(F.pad(b, (2,) * 4, value=-1.0), 5, stride=1)
    return {"pixels real/real": (pooled(a), pooled(b)), "pixels real/blurred": (pooled(a), pooled(blurred))}


# --- FID ---------------------------------------------------------------------

@pytest.mark.parametrize("n,d,shift", [(600, 16, 0.0), (600, 16, 0.3), (400, 48, 1.0)])
def test_fid_equals_torchmetrics_on_random_features(n, d, shift):
    real, fake = random_features(n, d, 0), random_features(n + 37, d, 1, shift)
    ours, theirs = metrics.fid_from_features(real, fake), torchmetrics_fid(real, fake)
    assert ours == pytest.approx(theirs, rel=REL), (ours, theirs)


def test_fid_equals_torchmetrics_on_mnist_features(mnist):
    for name, (real, fake) in real_feature_pairs(mnist).items():
        ours, theirs = metrics.fid_from_features(real, fake), torchmetrics_fid(real, fake)
        assert ours == pytest.approx(theirs, rel=REL), (name, ours, theirs)


# --- KID ---------------------------------------------------------------------

def torchmetrics_kid(real, fake, subsets, subset_size, seed):
    metric = tm.KernelInceptionDistance(feature=Identity(real.shape[1]), subsets=subsets,
                                        subset_size=subset_size)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    torch.manual_seed(seed)  # torchmetrics draws its subsets from the global RNG, ganlib from a seeded one
    mean, std = metric.compute()
    return float(mean), float(std)


def test_mmd_equals_torchmetrics_poly_mmd():
    real, fake = random_features(300, 24, 2), random_features(300, 24, 3, 0.2)
    ours, theirs = metrics.kid.mmd2_unbiased(real, fake), float(poly_mmd(real, fake))
    assert ours == pytest.approx(theirs, rel=REL)


@pytest.mark.parametrize("source", ["random", "mnist"])
def test_kid_equals_torchmetrics_with_the_same_subsets(source, request):
    if source == "random":
        real, fake = random_features(700, 32, 4), random_features(650, 32, 5, 0.1)
    else:
        real, fake = real_feature_pairs(request.getfixturevalue("mnist"))["pixels real/blurred"]
    subsets, size = 8, 300
    ours = metrics.kid_from_features(real, fake, subsets=subsets, subset_size=size, seed=7)
    mean, std_population = torchmetrics_kid(real, fake, subsets, size, seed=7)
    assert ours.mean == pytest.approx(mean, rel=REL)
    # ganlib reports the sample std (ddof=1), torchmetrics the population one (ddof=0)
    assert ours.std * math.sqrt((subsets - 1) / subsets) == pytest.approx(std_population, rel=REL)


# --- Inception Score -----------------------------------------------------------

def torchmetrics_is(logits, splits, seed):
    metric = tm.InceptionScore(feature=Identity(logits.shape[1]), splits=splits)
    metric.update(logits)
    torch.manual_seed(seed)  # torchmetrics shuffles before splitting
    mean, std = metric.compute()
    return float(mean), float(std)


def inception_score_pairs(mnist):
    gen = torch.Generator().manual_seed(0)
    pairs = {"random logits": 3 * torch.randn(1000, 10, generator=gen, dtype=torch.float64)}
    # "real" logits: MNIST test digits scored by nearest-class-mean in pooled pixels
    x = F.avg_pool2d(mnist.images[:2000], 4).flatten(1).double()
    means = torch.stack([x[mnist.labels[:2000] == k].mean(0) for k in range(10)])
    pairs["mnist logits"] = -torch.cdist(x, means)
    return pairs


def test_inception_score_equals_torchmetrics(mnist):
    for name, logits in inception_score_pairs(mnist).items():
        splits, seed = 10, 3
        torch.manual_seed(seed)
        order = torch.randperm(len(logits))  # the shuffle torchmetrics makes with this seed
        ours = metrics.inception_score_from_probs(logits[order].softmax(1), splits=splits)
        mean, std = torchmetrics_is(logits, splits, seed)
        assert ours.mean == pytest.approx(mean, rel=REL), name
        assert ours.std == pytest.approx(std, rel=REL), name  # both ddof=1


# --- the backend switch, with a stand-in for torchmetrics' Inception -------------

class StandInInception(torch.nn.Module):
    """Takes what torchmetrics' Inception takes (uint8, 3 channels) and records it."""

    def __init__(self, out):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, out, 5, stride=3).double()  # float64: comparisons to 1e-6
        self.num_features, self.seen = out, []

    def forward(self, x):
        assert x.dtype == torch.uint8 and x.shape[1] == 3, (x.dtype, x.shape)
        self.seen.append(x.clone())
        return self.conv(x.double() / 128 - 1).mean((2, 3))


@pytest.fixture
def stand_in(monkeypatch):
    nets = {"2048": StandInInception(8), "logits_unbiased": StandInInception(10)}
    monkeypatch.setattr(backends, "load_torchmetrics_inception", lambda feature="2048", device=None: nets[feature])
    monkeypatch.setattr(backends, "torchmetrics_installed", lambda: True)
    return nets


def digits(n, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1


def test_backend_torchmetrics_runs_torchmetrics_on_the_stand_in(stand_in):
    real, fake = digits(60, 0), digits(50, 1) * 0.5
    net = stand_in["2048"]
    fid = metrics.inception_fid(real, fake, backend="torchmetrics", batch_size=16, device="cpu")
    seen = torch.cat(net.seen)
    assert len(net.seen) == 4 + 4 and seen.shape == (110, 3, 28, 28)
    # torchmetrics' documented preprocessing: [0, 1] floats -> (x * 255).byte()
    assert torch.equal(seen[:60], ((real + 1) / 2 * 255).byte().repeat(1, 3, 1, 1))
    with torch.no_grad():
        feats_r, feats_f = net(seen[:60]), net(seen[60:])
    assert fid == pytest.approx(metrics.fid_from_features(feats_r, feats_f), rel=REL)

    kid = metrics.inception_kid(real, fake, backend="torchmetrics", subsets=5, subset_size=20, device="cpu")
    want = metrics.kid_from_features(feats_r, feats_f, subsets=5, subset_size=20, seed=0)
    assert kid.mean == pytest.approx(want.mean, rel=REL) and kid.std == pytest.approx(want.std, rel=REL)

    score = metrics.inception_score(fake, splits=5, backend="torchmetrics", device="cpu")
    with torch.no_grad():
        logits = stand_in["logits_unbiased"](seen[60:])
    torch.manual_seed(0)
    want = metrics.inception_score_from_probs(logits[torch.randperm(50)].softmax(1), splits=5)
    assert score.mean == pytest.approx(want.mean, rel=REL) and score.std == pytest.approx(want.std, rel=REL)
    assert 1 <= score.mean <= 10


def test_automatic_backend_prefers_torchmetrics_where_it_loads(stand_in, monkeypatch):
    assert metrics.torchmetrics_available() and backends.resolve_backend(None) == "torchmetrics"
    real, fake = digits(20, 0), digits(20, 1)
    assert metrics.inception_fid(real, fake, device="cpu") == metrics.inception_fid(
        real, fake, backend="torchmetrics", device="cpu")

    def unavailable(feature="2048", device=None):
        raise metrics.InceptionUnavailableError("simulated: no weights")

    monkeypatch.setattr(backends, "load_torchmetrics_inception", unavailable)
    assert backends.resolve_backend(None) == "torchvision"
    with pytest.raises(ValueError, match="backend must be one of"):
        metrics.inception_fid(real, fake, backend="tf")


def test_torchmetrics_offline_says_why_and_what_to_use(monkeypatch, tmp_path):
    import torch_fidelity.feature_extractor_inceptionv3 as tfi

    def no_network(*args, **kwargs):
        raise OSError("simulated: no internet connection")

    monkeypatch.setattr(tfi, "load_state_dict_from_url", no_network)  # nothing is downloaded
    monkeypatch.setattr(backends, "_NETWORKS", {})
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(metrics.InceptionUnavailableError) as info:
        metrics.inception_fid(digits(4, 0), digits(4, 1), backend="torchmetrics", device="cpu")
    message = str(info.value)
    assert "no internet" in message and "pt_inception-2015-12-05" in message
    assert backends.WEIGHTS_FILE in message and "classifier_fid" in message
    assert not metrics.torchmetrics_available()


def test_torchmetrics_missing_names_the_extra(monkeypatch):
    monkeypatch.setattr(backends, "torchmetrics_installed", lambda: False)
    assert not metrics.torchmetrics_available() and backends.resolve_backend(None) == "torchvision"
    with pytest.raises(metrics.InceptionUnavailableError, match=r"ganlib\[metrics\]"):
        metrics.inception_score(digits(10, 0), splits=2, backend="torchmetrics")


def test_ganlib_imports_without_torchmetrics():
    code = ("import sys; sys.modules['torchmetrics'] = None; sys.modules['torch_fidelity'] = None\n"
            "import ganlib, ganlib.metrics\n"
            "from ganlib.metrics import backends\n"
            "assert not backends.torchmetrics_available()\n"
            "assert backends.resolve_backend(None) == 'torchvision'")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


# --- inputs checked (issue: KID and precision/recall refuse what FID refuses) -----

@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_kid_and_precision_recall_refuse_non_finite_features(bad):
    good = random_features(50, 4, 0)
    broken = good.clone()
    broken[3, 1] = bad
    for fn in (lambda a, b: metrics.kid_from_features(a, b, subsets=2, subset_size=10),
               metrics.precision_recall, metrics.fid_from_features):
        for args in ((broken, good), (good, broken)):
            with pytest.raises(ValueError, match="NaN or infinite"):
                fn(*args)


def test_kid_refuses_a_subset_as_large_as_the_sample():
    real, fake = random_features(100, 4, 0), random_features(40, 4, 1)
    with pytest.raises(ValueError, match=r"subset_size=40 .*smaller than the number of samples.*subset_size=20"):
        metrics.kid_from_features(real, fake, subsets=3, subset_size=40)
    with pytest.raises(ValueError, match="subset_size=1000"):
        metrics.kid_from_features(real, fake)  # the default 1000 is more than 40 samples
    assert metrics.kid_from_features(real, fake, subsets=3, subset_size=39).std > 0


def test_kid_is_computed_in_float64():
    real, fake = random_features(200, 8, 0), random_features(200, 8, 1, 0.05)
    kid = metrics.kid_from_features(real, fake, subsets=1, subset_size=199, seed=0)
    gen = torch.Generator().manual_seed(0)
    r = real[torch.randperm(200, generator=gen)[:199]]
    f = fake[torch.randperm(200, generator=gen)[:199]]
    assert kid.mean == pytest.approx(float(poly_mmd(r, f)), rel=1e-12)
    assert isinstance(kid, metrics.Score)


def test_precision_recall_distances_in_float64():
    # Large feature norms: float32 distances (|x|^2 + |y|^2 - 2 x.y) lose the small
    # differences that decide which samples fall inside a k-NN ball.
    real, fake = random_features(300, 16, 0) + 3e4, random_features(300, 16, 1) + 3e4
    pr = metrics.precision_recall(real, fake, k=3)

    def brute(ref, other):
        d_ref = np.linalg.norm(ref.numpy()[:, None] - ref.numpy()[None], axis=2)
        radii = np.sort(d_ref, axis=1)[:, 3]
        d = np.linalg.norm(other.numpy()[:, None] - ref.numpy()[None], axis=2)
        return float((d <= radii[None]).any(1).mean())

    assert (pr.precision, pr.recall) == (brute(real, fake), brute(fake, real))
    # in float32 every generated sample would land inside the real manifold
    r32, f32 = real.float(), fake.float()
    assert prd.inside_manifold(f32, r32, prd.knn_radii(r32, 3)).all() and pr.precision < 0.5


def test_fid_with_fewer_samples_than_dimensions_drops_round_off_eigenvalues():
    x = random_features(5, 20, 0)
    s = np.cov(x.numpy(), rowvar=False)
    from ganlib.metrics.fid import trace_sqrt_product

    assert trace_sqrt_product(s, s) == pytest.approx(np.trace(s), rel=1e-12)
    assert metrics.fid_from_features(x, x) == pytest.approx(0, abs=1e-9)
