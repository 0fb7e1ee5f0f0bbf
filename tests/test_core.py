"""Unit tests of ganlib's core: profile, device, seeding, data, losses, loop."""
import math
import os
from pathlib import Path

import pytest
import torch

import ganlib
from ganlib import data as gdata
from ganlib import losses
from ganlib.models import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from ganlib.train import History, train_gan

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def mnist_root():
    root = os.environ.get("GANLIB_DATA") or (str(SHARED_DATA) if SHARED_DATA.exists() else None)
    if root is None or not (Path(root) / "MNIST" / "raw").exists():
        pytest.skip("no MNIST files: set GANLIB_DATA")
    return root


# --- profile ---------------------------------------------------------------

def test_profile_reads_environment(monkeypatch):
    monkeypatch.setenv("GANLIB_PROFILE", "quick")
    p = ganlib.run_profile()
    assert p.quick and p.pick(quick=1, full=30) == 1
    monkeypatch.setenv("GANLIB_PROFILE", " FULL ")
    assert ganlib.run_profile().pick(quick=1, full=30) == 30


def test_profile_defaults_to_full(monkeypatch):
    monkeypatch.delenv("GANLIB_PROFILE", raising=False)
    assert ganlib.run_profile().name == "full"


def test_profile_rejects_unknown_names_with_advice(monkeypatch):
    monkeypatch.setenv("GANLIB_PROFILE", "fast")
    with pytest.raises(ValueError, match="'quick'.*'full'"):
        ganlib.run_profile()


def test_profile_prints_what_will_run():
    assert "quick" in str(ganlib.run_profile("quick")) and "GANLIB_PROFILE" in str(ganlib.run_profile("full"))


# --- device and seeds ------------------------------------------------------

def test_device_is_cpu_without_accelerator():
    dev = ganlib.device()
    expected = "cuda" if torch.cuda.is_available() else dev.type
    assert dev.type == expected and dev.type in {"cuda", "mps", "cpu"}


def test_seed_everything_repeats_random_draws():
    ganlib.seed_everything(123)
    a = torch.randn(5)
    ganlib.seed_everything(123)
    assert torch.equal(a, torch.randn(5))
    with pytest.raises(ValueError):
        ganlib.seed_everything(-1)


# --- data ------------------------------------------------------------------

def test_data_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLIB_DATA", str(tmp_path))
    assert gdata.data_root() == tmp_path
    monkeypatch.delenv("GANLIB_DATA")
    assert gdata.data_root().name == "data" and "ganlib" in str(gdata.data_root())


def test_load_mnist_test_split_is_real_and_normalized():
    data = gdata.load_mnist("test", root=mnist_root())
    assert data.images.shape == (10000, 1, 28, 28) and data.labels.shape == (10000,)
    assert data.images.min() == -1 and data.images.max() == 1
    assert sorted(data.labels.unique().tolist()) == list(range(10))
    # The first test image of MNIST is a 7, the second a 2.
    assert data.labels[:3].tolist() == [7, 2, 1]


def test_train_split_falls_back_to_test_split_only_when_allowed(capsys):
    root = mnist_root()
    if gdata._split_files(Path(root), "train"):
        pytest.skip("the training split is present here")
    data = gdata.load_mnist("train", root=root, limit=100, allow_test_split=True)
    assert data.split == "test" and len(data) == 100
    assert "test split instead" in capsys.readouterr().out


def test_missing_data_offline_names_the_setting(tmp_path, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(FileNotFoundError, match="GANLIB_DATA"):
        gdata.load_mnist("test", root=tmp_path)


def test_read_idx_rejects_files_that_are_not_idx(tmp_path):
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"not an idx file at all")
    with pytest.raises(ValueError, match="magic"):
        gdata.read_idx(bad)


def test_tensor_batches_cover_every_item_once_per_epoch():
    x = torch.arange(10)
    batches = gdata.TensorBatches(x, batch_size=3, drop_last=False)
    assert len(batches) == 4
    seen = torch.cat(list(batches))
    assert sorted(seen.tolist()) == list(range(10))
    first, second = torch.cat(list(batches)), torch.cat(list(batches))
    assert not torch.equal(first, second) or not torch.equal(first, x)  # reshuffled
    with pytest.raises(ValueError, match="larger than the data"):
        gdata.TensorBatches(x, batch_size=11)


