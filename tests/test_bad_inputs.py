"""Nothing silently wrong: each mistake below once trained, resumed or scored without a word
(or died with a message that named nothing). Each now stops with what to do."""
import os

import pytest
import torch

import ganlib
from ganlib import data as gdata
from ganlib import losses
from ganlib.latent import LabelledNoise, NoiseSampler
from ganlib.models import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from ganlib.train import EMA, AfterDStep, Checkpoint, read_checkpoint, train_gan


def toy(seed=0, n=256, batch_size=32, shift=0.0):
    torch.manual_seed(seed)
    points = gdata.ring_of_gaussians(n, generator=torch.Generator().manual_seed(1)) + shift
    return ToyGenerator(latent_dim=2, hidden=16), ToyDiscriminator(hidden=16), \
        gdata.TensorBatches(points, batch_size=batch_size)


def mnist_like(images):
    return MLPGenerator(latent_dim=8, hidden=[16]), MLPDiscriminator(hidden=[16]), \
        gdata.TensorBatches(images, batch_size=8)


@pytest.fixture(scope="module")
def digits():
    return ganlib.load_mnist("train", limit=32, verbose=False).images


# --- checkpoints ----------------------------------------------------------------------

def test_a_checkpoint_with_flipped_bytes_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "run.pt"
    G, D, data = toy()
    train_gan(G, D, data, epochs=1, checkpoint=path, progress=False)
    blob = bytearray(path.read_bytes())
    middle = len(blob) // 2
    blob[middle:middle + 64] = bytes(b ^ 0xFF for b in blob[middle:middle + 64])
    path.write_bytes(bytes(blob))
    with pytest.raises(RuntimeError, match=r"run\.pt.*(SHA-256|cannot be read)"):
        read_checkpoint(path)
    G, D, data = toy()
    with pytest.raises(RuntimeError, match=r"run\.pt"):
        train_gan(G, D, data, epochs=2, checkpoint=path, progress=False)


