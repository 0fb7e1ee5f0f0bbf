"""Small games that show why GAN training is hard.

Two toy problems, small enough to solve on paper and to plot:

* The bilinear game ``min_x max_y f(x, y) = x * y``. Its only equilibrium is
  ``(0, 0)``. Four update rules play it: simultaneous gradient descent-ascent
  (GDA), alternating GDA, extragradient and optimistic GDA. Every rule is a
  linear map of the state, so its Jacobian is a constant matrix and the moduli
  of its eigenvalues decide everything: above 1 the iterates spiral outward,
  exactly 1 they cycle, below 1 they converge.
* The Dirac-GAN of Mescheder et al. (2018): the data is a point mass at 0, the
  generator a point mass at ``theta``, the discriminator the linear logit
  ``D(x) = psi * x``. It is the smallest real GAN, and it already oscillates;
  an R1 gradient penalty on the discriminator makes it converge.

Everything here is NumPy on scalars; states are ``(x, y)`` or ``(theta, psi)``.
"""
from __future__ import annotations

import math

import numpy as np

METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")


def _check_lr(lr: float) -> float:
    if not (isinstance(lr, (int, float, np.floating)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"the step size lr must be a positive number, got {lr!r}")
    return float(lr)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    return method


# --- the bilinear game f(x, y) = x * y ----------------------------------------

def bilinear_value(x, y):
    """f(x, y) = x * y; x wants it small, y wants it large."""
    return x * y


def bilinear_gradients(x, y):
    """(df/dx, df/dy) = (y, x)."""
    return y, x


def simultaneous_gda_step(x, y, lr: float):
    """Both players step at once from the same point: x descends, y ascends."""
    gx, gy = bilinear_gradients(x, y)
    return x - lr * gx, y + lr * gy


def alternating_gda_step(x, y, lr: float):
    """The maximising player y (the discriminator) steps first; the minimising
    player x (the generator) then answers the *new* y. This is the order of
    ``ganlib.train_gan``: a D step, then a G step against the updated D."""
    _, gy = bilinear_gradients(x, y)
    y_new = y + lr * gy
    gx, _ = bilinear_gradients(x, y_new)
    return x - lr * gx, y_new


def extragradient_step(x, y, lr: float):
    """Look ahead with a simultaneous step, then step from the *original* point
    with the gradients measured at the look-ahead point (Korpelevich, 1976)."""
    gx, gy = bilinear_gradients(x, y)
    x_look, y_look = x - lr * gx, y + lr * gy
    gx_look, gy_look = bilinear_gradients(x_look, y_look)
    return x - lr * gx_look, y + lr * gy_look


def optimistic_gda_step(x, y, x_prev, y_prev, lr: float):
    """Optimistic GDA (Daskalakis et al., 2018): step along 2 * (today's
    gradient) - (yesterday's gradient). Returns the new ``(x, y)``."""
    gx, gy = bilinear_gradients(x, y)
    gx_prev, gy_prev = bilinear_gradients(x_prev, y_prev)
    return x - lr * (2 * gx - gx_prev), y + lr * (2 * gy - gy_prev)


def bilinear_trajectory(method: str, lr: float = 0.1, steps: int = 200,
                        start=(1.0, 1.0)) -> np.ndarray:
    """Play the bilinear game with ``method`` for ``steps`` steps from ``start``.

    Returns an array of shape (steps + 1, 2): the points (x_t, y_t), start first.
    Optimistic GDA starts with ``(x_{-1}, y_{-1}) = start`` (no history yet).
    """
    _check_method(method)
    lr = _check_lr(lr)
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    x, y = (float(v) for v in start)
    x_prev, y_prev = x, y
    points = np.empty((steps + 1, 2))
    points[0] = x, y
    for t in range(1, steps + 1):
        if method == "simultaneous":
            x, y = simultaneous_gda_step(x, y, lr)
        elif method == "alternating":
            x, y = alternating_gda_step(x, y, lr)   # y (the D player) first, then x
        elif method == "extragradient":
            x, y = extragradient_step(x, y, lr)
        else:
            (x, y), x_prev, y_prev = optimistic_gda_step(x, y, x_prev, y_prev, lr), x, y
        points[t] = x, y
    return points


def update_jacobian(method: str, lr: float) -> np.ndarray:
    """The Jacobian of one update of ``method`` on the bilinear game.

    All four updates are linear, so this matrix *is* the update:
    ``state_{t+1} = J @ state_t``. The state is (x, y), except for optimistic
    GDA, whose update also reads the previous point: state (x, y, x_prev, y_prev), 4 x 4.
    """
    _check_method(method)
    a = _check_lr(lr)
    if method == "simultaneous":
        return np.array([[1.0, -a], [a, 1.0]])
    if method == "alternating":
        return np.array([[1.0 - a * a, -a], [a, 1.0]])
    if method == "extragradient":
        return np.array([[1.0 - a * a, -a], [a, 1.0 - a * a]])
    return np.array([[1.0, -2 * a, 0.0, a],
                     [2 * a, 1.0, -a, 0.0],
                     [1.0, 0.0, 0.0, 0.0],
                     [0.0, 1.0, 0.0, 0.0]])


def numerical_jacobian(step, state, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of ``step(state) -> new state`` (1-D arrays)."""
    state = np.asarray(state, dtype=float)
    columns = []
    for i in range(len(state)):
        shift = np.zeros_like(state)
        shift[i] = eps
        columns.append((np.asarray(step(state + shift)) - np.asarray(step(state - shift))) / (2 * eps))
    return np.stack(columns, axis=1)


def update_eigenvalues(method: str, lr: float) -> np.ndarray:
    """Eigenvalues of :func:`update_jacobian`; their largest modulus decides:
    > 1 spirals out, = 1 cycles, < 1 converges."""
    return np.linalg.eigvals(update_jacobian(method, lr))


def spectral_radius(matrix) -> float:
    """The largest modulus of the eigenvalues of a square matrix."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"spectral_radius needs a square matrix, got shape {matrix.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


# --- the Dirac-GAN ------------------------------------------------------------

def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # overflow-free


def dirac_gan_gradients(theta, psi, r1_gamma: float = 0.0, generator_loss: str = "saturating"):
    """Gradients of the Dirac-GAN losses (each player *minimises* its own loss).

    Data: a point mass at 0. Generator: a point mass at ``theta``.
    Discriminator logit: ``D(x) = psi * x``. With ``ganlib.losses``:
      D's loss = softplus(-D(0)) + softplus(D(theta)) + (r1_gamma / 2) * |dD/dx at 0|^2
               = log 2 + softplus(psi * theta) + (r1_gamma / 2) * psi^2
      G's loss = softplus(-psi * theta)   (non-saturating)  or
                 -softplus(psi * theta)   (saturating, the original minimax).
    Returns (dLoss_G/dtheta, dLoss_D/dpsi).
    """
    if r1_gamma < 0:
        raise ValueError(f"r1_gamma must be >= 0, got {r1_gamma}")
    if generator_loss == "nonsaturating":
        grad_theta = -psi * _sigmoid(-psi * theta)
    elif generator_loss == "saturating":
        grad_theta = -psi * _sigmoid(psi * theta)
    else:
        raise ValueError("generator_loss must be 'nonsaturating' or 'saturating'")
    grad_psi = theta * _sigmoid(psi * theta) + r1_gamma * psi
    return grad_theta, grad_psi


def dirac_gan_trajectory(lr: float = 0.1, steps: int = 500, r1_gamma: float = 0.0,
                         start=(1.0, 1.0), alternating: bool = False,
                         generator_loss: str = "saturating") -> np.ndarray:
    """Train the Dirac-GAN by gradient descent on each player's loss.

    Simultaneous by default; ``alternating=True`` updates D first and G then
    answers the new D (like ``ganlib.train_gan``). Returns (steps + 1, 2):
    the points (theta_t, psi_t). The equilibrium is (0, 0).
    """
    lr = _check_lr(lr)
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    theta, psi = (float(v) for v in start)
    points = np.empty((steps + 1, 2))
    points[0] = theta, psi
    for t in range(1, steps + 1):
        g_theta, g_psi = dirac_gan_gradients(theta, psi, r1_gamma, generator_loss)
        psi = psi - lr * g_psi
        if alternating:
            g_theta, _ = dirac_gan_gradients(theta, psi, r1_gamma, generator_loss)
        theta = theta - lr * g_theta
        points[t] = theta, psi
    return points


def dirac_gan_jacobian(r1_gamma: float = 0.0) -> np.ndarray:
    """Jacobian at the equilibrium (0, 0) of the gradient-descent vector field
    v = -(dLoss_G/dtheta, dLoss_D/dpsi) of the Dirac-GAN (either generator loss).

    Without R1 it is a pure rotation [[0, 1/2], [-1/2, 0]] (eigenvalues +-i/2:
    no pull towards the equilibrium); R1 adds -gamma on the psi diagonal, giving
    both eigenvalues the real part -gamma/2 (for gamma < 1).
    """
    if r1_gamma < 0:
        raise ValueError(f"r1_gamma must be >= 0, got {r1_gamma}")
    return np.array([[0.0, 0.5], [-0.5, -float(r1_gamma)]])


def distance_to_equilibrium(points) -> np.ndarray:
    """Euclidean distance of each point of a trajectory to the origin (the equilibrium)."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] < 2:
        raise ValueError(f"expected a trajectory of shape (T, 2), got {points.shape}")
    return np.linalg.norm(points[:, :2], axis=1)
