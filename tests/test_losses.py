"""Tests of ganlib.losses: signs of the Wasserstein and hinge losses, the
gradient penalty (value, interpolation weights, no NaN), R1 and weight clipping."""
import dataclasses
import math

import pytest
import torch

from ganlib import losses
from ganlib.models import MLPCritic


def linear_critic(w):
    """f(x) = <w, x>: its input gradient is w everywhere, so its norm is |w|."""
    return lambda x: (x.flatten(1) * w.flatten()).sum(dim=1)


def unit_vector(shape, seed=0):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    return w / w.norm()


def test_wasserstein_signs():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 0.0])
    # The critic minimises E[f(fake)] - E[f(real)]: negative when it scores reals higher.
    assert losses.d_loss_wasserstein(real, fake).item() == pytest.approx(-0.5 - 3.0)
    assert losses.g_loss_wasserstein(fake).item() == pytest.approx(0.5)
    # Raising the fake scores lowers the generator's loss.
    assert losses.g_loss_wasserstein(fake + 1) < losses.g_loss_wasserstein(fake)


def test_hinge_values_and_signs():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.5])
    # relu(1 - real) = [0, 1] -> 0.5; relu(1 + fake) = [0, 1.5] -> 0.75
    assert losses.d_loss_hinge(real, fake).item() == pytest.approx(1.25)
    # Confident, correct critic: no loss at all (the hinge stops pushing).
    assert losses.d_loss_hinge(torch.full((3,), 5.0), torch.full((3,), -5.0)).item() == 0.0
    assert losses.g_loss_hinge(fake).item() == pytest.approx(-(-2.0 + 0.5) / 2)


def test_penalty_zero_for_unit_gradient_norm():
    shape = (1, 28, 28)
    critic = linear_critic(unit_vector(shape))
    real, fake = torch.randn(16, *shape), torch.randn(16, *shape)
    gp = losses.gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("norm", [0.5, 2.0, 3.0])
def test_penalty_value_for_known_gradient_norm(norm):
    shape = (2, 5)
    critic = linear_critic(norm * unit_vector(shape, seed=1))
    real, fake = torch.randn(8, *shape), torch.randn(8, *shape)
    gp = losses.gradient_penalty(critic, real, fake, weight=10.0)
    assert gp.item() == pytest.approx(10.0 * (norm - 1.0) ** 2, rel=1e-5)
    assert gp.item() > 0


def test_random_interpolates_uniform_per_sample():
    real, fake = torch.ones(4000, 1, 3, 3), torch.zeros(4000, 1, 3, 3)
    points, eps = losses.random_interpolates(real, fake, generator=torch.Generator().manual_seed(0))
    assert eps.shape == (4000, 1, 1, 1)  # one weight per sample, broadcast over C, H, W
    # With real = 1 and fake = 0 every pixel of sample i equals eps_i.
    assert torch.equal(points, eps.expand_as(points))
    e = eps.flatten()
    assert e.min() >= 0 and e.max() <= 1  # never outside the segment (a normal would be)
    assert len(torch.unique(e)) > 3990  # a fresh weight for every sample
    # Uniform[0, 1]: mean 1/2, variance 1/12, and each quarter holds a quarter.
    assert e.mean().item() == pytest.approx(0.5, abs=0.02)
    assert e.var().item() == pytest.approx(1 / 12, abs=0.005)
    quarters = torch.histc(e, bins=4, min=0, max=1) / len(e)
    assert torch.allclose(quarters, torch.full((4,), 0.25), atol=0.03)


def test_gradient_penalty_uses_uniform_weights(monkeypatch):
    seen = {}
    real_rand = torch.rand

    def spy_rand(*args, **kwargs):
        out = real_rand(*args, **kwargs)
        seen["shape"] = tuple(out.shape)
        return out

    def no_randn(*args, **kwargs):
        raise AssertionError("the interpolation weight must not come from a normal distribution")

    critic = linear_critic(unit_vector((3, 4, 4)))
    monkeypatch.setattr(torch, "rand", spy_rand)
    monkeypatch.setattr(torch, "randn", no_randn)
    losses.gradient_penalty(critic, torch.ones(5, 3, 4, 4),
                            torch.zeros(5, 3, 4, 4))
    assert seen["shape"] == (5, 1, 1, 1)


def test_no_nan_when_real_equals_fake():
    torch.manual_seed(0)
    critic = MLPCritic()
    x = torch.randn(6, 1, 28, 28)
    gp = losses.gradient_penalty(critic, x, x.clone())
    gp.backward()
    assert torch.isfinite(gp)
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in critic.parameters())
    # Even where the input gradient is exactly zero (a constant critic).
    x = torch.zeros(4, 2, requires_grad=False)
    flat = lambda p: (p * 0.0).sum(dim=1) + torch.nn.Parameter(torch.tensor(1.0))
    assert losses.gradient_penalty(flat, x, x).item() == pytest.approx(10.0, abs=1e-4)
    norms = losses.gradient_norms(flat, x)
    assert torch.isfinite(norms).all()


