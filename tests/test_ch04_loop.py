"""Chapter 4's plain PyTorch loop and ganlib.train_gan train the same weights.

The loop is the code cell of notebooks/04_mlp_gan.ipynb that defines ``train_plain``:
this test executes that cell's own source, so the page and the library cannot drift.
"""
import json
from pathlib import Path

import pytest
import torch
from tqdm.auto import trange

import ganlib
from ganlib.losses import d_loss_minimax, g_loss_nonsaturating
from ganlib.models import MLPDiscriminator, MLPGenerator

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_mlp_gan.ipynb"


def page_loop():
    """``train_plain`` as the chapter defines it, executed from the notebook's cell."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    found = [s for s in sources if s.startswith("def train_plain(")]
    assert len(found) == 1, "chapter 4 must define train_plain in exactly one code cell"
    namespace = {"torch": torch, "trange": trange, "d_loss_minimax": d_loss_minimax,
                 "g_loss_nonsaturating": g_loss_nonsaturating}
    exec(compile(found[0], f"{NOTEBOOK.name}:train_plain", "exec"), namespace)
    return found[0], namespace["train_plain"]


def test_the_page_shows_every_update_line():
    source, _ = page_loop()
    for line in ("opt_d.zero_grad()", "loss_d.backward()", "opt_d.step()",
                 "opt_g.zero_grad()", "loss_g.backward()", "opt_g.step()", "fake.detach()"):
        assert line in source


@pytest.mark.parametrize("lr_g, lr_d", [(1e-3, 2e-4), (2e-4, 2e-4)])
def test_page_loop_and_train_gan_give_the_same_weights(monkeypatch, lr_g, lr_d):
    monkeypatch.delenv("GANLIB_MAX_STEPS", raising=False)  # CI's step cap applies to train_gan only
    _, train_plain = page_loop()
    betas = (0.5, 0.999)
    images = torch.rand(96, 1, 28, 28, generator=torch.Generator().manual_seed(5)) * 2 - 1
    batches = ganlib.TensorBatches(images, batch_size=16)

    torch.manual_seed(0)
    G_a, D_a = MLPGenerator(latent_dim=8, hidden=[32, 64]), MLPDiscriminator(hidden=[64, 32])
    G_b, D_b = MLPGenerator(latent_dim=8, hidden=[32, 64]), MLPDiscriminator(hidden=[64, 32])
    G_b.load_state_dict(G_a.state_dict())
    D_b.load_state_dict(D_a.state_dict())
    start_g = [p.detach().clone() for p in G_a.parameters()]

    torch.manual_seed(1)
    log = train_plain(G_a, D_a, batches, epochs=2, lr_g=lr_g, lr_d=lr_d, betas=betas)
    torch.manual_seed(1)
    history = ganlib.train_gan(G_b, D_b, batches, epochs=2, loss=ganlib.losses.NON_SATURATING,
                               optimizers=(torch.optim.Adam(G_b.parameters(), lr=lr_g, betas=betas),
                                           torch.optim.Adam(D_b.parameters(), lr=lr_d, betas=betas)),
                               progress=False)

    assert len(log["loss_D"]) == len(history) == 2 * len(batches)
    for key in log:
        assert log[key] == pytest.approx(history.records[key], abs=1e-6), key
    for (name, a), b in zip([*G_a.named_parameters(), *D_a.named_parameters()],
                            [*G_b.parameters(), *D_b.parameters()]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=f"{name} differs")
    assert any(not torch.equal(a, b) for a, b in zip(G_a.parameters(), start_g))  # training moved G
