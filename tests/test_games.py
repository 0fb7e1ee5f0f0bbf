"""The small games of chapter 3: update rules, their Jacobians, the Dirac-GAN."""
import numpy as np
import pytest
import torch

from ganlib import games
from ganlib.losses import d_loss_minimax, g_loss_nonsaturating, g_loss_saturating


def as_step(method, lr):
    """The update of ``method`` as a map on the state vector used by update_jacobian."""
    if method == "simultaneous":
        return lambda s: np.array(games.simultaneous_gda_step(s[0], s[1], lr))
    if method == "alternating":
        return lambda s: np.array(games.alternating_gda_step(s[0], s[1], lr))
    if method == "extragradient":
        return lambda s: np.array(games.extragradient_step(s[0], s[1], lr))
    return lambda s: np.array([*games.optimistic_gda_step(s[0], s[1], s[2], s[3], lr), s[0], s[1]])


@pytest.mark.parametrize("method", games.METHODS)
@pytest.mark.parametrize("lr", [0.05, 0.3, 0.8])
def test_jacobian_matches_finite_differences(method, lr):
    state = np.array([0.7, -1.3, 0.2, 0.5])[: 4 if method == "optimistic" else 2]
    numeric = games.numerical_jacobian(as_step(method, lr), state)
    np.testing.assert_allclose(games.update_jacobian(method, lr), numeric, atol=1e-7)


def test_known_steps_by_hand():
    # From (1, 1) with lr 0.5: simultaneous (0.5, 1.5); alternating moves y (the
    # discriminator) first, y = 1 + 0.5 = 1.5, then x answers it: x = 1 - 0.5 * 1.5.
    assert games.simultaneous_gda_step(1.0, 1.0, 0.5) == (0.5, 1.5)
    assert games.alternating_gda_step(1.0, 1.0, 0.5) == (0.25, 1.5)
    # Extragradient: look-ahead (0.5, 1.5); step from (1, 1) with grads (1.5, 0.5).
    assert games.extragradient_step(1.0, 1.0, 0.5) == (0.25, 1.25)
    # Optimistic with equal history reduces to one simultaneous step.
    assert games.optimistic_gda_step(1.0, 1.0, 1.0, 1.0, 0.5) == (0.5, 1.5)


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.5, 0.9])
def test_eigenvalue_moduli_classify_the_methods(lr):
    radius = {m: games.spectral_radius(games.update_jacobian(m, lr)) for m in games.METHODS}
    assert radius["simultaneous"] == pytest.approx(np.sqrt(1 + lr**2))
    assert radius["simultaneous"] > 1
    assert np.allclose(np.abs(games.update_eigenvalues("alternating", lr)), 1.0)
    assert radius["extragradient"] == pytest.approx(np.sqrt(1 - lr**2 + lr**4))
    assert radius["extragradient"] < 1
    if lr <= 0.5:  # optimistic GDA needs a small enough step
        assert radius["optimistic"] < 1


def test_trajectories_spiral_out_cycle_and_converge():
    dist = {m: games.distance_to_equilibrium(games.bilinear_trajectory(m, 0.1, 300))
            for m in games.METHODS}
    start = np.sqrt(2)
    assert dist["simultaneous"][-1] > 4 * start
    assert 0.9 * start < dist["alternating"][-1] < 1.1 * start
    assert dist["extragradient"][-1] < 0.3 * start
    assert dist["optimistic"][-1] < 0.3 * start
    # simultaneous GDA grows by exactly sqrt(1 + lr^2) per step
    np.testing.assert_allclose(dist["simultaneous"][1:] / dist["simultaneous"][:-1],
                               np.sqrt(1.01), rtol=1e-12)


def test_trajectory_shape_and_bad_input():
    assert games.bilinear_trajectory("extragradient", 0.1, 7).shape == (8, 2)
    with pytest.raises(ValueError, match="unknown method"):
        games.bilinear_trajectory("adam", 0.1, 10)
    with pytest.raises(ValueError, match="positive"):
        games.update_jacobian("simultaneous", -0.1)
    with pytest.raises(ValueError, match="square"):
        games.spectral_radius(np.ones((2, 3)))


@pytest.mark.parametrize("generator_loss, g_loss",
                         [("saturating", g_loss_saturating), ("nonsaturating", g_loss_nonsaturating)])