def test_penalty_backpropagates_into_critic():
    torch.manual_seed(0)
    critic = MLPCritic(hidden=(16,))
    gp = losses.gp_penalty(10.0)(critic, torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28))
    gp.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in critic.parameters())


def test_shape_mismatch_is_explained():
    with pytest.raises(ValueError, match="same shape"):
        losses.gradient_penalty(linear_critic(torch.ones(2)), torch.zeros(3, 2), torch.zeros(4, 2))


def test_r1_penalty_value():
    shape = (2, 3)
    critic = linear_critic(2.0 * unit_vector(shape))
    r1 = losses.r1_penalty(gamma=10.0)(critic, torch.randn(5, *shape), torch.randn(5, *shape))
    assert r1.item() == pytest.approx(0.5 * 10.0 * 4.0, rel=1e-5)


def test_clip_weights_bounds_every_parameter():
    torch.manual_seed(0)
    critic = MLPCritic(hidden=(32,))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(100)
    assert max(p.abs().max().item() for p in critic.parameters()) > 0.01
    losses.clip_weights(0.01)(critic)
    assert max(p.abs().max().item() for p in critic.parameters()) <= 0.01
    with pytest.raises(ValueError):
        losses.clip_weights(0.0)


def test_existing_losses_unchanged():
    logits = torch.tensor([0.0])
    assert losses.d_loss_minimax(logits, logits).item() == pytest.approx(2 * math.log(2))


def test_critics_return_raw_scores_without_batch_norm():
    from ganlib.models import ConvCritic

    x = torch.randn(3, 1, 28, 28)
    for critic in (MLPCritic(), ConvCritic(width=8), ConvCritic(width=8, norm=None)):
        assert critic(x).shape == (3,)
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in critic.modules())
        # Per-sample: a sample's score must not depend on the rest of the batch.
        assert torch.allclose(critic(x[:1]), critic(x)[:1], atol=1e-5)
    with pytest.raises(ValueError, match="never batch norm"):
        ConvCritic(norm="batch")


# --- least squares (LSGAN) and InfoGAN's information term (chapter 8) ---------------

def test_least_squares_values_and_targets():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    # 1/2 mean((real - b)^2) + 1/2 mean((fake - a)^2) with a = 0, b = 1: 1/2 * 2 + 1/2 * 2
    assert losses.d_loss_least_squares(real, fake).item() == pytest.approx(2.0)
    assert losses.d_loss_least_squares(real, fake, a=-1.0, b=1.0).item() == pytest.approx(0.5 * 2 + 0.5 * 1)
    assert losses.g_loss_least_squares(fake).item() == pytest.approx(0.5 * (1 + 9) / 2)
    assert losses.g_loss_least_squares(fake, c=0.0).item() == pytest.approx(0.5 * 4 / 2)


