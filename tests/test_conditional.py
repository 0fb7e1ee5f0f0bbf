"""Chapter 6: the conditional generator and discriminator, their helpers and checks."""
import pytest
import torch

import ganlib
from ganlib.models.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    LabelCode,
    balanced_labels,
    digit_grid_inputs,
    one_hot,
)


@pytest.mark.parametrize("mode", ["embedding", "onehot"])
def test_generator_shapes_and_range(mode):
    torch.manual_seed(0)
    G = ConditionalGenerator(label_mode=mode, hidden=(32,))
    out = G(torch.randn(6, 100), torch.arange(6))
    assert out.shape == (6, 1, 28, 28)
    assert out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("mode", ["embedding", "onehot", "projection"])
def test_discriminator_returns_one_logit_per_image(mode):
    D = ConditionalDiscriminator(label_mode=mode, hidden=(32,))
    out = D(torch.randn(5, 1, 28, 28), torch.tensor([0, 1, 2, 3, 9]))
    assert out.shape == (5,)


@pytest.mark.parametrize("mode", ["embedding", "onehot", "projection"])
def test_discriminator_output_depends_on_label(mode):
    torch.manual_seed(0)
    D = ConditionalDiscriminator(label_mode=mode, hidden=(32,), dropout=0.0).eval()
    x = torch.randn(1, 1, 28, 28)
    logits = torch.stack([D(x, torch.tensor([c])) for c in range(10)])
    assert logits.std() > 0  # the same image gets different scores for different labels


def test_generator_output_depends_on_label_and_noise():
    torch.manual_seed(0)
    G = ConditionalGenerator(hidden=(32,)).eval()
    z = torch.randn(1, 100)
    a, b = G(z, torch.tensor([3])), G(z, torch.tensor([7]))
    c = G(torch.randn(1, 100), torch.tensor([3]))
    assert not torch.allclose(a, b)
    assert not torch.allclose(a, c)


def test_onehot_code_is_identity_embedding():
    code = LabelCode(10, "onehot")
    assert torch.equal(code(torch.tensor([0, 4, 9])), torch.eye(10)[[0, 4, 9]])
    assert sum(p.numel() for p in code.parameters()) == 0  # nothing to learn
    assert LabelCode(10, "embedding", 16)(torch.tensor([1, 2])).shape == (2, 16)


def test_projection_logit_is_head_plus_inner_product():
    torch.manual_seed(0)
    D = ConditionalDiscriminator(label_mode="projection", hidden=(16,), dropout=0.0).eval()
    x, y = torch.randn(3, 1, 28, 28), torch.tensor([1, 5, 8])
    h = D.features(x.flatten(1))
    expected = D.head(h).squeeze(1) + (D.class_vectors.weight[y] * h).sum(1)
    assert torch.allclose(D(x, y), expected, atol=1e-6)


def test_bad_labels_get_clear_errors():
    G = ConditionalGenerator(hidden=(8,))
    z = torch.randn(2, 100)
    with pytest.raises(ValueError, match="0..9"):
        G(z, torch.tensor([0, 10]))
    with pytest.raises(TypeError, match="integer class ids"):
        G(z, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="shape \\(N,\\)"):
        G(z, torch.eye(10)[:2].long())
    with pytest.raises(ValueError, match="2 labels for a batch of 3|3 labels"):
        G(torch.randn(3, 100), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="noise must have shape"):
        G(torch.randn(2, 50), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="label_mode"):
        ConditionalGenerator(label_mode="projection")
    with pytest.raises(ValueError, match="images must have shape"):
        ConditionalDiscriminator()(torch.randn(2, 784), torch.tensor([0, 1]))


def test_one_hot_helper():
    assert torch.equal(one_hot(torch.tensor([2, 0]), 3), torch.tensor([[0., 0., 1.], [1., 0., 0.]]))


def test_digit_grid_inputs_share_noise_down_each_column():
    z, labels = digit_grid_inputs(4, latent_dim=8, seed=1)
    assert z.shape == (40, 8) and labels.shape == (40,)
    grid_z, grid_y = z.view(10, 4, 8), labels.view(10, 4)
    assert torch.equal(grid_y[:, 0], torch.arange(10))  # row c asks for class c
    assert (grid_y == grid_y[:, :1]).all()
    assert torch.equal(grid_z[0], grid_z[9])  # column j is one noise vector in every row
    assert not torch.equal(grid_z[0, 0], grid_z[0, 1])


def test_balanced_labels():
    assert torch.bincount(balanced_labels(100)).tolist() == [10] * 10


