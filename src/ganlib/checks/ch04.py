"""Checks for the exercises of chapter 4 (the MLP GAN and its training loop)."""
from __future__ import annotations

import math

import numpy as np
import torch

from ..losses import d_loss_minimax, g_loss_nonsaturating
from ..models.mlp import MLPDiscriminator, MLPGenerator
from .core import Case, compare_values, run_check


def _reference_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    loss_d = d_loss_minimax(D(real), D(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = g_loss_nonsaturating(D(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def _setup(seed: int):
    torch.manual_seed(seed)
    G = MLPGenerator(latent_dim=8, hidden=(16,), out_shape=(1, 4, 4))
    D = MLPDiscriminator(in_shape=(1, 4, 4), hidden=(16,))
    real = torch.rand(6, 1, 4, 4) * 2 - 1
    zs = [torch.randn(6, 8) for _ in range(3)]
    return G, D, real, zs


def _run(step_fn, seed: int, calls: int):
    G, D, real, zs = _setup(seed)
    # SGD without momentum: every bug (a missing zero_grad, a missing detach
    # followed by a stale gradient, a wrong sign) moves the weights differently.
    opt_g = torch.optim.SGD(G.parameters(), lr=0.5)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.5)
    losses = [step_fn(G, D, opt_g, opt_d, real, zs[i]) for i in range(calls)]
    return G, D, losses


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def check_gan_step(step_fn) -> None:
    """Chapter 4: ``step_fn(G, D, opt_g, opt_d, real, z) -> (loss_d, loss_g)`` does one
    discriminator step then one non-saturating generator step, like ``ganlib.train_gan``."""
    _, _, want_losses = _run(_reference_step, seed=4, calls=1)

    def losses_ok(_):
        try:
            _, _, got = _run(step_fn, seed=4, calls=1)
        except NotImplementedError:
            return "is not implemented yet (it raised NotImplementedError)"
        except Exception as err:
            return f"raised {type(err).__name__}: {err}"
        got = got[0]
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"returned {got!r}; expected a pair (loss_d, loss_g)"
        values = [float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for v in got]
        if not all(math.isfinite(v) for v in values):
            return f"returned non-finite losses {values}"
        return compare_values(values, list(want_losses[0]), 1e-5)

    def weights_after(calls, which):
        def compare(_):
            try:
                got_g, got_d, _ = _run(step_fn, seed=4, calls=calls)
            except NotImplementedError:
                return "is not implemented yet (it raised NotImplementedError)"
            except Exception as err:
                return f"raised {type(err).__name__}: {err}"
            ref_g, ref_d, _ = _run(_reference_step, seed=4, calls=calls)
            got, ref = (got_d, ref_d) if which == "D" else (got_g, ref_g)
            diff = (_params(got) - _params(ref)).abs().max().item()
            if diff > 1e-5:
                return (f"after {calls} step(s) {which}'s weights differ from the reference "
                        f"by up to {diff:.3g}")
            return None
        return compare

    cases = [
        Case(compare=losses_ok, describe="the two losses returned by one step",
             hint="loss_d = d_loss_minimax(D(real), D(fake.detach())); "
                  "loss_g = g_loss_nonsaturating(D(fake)) with D already updated"),
        Case(compare=weights_after(1, "D"), describe="D's weights after one step",
             hint="zero D's gradients, backward loss_d, then opt_d.step(); "
                  "D must see real images and fake.detach()"),
        Case(compare=weights_after(1, "G"), describe="G's weights after one step",
             hint="the generator step uses the non-saturating loss -log D(G(z)) on the updated D, "
                  "and only opt_g.step() may change G"),
        Case(compare=weights_after(2, "G"), describe="both networks after two steps in a row",
             hint="call opt.zero_grad() before every backward(): gradients add up otherwise"),
    ]
    run_check("gan_step", lambda: None, cases)


def _number(result):
    """(value, None) for a one-number answer (NumPy, torch or TensorFlow), else (None, why not)."""
    if result is None:
        return None, "returned None: did you forget the `return` statement?"
    try:
        value = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"returned {type(result).__name__}, expected one number (a scalar tensor)"
    if value.size != 1:
        return None, (f"returned shape {value.shape}, expected one number: average over the batch "
                      "(tf.reduce_mean)")
    return float(value.reshape(())), None


def check_nonsaturating_loss(fn) -> None:
    """Chapter 4 (Keras): ``fn(fake_logits)`` -> mean softplus(-logits) = -mean log sigmoid(logits),
    for a 1-D float32 array of the discriminator's logits on fakes."""
    def softplus(x):
        return np.logaddexp(0.0, x)

    def compare_with(logits):
        want = float(np.mean(softplus(-logits.astype(np.float64))))
        saturating = float(np.mean(-softplus(logits.astype(np.float64))))  # log(1 - sigmoid)

        def compare(result):
            got, problem = _number(result)
            if problem:
                return problem
            if not math.isfinite(got):
                return (f"returned {got}: log(sigmoid(l)) underflows for very negative logits; "
                        "use -log sigmoid(l) = softplus(-l) (tf.nn.softplus)")
            if abs(got - want) <= 1e-4 * max(1.0, abs(want)):
                return None
            if abs(got - saturating) <= 1e-4 * max(1.0, abs(saturating)):
                return ("this is the saturating loss log(1 - D(G(z))); the non-saturating one is "
                        "-log D(G(z)) = softplus(-logit)")
            if abs(got - want * len(logits)) <= 1e-4 * max(1.0, abs(want * len(logits))):
                return "this is the sum over the batch: take the mean (tf.reduce_mean)"
            return f"returned {got:.6g}, expected {want:.6g}"
        return compare

    hint = "-log sigmoid(l) = softplus(-l): tf.reduce_mean(tf.nn.softplus(-fake_logits))"
    cases = []
    for logits, what in [(np.zeros(4, np.float32), "logits 0 (D = 1/2): log 2"),
                         (np.array([1.5, -0.3, 0.2, -2.0], np.float32), "four mixed logits"),
                         (np.array([-200.0, 0.0], np.float32), "a very negative logit, -200"),
                         (np.array([50.0, 60.0], np.float32), "confident logits: a loss near 0")]:
        cases.append(Case((logits,), compare=compare_with(logits), describe=what, hint=hint))
    run_check("g_loss_from_logits", fn, cases)
