"""The small pix2pix of chapter 11: U-Net, PatchGAN, the generator loss, edge maps."""
import pytest
import torch
import torch.nn.functional as F

from ganlib.models.pix2pix import (
    PatchDiscriminator,
    UNetGenerator,
    morphological_edges,
    pix2pix_generator_loss,
    receptive_field,
)


def test_unet_shapes_and_range():
    G = UNetGenerator(width=8)
    out = G(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1
    with pytest.raises(ValueError, match="condition images"):
        G(torch.randn(5, 1, 32, 32))


def test_unet_skip_connection_carries_local_detail():
    """With the skips, an output pixel depends on the input pixels near it."""
    G = UNetGenerator(width=8, dropout=0.0).eval()
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    G(x)[0, 0, 3, 3].backward()
    grad = x.grad[0, 0].abs()
    assert grad[:8, :8].sum() > 0


def test_patch_discriminator_grid_and_receptive_field():
    D = PatchDiscriminator(width=8)
    x = torch.randn(4, 1, 28, 28)
    assert D(x, x).shape == (4, 1, 7, 7)
    assert receptive_field(D) == 18
    with pytest.raises(ValueError, match="same batch size"):
        D(x, torch.randn(3, 1, 28, 28))


def test_patch_logit_ignores_pixels_outside_its_window():
    D = PatchDiscriminator(width=8).eval()
    cond = torch.zeros(1, 1, 28, 28)
    image = torch.randn(1, 1, 28, 28, requires_grad=True)
    D(image, cond)[0, 0, 0, 0].backward()
    seen = image.grad[0, 0].abs() > 0
    assert seen[:10, :10].any() and not seen[14:, :].any() and not seen[:, 14:].any()


def test_receptive_field_of_simple_stacks():
    assert receptive_field(torch.nn.Conv2d(1, 1, 3)) == 3
    stack = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, 2), torch.nn.Conv2d(1, 1, 3, 1))
    assert receptive_field(stack) == 7


def test_generator_loss_is_adversarial_plus_weighted_l1():
    logits = torch.tensor([[0.0, 2.0]])
    fake, target = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)
    expected = F.softplus(-logits).mean() + 10 * 0.5
    assert torch.allclose(pix2pix_generator_loss(logits, fake, target, l1_weight=10), expected)
    assert pix2pix_generator_loss(torch.full((1, 4), 50.0), target, target).item() < 1e-6
    with pytest.raises(ValueError, match="differ in shape"):
        pix2pix_generator_loss(logits, fake, target[:, :, :1])


def test_edges_of_a_filled_square_are_a_hollow_contour():
    img = -torch.ones(1, 1, 12, 12)
    img[..., 3:9, 3:9] = 1.0
    edges = morphological_edges(img)
    assert edges.shape == img.shape and set(edges.unique().tolist()) == {-1.0, 1.0}
    assert edges[0, 0, 5, 5] == -1 and edges[0, 0, 3, 5] == -1  # inside the ink: hollow
    assert edges[0, 0, 2, 5] == 1 and edges[0, 0, 9, 5] == 1  # the contour just outside
    assert edges[0, 0, 0, 0] == -1 and edges[0, 0, 1, 5] == -1  # far away: blank
    with pytest.raises(ValueError):
        morphological_edges(img, size=2)


def test_chapter10_checks_accept_the_reference_and_reject_mistakes(monkeypatch):
    import ganlib.checks as checks

    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)
    results = {}
    original = checks.ch10.run_check
    monkeypatch.setattr(checks.ch10, "run_check",
                        lambda name, fn, cases: results.setdefault(fn, original(name, fn, cases)))

    def cycle(x, y, G, F):
        return (F(G(x)) - x).abs().mean() + (G(F(y)) - y).abs().mean()

    def one_way(x, y, G, F):  # forgets the y -> X -> Y cycle
        return (F(G(x)) - x).abs().mean()

    def sigmoid_loss(fake_logits, fake, target, l1_weight):  # log of probabilities, sign flipped
        return torch.sigmoid(fake_logits).mean() + l1_weight * (fake - target).abs().mean()

    checks.check_cycle_consistency_loss(cycle)
    checks.check_cycle_consistency_loss(one_way)
    checks.check_pix2pix_generator_loss(pix2pix_generator_loss)
    checks.check_pix2pix_generator_loss(sigmoid_loss)
    assert results[cycle].ok and not results[one_way].ok
    assert results[pix2pix_generator_loss].ok and not results[sigmoid_loss].ok