def test_train_gan_conditional_runs_and_snapshots_labels():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    labels = torch.arange(64) % 10
    G, D = ConditionalGenerator(hidden=(16,)), ConditionalDiscriminator(hidden=(16,))
    assert G.conditional and D.conditional  # declared, so train_gan draws labels for them
    history = ganlib.train_gan(G, D, ganlib.TensorBatches(images, labels, batch_size=16), epochs=1,
                               progress=False)
    assert len(history) == 4
    assert history.snapshots[-1][1].shape == (64, 1, 28, 28)


def test_concat_label_to_noise_check_accepts_solution_and_rejects_slips():
    import torch.nn.functional as F

    def solution(z, labels, n_classes):
        return torch.cat([z, F.one_hot(labels, n_classes).float()], dim=1)

    from ganlib.checks import ch06
    assert _passes(ch06.check_concat_label_to_noise, solution)
    assert not _passes(ch06.check_concat_label_to_noise,
                       lambda z, y, n: torch.cat([F.one_hot(y, n).float(), z], dim=1))
    assert not _passes(ch06.check_concat_label_to_noise, lambda z, y, n: torch.cat([z, y[:, None].float()], 1))
    assert not _passes(ch06.check_concat_label_to_noise, lambda z, y, n: torch.cat([z, F.one_hot(y).float()], 1))


def test_embedding_by_matmul_check():
    import torch.nn.functional as F

    from ganlib.checks import ch06
    assert _passes(ch06.check_embedding_by_matmul, lambda y, table: F.one_hot(y, table.shape[0]).float() @ table)
    assert not _passes(ch06.check_embedding_by_matmul, lambda y, table: F.one_hot(y, table.shape[0]).float())
    assert not _passes(ch06.check_embedding_by_matmul, lambda y, table: table[y] + 1.0)


def _passes(check, fn) -> bool:
    """Run a check (which prints and returns nothing) and report whether every case passed."""
    import os
    old = os.environ.pop("GANLIB_STRICT_CHECKS", None)
    os.environ["GANLIB_STRICT_CHECKS"] = "1"
    try:
        check(fn)
        return True
    except AssertionError:
        return False
    finally:
        if old is None:
            os.environ.pop("GANLIB_STRICT_CHECKS")
        else:
            os.environ["GANLIB_STRICT_CHECKS"] = old


def test_keras_conditional_models_and_one_training_step():
    pytest.importorskip("ganlib.keras")  # torch's dynamo before TensorFlow
    import numpy as np

    import ganlib.keras as gk
    from ganlib.keras.conditional import ConditionalGAN, conditional_discriminator, conditional_generator

    labels = np.array([0, 3, 9, 9])
    z = np.zeros((4, 100), "float32")
    for mode in ("embedding", "onehot"):
        assert conditional_generator(label_mode=mode, hidden=(8,))([z, labels]).shape == (4, 28, 28, 1)
    images = np.zeros((4, 28, 28, 1), "float32")
    for mode in ("embedding", "onehot", "projection"):
        assert conditional_discriminator(label_mode=mode, hidden=(8,))([images, labels]).shape == (4, 1)
    with pytest.raises(ValueError, match="label_mode"):
        conditional_discriminator(label_mode="auxiliary")

    gan = ConditionalGAN(conditional_generator(hidden=(8,)), conditional_discriminator(hidden=(8,)),
                         latent_dim=100, seed=0)
    gan.compile(g_optimizer=gk.keras.optimizers.Adam(1e-3), d_optimizer=gk.keras.optimizers.Adam(1e-3))
    stats = gan.train_step((gk.tf.constant(images), gk.tf.constant(labels)))
    assert set(stats) == {"loss_D", "loss_G", "D(x)", "D(G(z))"}
    assert np.isfinite(float(stats["loss_D"]))
    with pytest.raises(ValueError, match="one each"):
        gan.generate_digits([1, 2], z)
    with pytest.raises(ValueError, match="0..9"):
        gan.generate_digits([0, 1, 2, 10], z)
    assert gan.generate_digits(labels, z).shape == (4, 28, 28, 1)


def test_shipped_conditional_generator_and_card():
    from ganlib.pretrained import MAX_BYTES, WEIGHTS_DIR, load_generator, model_card
    generator = load_generator("cgan")
    assert isinstance(generator, ConditionalGenerator) and not generator.training
    assert (WEIGHTS_DIR / "cgan.pt").stat().st_size <= MAX_BYTES
    z, labels = digit_grid_inputs(2, latent_dim=generator.latent_dim)
    images = ganlib.generate(generator, z, labels)
    assert images.shape == (20, 1, 28, 28) and images.abs().max() <= 1
    card = model_card("cgan")
    for key in ("data", "split", "epochs", "seed", "hardware", "wall_time_minutes_this_call", "reproduce"):
        assert key in card, f"the model card lacks {key!r}"
    scores = next(v for k, v in card.items() if k.startswith("scores ("))
    assert scores["label_accuracy"] >= 0.97  # the digit asked for is the digit drawn
