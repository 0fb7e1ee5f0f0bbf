"""Chapter 5: the DCGAN networks, their initialisation, the ablation switch,
latent interpolation, and the chapter's checks."""
import math

import pytest
import torch
from torch import nn

import ganlib
from ganlib.latent import interpolate, lerp, slerp
from ganlib.models import DCGANDiscriminator, DCGANGenerator, dcgan_init_


@pytest.mark.parametrize("width", [8, 32])
def test_generator_makes_one_channel_28x28_images_in_tanh_range(width):
    G = DCGANGenerator(latent_dim=16, width=width)
    out = G(torch.randn(5, 16))
    assert out.shape == (5, 1, 28, 28)
    assert out.min() >= -1 and out.max() <= 1


def test_generator_layer_shapes_are_7_14_28():
    G = DCGANGenerator(latent_dim=10, width=8)
    x, sizes = torch.randn(2, 10, 1, 1), []
    for layer in G.net:
        x = layer(x)
        if isinstance(layer, nn.ConvTranspose2d):
            sizes.append(tuple(x.shape[1:]))
    assert sizes == [(16, 7, 7), (8, 14, 14), (1, 28, 28)]


def test_discriminator_gives_one_logit_per_image_and_no_sigmoid():
    D = DCGANDiscriminator(width=8)
    with torch.no_grad():
        D.net[-1].bias.fill_(5.0)  # a logit can leave [0, 1]; a probability could not
    out = D(torch.randn(3, 1, 28, 28))
    assert out.shape == (3,)
    assert (out > 1).all()