def test_ring_of_gaussians_lies_on_the_ring():
    pts = gdata.ring_of_gaussians(4000, modes=8, radius=2.0, std=0.02,
                                  generator=torch.Generator().manual_seed(0))
    radii = pts.norm(dim=1)
    assert abs(radii.mean().item() - 2.0) < 0.01
    angles = torch.atan2(pts[:, 1], pts[:, 0])
    sectors = torch.round(angles / (2 * math.pi / 8)).remainder(8)
    counts = torch.bincount(sectors.long(), minlength=8)
    assert counts.min() > 400  # every mode is used


# --- losses ----------------------------------------------------------------

def test_losses_match_their_definitions():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    assert torch.allclose(losses.d_loss_minimax(real, fake), expected_d)
    assert torch.allclose(losses.g_loss_saturating(fake), torch.log(1 - d_fake).mean())
    assert torch.allclose(losses.g_loss_nonsaturating(fake), -torch.log(d_fake).mean())


def test_losses_stay_finite_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    for value in (losses.d_loss_minimax(big, big), losses.g_loss_nonsaturating(big),
                  losses.g_loss_saturating(big)):
        assert torch.isfinite(value)


# --- models ---------------------------------------------------------------

def test_mlp_gan_shapes_match_the_classic_model():
    G, D = MLPGenerator(), MLPDiscriminator()
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (3,)
    assert ganlib.models.count_parameters(G) == 100 * 256 + 256 + 256 * 512 + 512 + 512 * 784 + 784


# --- plots and show ---------------------------------------------------------

def test_plots_draw_history_and_grids():
    import matplotlib

    matplotlib.use("Agg")
    torch.manual_seed(0)
    G, D = ToyGenerator(latent_dim=2, hidden=32), ToyDiscriminator(hidden=32)
    points = gdata.ring_of_gaussians(512, generator=torch.Generator().manual_seed(1))
    history = train_gan(G, D, gdata.TensorBatches(points, batch_size=64), epochs=2, progress=False)
    fig = history.plot()
    assert len(fig.axes) == 2 and fig.axes[0].get_lines()
    grid = ganlib.plots.image_grid(torch.zeros(10, 1, 28, 28), nrow=5)
    assert grid.shape == (2 * 30 + 2, 5 * 30 + 2)
    assert ganlib.plot_snapshots(history).axes
    with pytest.raises(ValueError, match="empty"):
        ganlib.plot_history(History())


def test_show_source_gives_the_running_code():
    src = ganlib.show_source(ganlib.train_gan)
    assert "def train_gan" in src._repr_markdown_() and "ganlib/train/loop.py" in src._repr_markdown_()
    epoch = ganlib.show_source(ganlib.train.train_epoch)._repr_markdown_()  # chapter 4 reads it whole
    assert "d_step(" in epoch and "g_step(" in epoch and "def train_gan" not in epoch
    with pytest.raises(TypeError):
        ganlib.show_source(42)


def test_import_ganlib_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, ganlib; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def write_idx(path, array):
    """Write a uint8 tensor as an IDX file (gzipped when the name ends in .gz)."""
    import gzip

    header = bytes([0, 0, 0x08, array.dim()]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    blob = header + array.to(torch.uint8).numpy().tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(blob)


def small_mnist(root, images=None, labels=None):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = images if images is not None else torch.randint(0, 256, (20, 28, 28))
    labels = labels if labels is not None else torch.arange(20) % 10
    write_idx(raw / "t10k-images-idx3-ubyte.gz", images)
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", labels)
    return raw


def test_a_truncated_gzip_names_the_file(tmp_path):
    raw = small_mnist(tmp_path)
    path = raw / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz is damaged"):
        gdata.load_mnist("test", root=tmp_path)


def test_swapped_image_and_label_files_are_named(tmp_path):
    raw = small_mnist(tmp_path)
    images, labels = raw / "t10k-images-idx3-ubyte.gz", raw / "t10k-labels-idx1-ubyte.gz"
    swap = tmp_path / "swap.gz"
    images.rename(swap), labels.rename(images), swap.rename(labels)
    with pytest.raises(ValueError, match="swapped"):
        gdata.load_mnist("test", root=tmp_path)


def test_labels_outside_0_to_9_are_refused(tmp_path):
    small_mnist(tmp_path, labels=torch.arange(20))
    with pytest.raises(ValueError, match="0-9"):
        gdata.load_mnist("test", root=tmp_path)