def test_an_unwritable_checkpoint_path_fails_before_training(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    G, D, data = toy()
    with pytest.raises(RuntimeError, match="cannot write the checkpoint"):
        train_gan(G, D, data, epochs=1, checkpoint=tmp_path / "a_file" / "run.pt", progress=False)
    assert all(p.grad is None for p in G.parameters())  # not one step was taken


def test_two_processes_cannot_train_into_one_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    path.with_suffix(".pt.lock").write_text(str(os.getppid()))  # a live process that is not us
    G, D, data = toy()
    with pytest.raises(RuntimeError, match=r"another process \(pid \d+\) is training into"):
        train_gan(G, D, data, epochs=1, checkpoint=path, progress=False)


def test_a_stale_lock_from_a_crashed_run_is_taken_over(tmp_path):
    path = tmp_path / "run.pt"
    path.with_suffix(".pt.lock").write_text("999999999")  # no such process
    G, D, data = toy()
    train_gan(G, D, data, epochs=1, checkpoint=path, progress=False)
    assert path.exists() and not path.with_suffix(".pt.lock").exists()


def test_a_tilde_in_the_checkpoint_path_means_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    G, D, data = toy()
    train_gan(G, D, data, epochs=1, checkpoint="~/runs/run.pt", progress=False)
    assert (tmp_path / "runs" / "run.pt").exists() and not (tmp_path / "~").exists()


@pytest.mark.parametrize("change", ["penalty weight", "clip bound", "ema decay", "data", "loss"])
def test_resuming_with_other_settings_is_refused(change, tmp_path):
    def run(epochs, weight=10.0, clip=0.01, decay=0.9, shift=0.0, loss=losses.WASSERSTEIN):
        G, D, data = toy(shift=shift)
        return train_gan(G, D, data, epochs=epochs, loss=loss, penalty=losses.gp_penalty(weight),
                         callbacks=[AfterDStep(losses.clip_weights(clip)), EMA(decay)],
                         checkpoint=tmp_path / "run.pt", progress=False)

    run(1)
    other = {"penalty weight": {"weight": 1.0}, "clip bound": {"clip": 0.1}, "ema decay": {"decay": 0.5},
             "data": {"shift": 0.5}, "loss": {"loss": losses.HINGE}}[change]
    with pytest.raises(ValueError, match="belongs to a different run"):
        run(2, **other)
    run(2)  # the same settings continue


def test_two_emas_of_different_decays_keep_their_own_states(tmp_path):
    def run(epochs, checkpoint=None):
        G, D, data = toy()
        fast, slow = EMA(0.5), EMA(0.99)
        train_gan(G, D, data, epochs=epochs, callbacks=[fast, slow], checkpoint=checkpoint, progress=False)
        return fast, slow

    fast_whole, slow_whole = run(2)
    run(1, tmp_path / "run.pt")
    fast, slow = run(2, tmp_path / "run.pt")
    for a, b in ((fast, fast_whole), (slow, slow_whole)):
        assert all(torch.equal(x, y) for x, y in zip(a.generator.state_dict().values(),
                                                      b.generator.state_dict().values()))


# --- inputs -----------------------------------------------------------------------------

def test_swapped_optimizers_are_refused():
    G, D, data = toy()
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    with pytest.raises(ValueError, match="swap opt_g and opt_d"):
        train_gan(G, D, data, epochs=1, optimizers=(opt_d, opt_g), progress=False)


def test_images_in_zero_one_are_refused(digits):
    G, D, data = mnist_like((digits + 1) / 2)
    with pytest.raises(ValueError, match=r"\[0, 1\].*2x - 1"):
        train_gan(G, D, data, epochs=1, progress=False)


def test_a_nan_pixel_is_named_before_training(digits):
    images = digits.clone()
    images[3, 0, 5, 5] = float("nan")
    G, D, data = mnist_like(images)
    with pytest.raises(ValueError, match="1 of the real images hold NaN"):
        train_gan(G, D, data, epochs=1, progress=False)


def test_a_latent_size_that_does_not_fit_the_generator_is_named(digits):
    G, D, data = mnist_like(digits)
    with pytest.raises(ValueError, match=r"cannot take the inputs NoiseSampler\(latent_dim=5\)"):
        train_gan(G, D, data, epochs=1, latents=NoiseSampler(5), progress=False)
    with pytest.raises(ValueError, match="LabelledNoise only for a conditional"):
        train_gan(G, D, gdata.TensorBatches(digits, torch.zeros(len(digits), dtype=torch.long), batch_size=8),
                  epochs=1, latents=LabelledNoise(8, 10), progress=False)


def test_empty_data_says_so():
    class Empty:
        def __len__(self):
            return 0

        def __iter__(self):
            return iter(())

    G, D, _ = toy()
    with pytest.raises(ValueError, match="no batch"):
        train_gan(G, D, Empty(), epochs=1, progress=False)


def test_a_loss_that_is_not_one_number_is_named():
    G, D, data = toy()
    with pytest.raises(ValueError, match="d_loss must return one number"):
        train_gan(G, D, data, epochs=1, progress=False,
                  loss=losses.GANLoss(lambda real, fake: (fake - real), losses.g_loss_wasserstein, "raw"))
    G, D, data = toy()
    with pytest.raises(ValueError, match="g_loss must return one number"):
        train_gan(G, D, data, epochs=1, progress=False,
                  loss=losses.GANLoss(losses.d_loss_wasserstein, lambda fake: -fake, "raw"))


def test_checkpoint_object_expands_the_home_folder():
    assert "~" not in str(Checkpoint("~/x.pt").path)


# --- shipped weights ---------------------------------------------------------------------

def copy_shipped(name, folder):
    import shutil

    from ganlib.pretrained import WEIGHTS_DIR
    folder.mkdir(exist_ok=True)
    for suffix in (".pt", ".json"):
        shutil.copy(WEIGHTS_DIR / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder / f"{name}.pt"


def test_shipped_weights_with_changed_bytes_are_refused(tmp_path):
    from ganlib.pretrained import load_generator
    path = copy_shipped("dcgan", tmp_path)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2:len(blob) // 2 + 64] = bytes(64)
    path.write_bytes(bytes(blob))
    with pytest.raises(RuntimeError, match=r"dcgan\.pt does not match the SHA-256 its model card"):
        load_generator("dcgan", weights_dir=tmp_path)


def test_nan_weights_are_refused_and_never_shipped(tmp_path):
    from ganlib.pretrained import load_generator, save_generator
    G = MLPGenerator(latent_dim=8, hidden=[16])
    with torch.no_grad():
        G.net[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        save_generator(G, "bad", kwargs={"latent_dim": 8, "hidden": [16]}, card={}, weights_dir=tmp_path)
    torch.save({"module": "ganlib.models.mlp", "class": "MLPGenerator", "kwargs": {"latent_dim": 8, "hidden": [16]},
                "state_dict": G.state_dict()}, tmp_path / "bad.pt")
    with pytest.raises(RuntimeError, match=r"bad\.pt holds NaN or infinite weights"):
        load_generator("bad", weights_dir=tmp_path)


def test_a_weights_folder_names_its_own_contents_and_survives_junk(tmp_path):
    from ganlib.pretrained import available, load_generator
    copy_shipped("mlp_gan", tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not weights at all")
    assert available(tmp_path) == ["mlp_gan"]
    with pytest.raises(FileNotFoundError, match=r"in .*available there: \['mlp_gan'\]"):
        load_generator("dcgan", weights_dir=tmp_path)
    with pytest.raises(RuntimeError, match=r"junk\.pt cannot be read as shipped weights"):
        load_generator("junk", weights_dir=tmp_path)
    path = copy_shipped("cgan", tmp_path)
    path.with_suffix(".json").unlink()  # no card to vouch: the truncation itself is named
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(RuntimeError, match=r"cgan\.pt cannot be read"):
        load_generator("cgan", weights_dir=tmp_path)


# --- recipes --------------------------------------------------------------------------------

@pytest.mark.parametrize("flags, message", [
    (["--score-samples", "1"], "--score-samples must be at least 100"),
    (["--minutes", "0"], "--minutes must be a positive"),
    (["--threads", "-1"], "--threads must be 0"),
    (["--max-epochs", "0"], "--max-epochs must be at least 1"),
    (["--limit", "10"], "--limit must be at least one batch"),
])
def test_recipe_flags_are_checked_before_training(flags, message, tmp_path, monkeypatch):
    from ganlib.recipes import common, mlp_gan
    monkeypatch.setattr(common, "train", lambda *a, **k: pytest.fail("trained with a bad flag"))
    with pytest.raises(SystemExit, match=message):
        mlp_gan.run([*flags, "--weights-dir", str(tmp_path)])


def test_a_recipe_that_fails_while_scoring_leaves_the_shipped_model(tmp_path, monkeypatch):
    from ganlib.metrics import scoring
    from ganlib.recipes import mlp_gan
    path = copy_shipped("mlp_gan", tmp_path / "w")
    before = {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir()}

    original = scoring.score_generator

    def broken(generator, n, seed):  # the score log during training works; the card's scoring fails
        if seed == 0:
            raise RuntimeError("scoring failed")
        return original(generator, n=n, seed=seed)

    monkeypatch.setattr(scoring, "score_generator", broken)
    with pytest.raises(RuntimeError, match="scoring failed"):
        mlp_gan.run(["--max-epochs", "1", "--limit", "128", "--score-samples", "100", "--threads", "1",
                     "--weights-dir", str(tmp_path / "w"),
                     "--checkpoint-dir", str(tmp_path / "c")])
    assert {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir() if not p.name.startswith(".")} == before
    assert path.exists()


# --- metrics ----------------------------------------------------------------------------------

def test_frechet_distance_refuses_what_is_not_a_gaussian():
    import numpy as np

    from ganlib.metrics.fid import frechet_distance
    mu, sigma = np.zeros(3), np.eye(3)
    assert frechet_distance(mu, sigma, mu, sigma) == 0.0
    with pytest.raises(ValueError, match="mu1 contains NaN"):
        frechet_distance(np.array([np.nan, 0, 0]), sigma, mu, sigma)
    with pytest.raises(ValueError, match="sigma2 contains NaN or infinite"):
        frechet_distance(mu, sigma, mu, np.diag([1.0, np.inf, 1.0]))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        frechet_distance(mu, sigma, mu, np.diag([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="not symmetric"):
        frechet_distance(mu, np.triu(np.ones((3, 3))), mu, sigma)


def test_label_coverage_refuses_nan_and_logits_and_takes_float16():
    from ganlib.metrics.coverage import label_coverage_from_probs
    probs = torch.softmax(torch.randn(50, 10, generator=torch.Generator().manual_seed(0)) * 5, dim=1)
    with pytest.raises(ValueError, match="NaN"):
        label_coverage_from_probs(torch.full((4, 10), float("nan")))
    with pytest.raises(ValueError, match="not the logits"):
        label_coverage_from_probs(torch.log(probs))
    half = label_coverage_from_probs(probs.half())
    assert half.covered == label_coverage_from_probs(probs).covered


def test_ganlib_data_naming_mnist_raw_itself_says_which_folder_to_name(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    monkeypatch.setenv("GANLIB_DATA", str(raw))
    with pytest.raises(ValueError, match=f"set GANLIB_DATA={tmp_path}$"):
        ganlib.data_root()