def test_dirac_gan_gradients_match_autograd_on_ganlib_losses(generator_loss, g_loss):
    theta = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    psi = torch.tensor(-0.6, dtype=torch.float64, requires_grad=True)
    gamma = 0.3
    real = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    real_logit = psi * real
    (grad_real,) = torch.autograd.grad(real_logit.sum(), real, create_graph=True)
    loss_d = d_loss_minimax(real_logit, psi * theta.detach().reshape(1)) + gamma / 2 * (grad_real**2).sum()
    loss_g = g_loss(psi.detach() * theta.reshape(1))
    (g_psi,) = torch.autograd.grad(loss_d, psi)
    (g_theta,) = torch.autograd.grad(loss_g, theta)
    want = games.dirac_gan_gradients(0.8, -0.6, gamma, generator_loss)
    assert want[0] == pytest.approx(g_theta.item(), abs=1e-12)
    assert want[1] == pytest.approx(g_psi.item(), abs=1e-12)


def test_dirac_gan_oscillates_without_r1_and_converges_with_it():
    plain = games.distance_to_equilibrium(games.dirac_gan_trajectory(0.1, 1000))
    alternating = games.distance_to_equilibrium(games.dirac_gan_trajectory(0.1, 1000, alternating=True))
    r1 = games.distance_to_equilibrium(games.dirac_gan_trajectory(0.1, 1000, r1_gamma=0.3))
    assert plain[-1] > plain[0]                     # simultaneous: spirals outward
    assert 0.8 * alternating[0] < alternating[-1] < 1.2 * alternating[0]  # alternating: cycles
    assert r1[-1] < 1e-3 * r1[0]                    # R1: converges
    eig_plain = np.linalg.eigvals(games.dirac_gan_jacobian(0.0))
    eig_r1 = np.linalg.eigvals(games.dirac_gan_jacobian(0.3))
    np.testing.assert_allclose(eig_plain.real, 0, atol=1e-12)
    np.testing.assert_allclose(np.abs(eig_plain.imag), 0.5)
    np.testing.assert_allclose(eig_r1.real, -0.15)


def test_dirac_gan_jacobian_matches_finite_differences():
    for gamma in (0.0, 0.3):
        def field(s, gamma=gamma):
            g_theta, g_psi = games.dirac_gan_gradients(s[0], s[1], gamma)
            return np.array([-g_theta, -g_psi])
        np.testing.assert_allclose(games.numerical_jacobian(field, np.zeros(2)),
                                   games.dirac_gan_jacobian(gamma), atol=1e-8)


def test_dirac_gan_bad_input():
    with pytest.raises(ValueError, match="r1_gamma"):
        games.dirac_gan_trajectory(0.1, 10, r1_gamma=-1)
    with pytest.raises(ValueError, match="generator_loss"):
        games.dirac_gan_gradients(1.0, 1.0, 0.0, "wasserstein")


def test_checks_accept_the_solution_and_explain_common_slips(capsys, monkeypatch):
    from ganlib import checks
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)
    # The exercise forbids ganlib.games' helpers, so the answers write the gradients out
    # (of x*y: d/dx = y, d/dy = x), as a student does.
    def simultaneous(x, y, lr):
        return x - lr * y, y + lr * x

    def extragradient(x, y, lr):
        x_look, y_look = simultaneous(x, y, lr)
        return x - lr * y_look, y + lr * x_look

    checks.check_extragradient_step(extragradient)
    assert "all 4 checks passed" in capsys.readouterr().out
    checks.check_extragradient_step(simultaneous)
    assert "one plain simultaneous GDA step" in capsys.readouterr().out
    checks.check_extragradient_step(lambda x, y, lr: simultaneous(*simultaneous(x, y, lr), lr))
    assert "must start from the ORIGINAL point" in capsys.readouterr().out
    checks.check_extragradient_step(games.extragradient_step)
    assert "calls ganlib.games.bilinear_gradients" in capsys.readouterr().out
    checks.check_gda_jacobian(lambda lr: games.update_jacobian("simultaneous", lr))
    assert "all 3 checks passed" in capsys.readouterr().out
    checks.check_gda_jacobian(lambda lr: games.update_jacobian("simultaneous", lr).T)
    assert "transpose" in capsys.readouterr().out
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="strict"):
        checks.check_gda_jacobian(lambda lr: None)