def test_least_squares_discriminator_converges_to_its_optimum():
    """A free score per point, trained by the D loss on a mixture, lands on (b p_data + a p_g)/(p_data + p_g)."""
    a, b = -1.0, 1.0
    d_loss = losses.least_squares(a=a, b=b, c=0.0).d_loss
    scores = torch.zeros(3, requires_grad=True)            # D's output at three points
    p_data, p_g = torch.tensor([0.7, 0.2, 0.1]), torch.tensor([0.1, 0.3, 0.6])
    real_idx = torch.multinomial(p_data, 7000, replacement=True, generator=torch.Generator().manual_seed(0))
    fake_idx = torch.multinomial(p_g, 7000, replacement=True, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.SGD([scores], lr=1.0)
    for _ in range(300):
        opt.zero_grad()
        d_loss(scores[real_idx], scores[fake_idx]).backward()
        opt.step()
    emp_d = torch.bincount(real_idx, minlength=3) / 7000.0
    emp_g = torch.bincount(fake_idx, minlength=3) / 7000.0
    assert torch.allclose(scores.detach(), (b * emp_d + a * emp_g) / (emp_d + emp_g), atol=1e-4)


def test_least_squares_factory_names_and_errors():
    loss = losses.least_squares(a=-1, b=1, c=0)
    assert loss.name == "least squares (a=-1, b=1, c=0)" and loss.scores == "raw"
    assert loss.d_loss.__qualname__ == "d_loss_least_squares(a=-1, b=1)"
    assert loss.g_loss.__qualname__ == "g_loss_least_squares(c=0)"
    x = torch.tensor([0.5, -0.5])
    assert loss.d_loss(x, x).item() == pytest.approx(losses.d_loss_least_squares(x, x, a=-1, b=1).item())
    with pytest.raises(ValueError, match="must differ"):
        losses.least_squares(a=1, b=1)
    with pytest.raises(TypeError, match="must be a number"):
        losses.least_squares(a="0")


# --- a loss is one object: GANLoss ---------------------------------------------------------

def test_the_book_objectives_pair_the_right_functions_and_scores():
    assert (losses.MINIMAX.d_loss, losses.MINIMAX.g_loss, losses.MINIMAX.scores) == \
        (losses.d_loss_minimax, losses.g_loss_saturating, "probability")
    assert (losses.NON_SATURATING.d_loss, losses.NON_SATURATING.g_loss, losses.NON_SATURATING.scores) == \
        (losses.d_loss_minimax, losses.g_loss_nonsaturating, "probability")
    assert (losses.WASSERSTEIN.d_loss, losses.WASSERSTEIN.g_loss, losses.WASSERSTEIN.scores) == \
        (losses.d_loss_wasserstein, losses.g_loss_wasserstein, "raw")
    assert (losses.HINGE.d_loss, losses.HINGE.g_loss, losses.HINGE.scores) == \
        (losses.d_loss_hinge, losses.g_loss_hinge, "raw")
    assert losses.LEAST_SQUARES.scores == "raw" and "a=0, b=1, c=1" in losses.LEAST_SQUARES.name
    for name, loss in losses.GAN_LOSSES.items():
        assert losses.gan_loss(name) is loss and losses.gan_loss(loss) is loss
        assert loss.name.startswith(name)
    assert repr(losses.WASSERSTEIN) == ("GANLoss(d_loss=d_loss_wasserstein, g_loss=g_loss_wasserstein, "
                                        "scores='raw', name='wasserstein')")


def test_gan_loss_checks_its_fields():
    with pytest.raises(ValueError, match="'probability'.*'raw'.*got 'logits'"):
        losses.GANLoss(losses.d_loss_minimax, losses.g_loss_nonsaturating, scores="logits")
    with pytest.raises(TypeError, match="g_loss must be a function"):
        losses.GANLoss(losses.d_loss_minimax, "non-saturating", scores="probability")
    with pytest.raises(TypeError):
        losses.GANLoss(losses.d_loss_minimax, losses.g_loss_nonsaturating)  # scores is required
    mine = losses.GANLoss(losses.d_loss_hinge, losses.g_loss_wasserstein, "raw")
    assert mine.name == "d_loss_hinge / g_loss_wasserstein"   # named after its functions
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.scores = "probability"


def test_looking_up_an_unknown_loss_lists_the_names():
    with pytest.raises(ValueError) as err:
        losses.gan_loss("wgan")
    message = str(err.value)
    assert "'wgan'" in message and all(repr(name) in message for name in losses.GAN_LOSSES)
    with pytest.raises(TypeError, match="both D's and G's losses"):
        losses.gan_loss((losses.d_loss_minimax, losses.g_loss_nonsaturating))


def test_categorical_info_loss_is_the_cross_entropy_and_bounds_the_information():
    logits = torch.randn(64, 10, generator=torch.Generator().manual_seed(0))
    codes = torch.arange(64) % 10
    expected = -torch.log_softmax(logits, 1)[torch.arange(64), codes].mean()
    assert losses.categorical_info_loss(logits, codes).item() == pytest.approx(expected.item(), abs=1e-6)
    # Q knows nothing: L_I = log 10 - CE = 0; Q is sure and right: L_I -> log 10.
    assert losses.categorical_info_loss(torch.zeros(64, 10), codes).item() == pytest.approx(math.log(10))
    sure = torch.full((64, 10), -30.0)
    sure[torch.arange(64), codes] = 30.0
    assert losses.categorical_info_loss(sure, codes).item() < 1e-12
    with pytest.raises(ValueError, match="logits"):
        losses.categorical_info_loss(logits, codes[:10])


def test_gaussian_info_loss_and_the_weighted_term():
    mean, codes = torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]])
    const = math.log(2 * math.pi)                           # 2 dims x 1/2 log(2 pi)
    assert losses.gaussian_info_loss(mean, codes).item() == pytest.approx(0.5 + const)
    assert losses.gaussian_info_loss(mean, codes, std=2.0).item() == pytest.approx(0.5 / 4 + 2 * math.log(2) + const)
    logits, cat = torch.zeros(1, 10), torch.tensor([3])
    total = losses.infogan_info_loss(logits, mean, cat, codes, cat_weight=2.0, cont_weight=0.5)
    assert total.item() == pytest.approx(2 * math.log(10) + 0.5 * (0.5 + const))
    with pytest.raises(ValueError, match="shape"):
        losses.gaussian_info_loss(mean, codes[:, :1])


def test_gaussian_info_loss_with_a_predicted_std_is_the_normal_log_likelihood():
    torch.manual_seed(0)
    mean, codes = torch.randn(5, 2), torch.rand(5, 2) * 2 - 1
    std = torch.rand(5, 2) + 0.1
    expected = -torch.distributions.Normal(mean, std).log_prob(codes).sum(dim=1).mean()
    assert losses.gaussian_info_loss(mean, codes, std).item() == pytest.approx(expected.item(), rel=1e-6)
    assert losses.gaussian_info_loss(mean, codes, torch.ones(5, 2)).item() == pytest.approx(
        losses.gaussian_info_loss(mean, codes).item(), rel=1e-6)
    with pytest.raises(ValueError, match="positive"):
        losses.gaussian_info_loss(mean, codes, torch.zeros(5, 2))
    with pytest.raises(ValueError, match="positive"):
        losses.gaussian_info_loss(mean, codes, -1.0)
    with pytest.raises(ValueError, match="stds"):
        losses.gaussian_info_loss(mean, codes, torch.ones(5, 1))
