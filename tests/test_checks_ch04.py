"""Chapter 4's auto-checked exercise accepts a correct training step and
catches the usual mistakes, each with a hint."""
import pytest

from ganlib import checks
from ganlib.losses import d_loss_minimax, g_loss_nonsaturating, g_loss_saturating


def make_step(g_loss=g_loss_nonsaturating, zero_d=True, detach=True):
    def step(G, D, opt_g, opt_d, real, z):
        fake = G(z)
        loss_d = d_loss_minimax(D(real), D(fake.detach() if detach else G(z)))
        if zero_d:
            opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = g_loss(D(fake))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return loss_d.item(), loss_g.item()
    return step


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)


def run(fn, capsys):
    checks.check_gan_step(fn)
    return capsys.readouterr().out


def test_correct_step_passes(capsys):
    assert "all 4 checks passed" in run(make_step(), capsys)


def test_forgetting_zero_grad_is_caught_with_a_hint(capsys):
    out = run(make_step(zero_d=False), capsys)
    assert "FAIL" in out and "zero_grad" in out


def test_saturating_loss_is_caught(capsys):
    out = run(make_step(g_loss=g_loss_saturating), capsys)
    assert "FAIL case 1" in out and "non-saturating" in out


def test_stub_reports_not_implemented(capsys):
    def stub(*args):
        raise NotImplementedError
    assert "not implemented yet" in run(stub, capsys)


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="gan_step"):
        checks.check_gan_step(lambda *args: (0.0, 0.0))
