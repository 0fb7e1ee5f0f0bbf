"""Chapter 2 checks: right answers pass, the usual mistakes fail with a message
that names the mistake, and strict mode turns a failure into an error."""
import numpy as np
import pytest

from ganlib import checks
from ganlib.checks.ch02 import reference_jsd, reference_optimal_discriminator


def right_dstar(p_data, p_g):
    total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def right_jsd(p, q, dx):
    m = 0.5 * (p + q)
    safe_m = np.where(m > 0, m, 1.0)
    term_p = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / safe_m), 0.0)
    term_q = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0) / safe_m), 0.0)
    return float(0.5 * np.sum(term_p + term_q) * dx)


@pytest.fixture
def lenient(monkeypatch):
    """Run checks without strict mode, so failures report instead of raising."""
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)


def test_reference_dstar_is_half_where_densities_agree_or_vanish():
    got = reference_optimal_discriminator(np.array([0.3, 0.0, 0.2]), np.array([0.3, 0.0, 0.0]))
    np.testing.assert_allclose(got, [0.5, 0.5, 1.0])


def test_reference_jsd_of_disjoint_uniforms_is_log_2_and_of_equal_densities_is_0():
    dx = 0.01
    x = np.arange(-5, 5 + dx / 2, dx)
    p = ((x > -4) & (x < -1)).astype(float)
    q = ((x > 1) & (x < 4)).astype(float)
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)
    assert reference_jsd(p, q, dx) == pytest.approx(np.log(2), abs=1e-12)
    assert reference_jsd(p, p, dx) == pytest.approx(0.0, abs=1e-12)


def test_right_answers_pass(capsys):
    checks.check_optimal_discriminator(right_dstar)
    assert "optimal_discriminator: all 3 checks passed" in capsys.readouterr().out
    checks.check_jsd(right_jsd)
    assert "jsd: all 4 checks passed" in capsys.readouterr().out


def test_swapped_ratio_is_named(lenient, capsys):
    checks.check_optimal_discriminator(lambda p_data, p_g: p_g / np.maximum(p_data + p_g, 1e-300))
    out = capsys.readouterr().out
    assert "0 of 3 checks passed" in out and "upside down" in out


def test_density_ratio_is_named(lenient, capsys):
    checks.check_optimal_discriminator(lambda p_data, p_g: p_data / np.maximum(p_g, 1e-300))
    out = capsys.readouterr().out
    assert "0 of 3 checks passed" in out and "density ratio" in out


def test_log_base_2_is_named(lenient, capsys):
    checks.check_jsd(lambda p, q, dx: right_jsd(p, q, dx) / np.log(2))
    out = capsys.readouterr().out
    assert "1 of 4 checks passed" in out  # only identical densities, where JSD = 0 in any base
    assert "log base 2" in out


def test_missing_half_and_missing_dx_are_named(lenient, capsys):
    checks.check_jsd(lambda p, q, dx: 2 * right_jsd(p, q, dx))
    out = capsys.readouterr().out
    assert "1 of 4 checks passed" in out and "drop the 1/2" in out
    checks.check_jsd(lambda p, q, dx: right_jsd(p, q, dx) / dx)
    out = capsys.readouterr().out
    assert "1 of 4 checks passed" in out and "grid spacing dx" in out


def test_zero_log_zero_is_explained(lenient, capsys):
    def naive(p, q, dx):
        m = 0.5 * (p + q)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 0.5 * np.sum(p * np.log(p / m) + q * np.log(q / m)) * dx

    checks.check_jsd(naive)
    out = capsys.readouterr().out
    assert "3 of 4 checks passed" in out  # the Gaussians never reach exactly 0; the uniforms do
    assert "0 * log 0" in out


def test_stub_reports_not_implemented(lenient, capsys):
    def stub(p, q, dx):
        raise NotImplementedError

    checks.check_jsd(stub)
    out = capsys.readouterr().out
    assert "0 of 4 checks passed" in out and "not implemented yet" in out


def test_zero_over_zero_is_explained(lenient, capsys):
    def plain_ratio(p_data, p_g):
        with np.errstate(invalid="ignore"):
            return p_data / (p_data + p_g)

    checks.check_optimal_discriminator(plain_ratio)
    out = capsys.readouterr().out
    assert "2 of 3 checks passed" in out  # only the case with a point where both vanish fails
    assert "0/0" in out


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="optimal_discriminator"):
        checks.check_optimal_discriminator(lambda p_data, p_g: p_data / np.maximum(p_g, 1e-300))
