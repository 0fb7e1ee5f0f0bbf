"""The StyleGAN pieces of chapter 10: truncation, AdaIN, modulation, style mixing."""
import pytest
import torch
import torch.nn.functional as F

from ganlib.models.style import (
    AdaIN,
    MappingNetwork,
    ModulatedConv2d,
    PixelNorm,
    StyleGenerator,
    fade_in,
    truncate,
    truncated_normal,
)


def test_truncate_endpoints_and_midpoint():
    w, w_avg = torch.randn(5, 8), torch.randn(8)
    assert torch.allclose(truncate(w, w_avg, 1.0), w)
    assert torch.allclose(truncate(w, w_avg, 0.0), w_avg.expand(5, 8))
    assert torch.allclose(truncate(w, w_avg, 0.5), (w + w_avg) / 2)


def test_pixel_norm_gives_unit_rms():
    z = 7 * torch.randn(10, 16)
    rms = PixelNorm()(z).pow(2).mean(dim=1).sqrt()
    assert torch.allclose(rms, torch.ones(10), atol=1e-4)


def test_mapping_network_shapes_and_errors():
    net = MappingNetwork(latent_dim=6, w_dim=10, depth=2)
    assert net(torch.randn(3, 6)).shape == (3, 10)
    with pytest.raises(ValueError, match="noise of shape"):
        net(torch.randn(3, 5))


def test_adain_sets_each_channel_to_the_style_mean_and_std():
    torch.manual_seed(0)
    adain = AdaIN(channels=4, w_dim=3)
    with torch.no_grad():
        adain.affine.weight.normal_()
    x, w = 5 + 3 * torch.randn(2, 4, 6, 6), torch.randn(2, 3)
    gamma, beta = adain.style(w)
    out = adain(x, w)
    assert torch.allclose(out.mean(dim=(2, 3)), beta, atol=1e-4)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), gamma.abs(), atol=1e-3)


def test_modulation_equals_scaling_the_input_channels():
    torch.manual_seed(1)
    conv = ModulatedConv2d(3, 5, 3, w_dim=4, demodulate=False)
    with torch.no_grad():
        conv.affine.weight.normal_()
    x, w = torch.randn(2, 3, 8, 8), torch.randn(2, 4)
    s = conv.affine(w)
    expected = F.conv2d(x * s[:, :, None, None], conv.weight, conv.bias, padding=1)
    assert torch.allclose(conv(x, w), expected, atol=1e-4)


def test_demodulation_keeps_unit_variance():
    torch.manual_seed(2)
    conv = ModulatedConv2d(16, 16, 3, w_dim=4, demodulate=True)
    with torch.no_grad():
        conv.affine.weight.normal_(0, 2.0)  # wild styles
    out = conv(torch.randn(8, 16, 32, 32), torch.randn(8, 4))
    # padding pulls the border a little below 1, so look at the interior
    assert abs(out[:, :, 2:-2, 2:-2].std().item() - 1.0) < 0.1


@pytest.mark.parametrize("modulation", ["adain", "demod"])
def test_generator_output_and_style_mixing(modulation):
    torch.manual_seed(3)
    G = StyleGenerator(latent_dim=8, w_dim=8, width=4, modulation=modulation).eval()
    G.set_noise(False)
    z_a, z_b = torch.randn(3, 8), torch.randn(3, 8)
    out = G(z_a)
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1
    assert torch.allclose(G.mix(z_a, z_b, crossover=3), G(z_a), atol=1e-6)
    assert torch.allclose(G.mix(z_a, z_b, crossover=0), G(z_b), atol=1e-6)
    mixed = G.mix(z_a, z_b, crossover=1)
    assert not torch.allclose(mixed, G(z_a)) and not torch.allclose(mixed, G(z_b))


@pytest.mark.parametrize("modulation", ["adain", "demod"])
def test_styles_and_images_depend_on_z_from_the_start(modulation):
    # With PyTorch's default Linear init the three mapping layers shrank the z-dependent
    # part of w about threefold each: w (spread 0.04) and the image (0.03) were nearly the
    # same for every z, and the shipped generator collapsed to one image.
    torch.manual_seed(0)
    G = StyleGenerator(modulation=modulation).eval()
    z = torch.randn(512, G.latent_dim)
    with torch.no_grad():
        w, images = G.mapping(z), G(z)
    assert w.std(dim=0).mean() > 0.3
    assert images.std(dim=0).mean() > 0.1


