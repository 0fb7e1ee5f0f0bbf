"""Train the shipped MLP GAN generator of chapter 4.

    python -m ganlib.recipes.mlp_gan [--epochs 40] [--minutes 7.5] [--seed 0]

``MLPGenerator`` (100 -> 256 -> 512 -> 784, tanh) against ``MLPDiscriminator``
(784 -> 512 -> 256 -> 1 logit), the non-saturating loss, Adam (lr 2e-4,
beta1 = 0.5), batch 64: exactly chapter 4's full profile. Training stops after
``--epochs`` or at the first epoch end past ``--minutes`` of wall time
(whichever comes first), so the command fits a busy CPU; the card records the
epochs actually run, and ``--epochs N --minutes 1e9`` repeats a run exactly.
Writes ``ganlib/weights/mlp_gan.pt`` (fp16) and the model card ``mlp_gan.json``.

With MNIST's training split available it trains on it; offline, with only
the 10,000-image test split, it trains on the test split and the card says so.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from ..models import MLPDiscriminator, MLPGenerator
from ..pretrained import WEIGHTS_DIR, load_generator, save_generator
from ..train import fixed_noise, generate, train_gan
from ..utils import device, seed_everything
from .common import hardware, training_data

NAME = "mlp_gan"
GENERATOR_KWARGS = {"latent_dim": 100, "hidden": [256, 512], "out_shape": [1, 28, 28]}
SETTINGS = {"batch_size": 64, "lr": 2e-4, "betas": (0.5, 0.999)}


def train(epochs: int, minutes: float, seed: int):
    seed_everything(seed)
    dev = device()
    data, data_note = training_data(dev)  # the test split offline, and says so
    generator = MLPGenerator(**GENERATOR_KWARGS).to(dev)
    discriminator = MLPDiscriminator().to(dev)
    opt_g = torch.optim.Adam(generator.parameters(), lr=SETTINGS["lr"], betas=SETTINGS["betas"])
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=SETTINGS["lr"], betas=SETTINGS["betas"])
    batches = data.batches(SETTINGS["batch_size"], with_labels=False)

    start, done, history = time.time(), 0, None
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "mlp_gan.ckpt"
        # One epoch per call, resumed from the checkpoint (optimizer states
        # included), so the run can stop at any epoch boundary past the budget.
        for done in range(1, epochs + 1):
            history = train_gan(generator, discriminator, batches, epochs=done, opt_g=opt_g,
                                opt_d=opt_d, checkpoint=checkpoint, progress=False)
            elapsed = time.time() - start
            print(f"epoch {done}: {elapsed / 60:.1f} min, loss_D {history.last('loss_D', 50):.3f}, "
                  f"loss_G {history.last('loss_G', 50):.3f}, D(x) {history.last('D(x)', 50):.2f}, "
                  f"D(G(z)) {history.last('D(G(z))', 50):.2f}", flush=True)
            if elapsed > minutes * 60:
                break
    return generator, data, data_note, done, time.time() - start, history


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=7.5,
                        help="wall-time budget; training stops at the first epoch end past it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    parser.add_argument("--out", default=str(WEIGHTS_DIR), help="folder for mlp_gan.pt and mlp_gan.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    generator, data, data_note, epochs, seconds, history = train(args.epochs, args.minutes, args.seed)
    path = save_generator(generator.cpu(), NAME, kwargs=GENERATOR_KWARGS, card={}, weights_dir=args.out)

    # Score the weights as shipped (fp16-rounded) on 2,000 samples from a fixed seed,
    # beside 2,000 real images as the yardstick.
    from ..classifier import score_digits

    score = score_digits(generate(load_generator(NAME, weights_dir=args.out), fixed_noise(2000, 100, seed=1)))
    real = score_digits(data.images[:2000].cpu())
    print(score)
    card = {
        "model": "MLPGenerator(latent_dim=100, hidden=(256, 512)): 100 -> 256 -> 512 -> 784 tanh, "
                 "LeakyReLU 0.2, 1x28x28 images in [-1, 1]",
        "discriminator": "MLPDiscriminator: 784 -> 512 -> 256 -> 1 logit, LeakyReLU 0.2; not shipped",
        "objective": "non-saturating GAN loss on logits (D: minimax binary cross-entropy)",
        "optimizer": f"Adam, lr {SETTINGS['lr']}, betas {tuple(SETTINGS['betas'])}, both networks",
        "data": data_note,
        "split": data.split,
        "batch_size": SETTINGS["batch_size"],
        "epochs": epochs,
        "steps": len(history),
        "seed": args.seed,
        "hardware": hardware() + ", shared with other jobs",
        "wall_time_minutes": round(seconds / 60, 1),
        "final D(x), D(G(z)) (mean of last 100 steps)": (
            f"{history.last('D(x)', 100):.3f}, {history.last('D(G(z))', 100):.3f}"),
        "score_digits (2,000 samples, noise seed 1)": (
            f"confident_share {score.confident_share:.3f}, evenness {score.evenness:.3f}, "
            f"digit_counts {score.digit_counts}"),
        "score_digits of 2,000 real training images (yardstick)": (
            f"confident_share {real.confident_share:.3f}, evenness {real.evenness:.3f}"),
        "reproduce": (f"python -m ganlib.recipes.mlp_gan --epochs {epochs} --minutes 1e9 --seed {args.seed}"
                      + (f" --threads {args.threads}" if args.threads else "")),
        "weights": "fp16 state dict (loaded as float32)",
    }
    save_generator(generator.cpu(), NAME, kwargs=GENERATOR_KWARGS, card=card, weights_dir=args.out)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB) and its card")


if __name__ == "__main__":
    main()