def test_discriminator_has_no_pooling_and_downsamples_by_stride():
    D = DCGANDiscriminator()
    kinds = [type(m) for m in D.modules()]
    assert not any(issubclass(k, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
                                  nn.AdaptiveMaxPool2d)) for k in kinds)
    strides = [m.stride for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert strides[:2] == [(2, 2), (2, 2)]
    slopes = {m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}


def test_a_dense_read_out_is_infogans_discriminator_body_and_head():
    from ganlib.models.infogan import InfoGANDiscriminator

    torch.manual_seed(0)
    D = DCGANDiscriminator(width=8, dense_features=32)
    torch.manual_seed(0)
    info_D = InfoGANDiscriminator(width=8, feature_dim=32)
    # The same layers, made and initialised in the same order: a seeded run of one is a run of the other.
    assert [p.shape for p in D.parameters()] == [p.shape for p in info_D.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(D.parameters(), info_D.parameters()))
    x = torch.randn(6, 1, 28, 28)
    assert torch.allclose(D(x), info_D(x)) and D(x).shape == (6,)
    hidden = [m for m in D.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in hidden] == [(16 * 49, 32), (32, 1)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in D.modules()) == 1
    # Without batch norm the hidden layer keeps its bias; spectral norm covers it too.
    plain = DCGANDiscriminator(width=8, dense_features=32, use_batchnorm=False, spectral_norm=True)
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in plain.modules())
    assert all(hasattr(m, "parametrizations") for m in plain.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    for bad in (0, -3, 2.5, True, "1024"):
        with pytest.raises(ValueError, match="dense_features must be a positive integer"):
            DCGANDiscriminator(dense_features=bad)


def test_batchnorm_placement_follows_the_guidelines():
    G, D = DCGANGenerator(), DCGANDiscriminator()
    # D: no batch norm right after the first (input) convolution.
    assert isinstance(D.net[0], nn.Conv2d) and isinstance(D.net[1], nn.LeakyReLU)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == 1
    # G: batch norm + ReLU after every layer but the output, which ends in tanh.
    assert sum(isinstance(m, nn.BatchNorm2d) for m in G.modules()) == 2
    assert isinstance(G.net[-1], nn.Tanh) and isinstance(G.net[-2], nn.ConvTranspose2d)
    assert any(isinstance(m, nn.ReLU) for m in G.modules())


def test_ablation_flag_removes_every_batchnorm_and_restores_biases():
    for model in (DCGANGenerator(use_batchnorm=False), DCGANDiscriminator(use_batchnorm=False)):
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
        convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        assert all(c.bias is not None for c in convs)
    out = DCGANGenerator(use_batchnorm=False)(torch.randn(4, 100))
    assert out.shape == (4, 1, 28, 28)
    # With batch norm the layer before it carries no (useless) bias.
    assert DCGANGenerator().net[0].bias is None


def test_spectral_norm_discriminator_has_unit_singular_values_and_refuses_batchnorm():
    torch.manual_seed(0)
    D = DCGANDiscriminator(width=16, use_batchnorm=False, spectral_norm=True)
    convs = [m for m in D.net if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(hasattr(c, "parametrizations") for c in convs)
    # The N(0, 0.02) start is far from sigma = 1; the normalized weights are not.
    raw = [torch.linalg.matrix_norm(c.parametrizations.weight.original.flatten(1), ord=2) for c in convs]
    assert min(raw) < 0.5
    with torch.no_grad():
        for _ in range(10):  # power iteration refines sigma in training mode
            D(torch.randn(8, 1, 28, 28))
        for c in convs:
            assert abs(torch.linalg.matrix_norm(c.weight.flatten(1), ord=2).item() - 1) < 1e-2
    # A training step still reaches the raw weights through the parametrization.
    D(torch.randn(4, 1, 28, 28)).sum().backward()
    assert all(c.parametrizations.weight.original.grad is not None for c in convs)
    with pytest.raises(ValueError, match="use_batchnorm=False"):
        DCGANDiscriminator(spectral_norm=True)


def test_shipped_dcgan_configuration_reads_d_features_through_a_hidden_dense_layer():
    from ganlib.recipes.dcgan import CONFIG
    G, D = CONFIG.networks()
    assert CONFIG.loss == "non-saturating" and D.dense_features == 1024 and not D.spectral_norm
    assert [type(m) for m in D.net[-5:]] == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.LeakyReLU, nn.Linear]
    assert G.width == D.width == 64


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    G, D = DCGANGenerator(width=64), DCGANDiscriminator(width=64)
    for model in (G, D):
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.numel() > 1000:
                assert abs(m.weight.mean().item()) < 0.002
                assert abs(m.weight.std().item() - 0.02) < 0.002
                if m.bias is not None:
                    assert (m.bias == 0).all()
            if isinstance(m, nn.BatchNorm2d):
                assert abs(m.weight.mean().item() - 1.0) < 0.01
                assert 0.01 < m.weight.std().item() < 0.03
                assert (m.bias == 0).all()


def test_dcgan_init_can_be_applied_to_any_module():
    layer = nn.Conv2d(3, 300, 3)
    nn.init.constant_(layer.weight, 1.0)
    dcgan_init_(layer)
    assert abs(layer.weight.std().item() - 0.02) < 0.002
    dcgan_init_(nn.ReLU())  # modules without weights are left alone


def test_bad_input_shapes_get_clear_errors():
    with pytest.raises(ValueError, match="noise of shape"):
        DCGANGenerator(latent_dim=100)(torch.randn(2, 64))
    with pytest.raises(ValueError, match="28, 28"):
        DCGANDiscriminator()(torch.randn(2, 3, 28, 28))
    with pytest.raises(ValueError):
        DCGANGenerator(width=0)


def test_a_few_training_steps_run_and_record_history():
    torch.manual_seed(0)
    G, D = DCGANGenerator(latent_dim=8, width=4), DCGANDiscriminator(width=4)
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    history = ganlib.train_gan(G, D, ganlib.TensorBatches(images, batch_size=8), epochs=1,
                               progress=False)
    assert len(history) == 4
    assert all(math.isfinite(v) for v in history.records["loss_D"])


def test_conv_transpose_output_size_formula_matches_pytorch():
    from ganlib.checks.ch05 import check_conv_transpose_output_size

    def formula(size, kernel, stride, padding, output_padding=0):
        return (size - 1) * stride - 2 * padding + kernel + output_padding

    for size, k, s, p, op in [(1, 7, 1, 0, 0), (7, 4, 2, 1, 0), (7, 3, 2, 1, 1), (4, 5, 3, 2, 0)]:
        layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
        assert layer(torch.zeros(1, 1, size, size)).shape[-1] == formula(size, k, s, p, op)
    assert check_conv_transpose_output_size(formula) is None  # strict mode raises on failure


# --- latent interpolation ----------------------------------------------------

def test_lerp_and_slerp_hit_both_ends():
    z0, z1 = torch.randn(50), torch.randn(50)
    for fn in (lerp, slerp):
        assert torch.allclose(fn(z0, z1, 0.0), z0, atol=1e-5)
        assert torch.allclose(fn(z0, z1, 1.0), z1, atol=1e-5)
        path = fn(z0, z1, torch.linspace(0, 1, 7))
        assert path.shape == (7, 50)


def test_slerp_keeps_the_norm_of_equal_length_vectors_and_lerp_does_not():
    torch.manual_seed(1)
    z0, z1 = torch.randn(100), torch.randn(100)
    z1 = z1 / z1.norm() * z0.norm()
    mid_s, mid_l = slerp(z0, z1, 0.5), lerp(z0, z1, 0.5)
    assert abs(mid_s.norm() - z0.norm()) < 1e-4
    # Nearly orthogonal vectors: the straight line's midpoint is shorter by about sqrt(2).
    assert mid_l.norm() < 0.8 * z0.norm()


def test_slerp_on_a_quarter_circle_and_parallel_vectors():
    e0, e1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    angle = math.pi / 6
    assert torch.allclose(slerp(e0, e1, 1 / 3), torch.tensor([math.cos(angle), math.sin(angle)]), atol=1e-6)
    z = torch.randn(10)
    assert torch.allclose(slerp(z, 2 * z, 0.5), 1.5 * z, atol=1e-5)  # falls back to lerp


def test_interpolate_and_errors():
    z0, z1 = torch.randn(20), torch.randn(20)
    assert interpolate(z0, z1, steps=5, method="lerp").shape == (5, 20)
    with pytest.raises(ValueError, match="steps"):
        interpolate(z0, z1, steps=1)
    with pytest.raises(ValueError, match="method"):
        interpolate(z0, z1, method="cubic")
    with pytest.raises(ValueError, match="same length"):
        slerp(torch.randn(3), torch.randn(4), 0.5)
    with pytest.raises(TypeError):
        lerp([1.0, 2.0], [3.0, 4.0], 0.5)


def test_slerp_check_accepts_the_library_slerp():
    assert ganlib.checks.check_slerp(slerp) is None


# --- the Keras companion -------------------------------------------------------

@pytest.mark.parametrize("use_batchnorm", [True, False])
def test_keras_dcgan_matches_the_pytorch_networks(use_batchnorm):
    pytest.importorskip("ganlib.keras")  # torch's dynamo before TensorFlow
    import numpy as np

    from ganlib.keras.dcgan import dcgan_discriminator, dcgan_generator

    def trainable(model):
        return sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    g = dcgan_generator(width=8, use_batchnorm=use_batchnorm)
    d = dcgan_discriminator(width=8, use_batchnorm=use_batchnorm)
    assert g.output_shape == (None, 28, 28, 1)  # one channel, channels last
    assert d.output_shape == (None, 1)
    assert trainable(g) == sum(p.numel() for p in DCGANGenerator(width=8, use_batchnorm=use_batchnorm).parameters())
    assert trainable(d) == sum(p.numel() for p in DCGANDiscriminator(width=8, use_batchnorm=use_batchnorm).parameters())
    import keras

    has_bn = any(isinstance(layer, keras.layers.BatchNormalization) for m in (g, d) for layer in m.layers)
    assert has_bn == use_batchnorm
    out = np.asarray(g(np.zeros((2, 100), dtype="float32"), training=False))
    assert out.shape == (2, 28, 28, 1) and np.abs(out).max() <= 1