def test_scoring_samples_do_not_depend_on_the_global_random_state():
    from ganlib.metrics.scoring import sample_images

    G = StyleGenerator()
    for layer in G.layers:
        torch.nn.init.ones_(layer.noise.strength)  # the per-pixel noise changes the image
    torch.manual_seed(1)
    first, _ = sample_images(G, 16, seed=0)
    torch.manual_seed(2)
    state = torch.get_rng_state()
    again, _ = sample_images(G, 16, seed=0)
    assert torch.equal(first, again)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is left as it was
    assert not torch.equal(first, sample_images(G, 16, seed=1)[0])


def test_truncation_zero_gives_one_image_for_every_z():
    G = StyleGenerator(latent_dim=8, w_dim=8, width=4).eval()
    G.set_noise(False)
    G.estimate_w_avg(256)
    out = G(torch.randn(4, 8), psi=0.0)
    assert torch.allclose(out, out[:1].expand_as(out), atol=1e-6)


def test_w_avg_moves_only_while_training():
    G = StyleGenerator(latent_dim=8, w_dim=8, width=4)
    G.train()(torch.randn(16, 8))
    moved = G.w_avg.clone()
    assert moved.abs().sum() > 0
    G.eval()(torch.randn(16, 8))
    assert torch.equal(G.w_avg, moved)


def test_noise_injection_makes_outputs_stochastic_when_trained():
    G = StyleGenerator(latent_dim=8, w_dim=8, width=4).eval()
    with torch.no_grad():
        for layer in G.layers:
            layer.noise.strength.fill_(1.0)
    z = torch.randn(2, 8)
    assert not torch.allclose(G(z), G(z))
    G.set_noise(False)
    assert torch.allclose(G(z), G(z))


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="modulation"):
        StyleGenerator(modulation="batchnorm")
    G = StyleGenerator(latent_dim=8, w_dim=8, width=4)
    with pytest.raises(ValueError, match="crossover"):
        G.mix(torch.randn(1, 8), torch.randn(1, 8), crossover=5)
    with pytest.raises(ValueError, match="styles of shape"):
        G.synthesis(torch.randn(2, 2, 8))


def test_fade_in_blends_old_and_new():
    low, high = torch.randn(2, 1, 7, 7), torch.randn(2, 1, 14, 14)
    up = F.interpolate(low, scale_factor=2, mode="nearest")
    assert torch.allclose(fade_in(low, high, 0.0), up)
    assert torch.allclose(fade_in(low, high, 1.0), high)
    assert torch.allclose(fade_in(low, high, 0.25), 0.75 * up + 0.25 * high)
    with pytest.raises(ValueError):
        fade_in(low, high, 1.5)


def test_truncated_normal_respects_the_threshold():
    z = truncated_normal(2000, 4, threshold=0.5, generator=torch.Generator().manual_seed(0))
    assert z.shape == (2000, 4) and z.abs().max() <= 0.5
    assert z.std() < 0.35  # narrower than N(0, 1): less variety, more typical samples
    with pytest.raises(ValueError):
        truncated_normal(3, 2, threshold=0.0)


def test_chapter9_checks_accept_the_reference_and_reject_mistakes(monkeypatch):
    import ganlib.checks as checks

    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)
    results = {}
    original = checks.ch09.run_check
    monkeypatch.setattr(checks.ch09, "run_check",
                        lambda name, fn, cases: results.setdefault(fn, original(name, fn, cases)))

    def adain(x, gamma, beta):
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + 1e-5).sqrt()
        return gamma[:, :, None, None] * (x - mean) / std + beta[:, :, None, None]

    def unbiased_adain(x, gamma, beta):  # a common slip: the unbiased variance
        std = (x.var(dim=(2, 3), keepdim=True) + 1e-5).sqrt()
        return gamma[:, :, None, None] * (x - x.mean(dim=(2, 3), keepdim=True)) / std \
            + beta[:, :, None, None]

    def forgets_w_avg(w, w_avg, psi):
        return psi * w

    checks.check_adain(adain)
    checks.check_adain(unbiased_adain)
    checks.check_truncation(truncate)
    checks.check_truncation(forgets_w_avg)
    assert results[adain].ok and not results[unbiased_adain].ok
    assert results[truncate].ok and not results[forgets_w_avg].ok
