"""Train the shipped DCGAN MNIST generator of chapter 5.

    python -m ganlib.recipes.dcgan [--minutes 12] [--width 32] [--batch-size 32] [--threads 1] [--seed 0]

``DCGANGenerator`` / ``DCGANDiscriminator`` (Radford et al.'s guidelines:
strided convolutions, batch norm, ReLU in G, LeakyReLU(0.2) in D, tanh
output, N(0, 0.02) init) trained with the non-saturating loss and Adam
(lr 2e-4, beta1 = 0.5). Training stops before an epoch that would not end
within ``--minutes`` of wall time (judged by the last epoch's duration), or at
``--max-epochs``, so the same command
fits a busy CPU and a GPU; the card records how many epochs that was. Writes
``ganlib/weights/dcgan.pt`` (fp16) and its model card ``dcgan.json``.

With MNIST's training split available it trains on it; offline, with only
the 10,000-image test split, it trains on the test split and the card says so.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from ..models import DCGANDiscriminator, DCGANGenerator
from ..pretrained import save_generator
from ..train import train_gan
from ..utils import device, seed_everything
from .common import hardware, training_data

NAME = "dcgan"
SETTINGS = {"batch_size": 32, "lr": 2e-4, "betas": (0.5, 0.999)}



def train(minutes: float, max_epochs: int, seed: int, width: int):
    seed_everything(seed)
    dev = device()
    data, data_note = training_data(dev)
    print(data)
    generator = DCGANGenerator(latent_dim=100, width=width).to(dev)
    discriminator = DCGANDiscriminator(width=width).to(dev)
    opt_g = torch.optim.Adam(generator.parameters(), lr=SETTINGS["lr"], betas=SETTINGS["betas"])
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=SETTINGS["lr"], betas=SETTINGS["betas"])
    batches = data.batches(SETTINGS["batch_size"], with_labels=False)

    start, epochs, history = time.time(), 0, None
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "dcgan.ckpt"
        # One epoch per call, resumed from the checkpoint (optimizer states
        # included): stop when the next epoch would overrun the time budget.
        for epochs in range(1, max_epochs + 1):
            epoch_start = time.time()
            history = train_gan(generator, discriminator, batches, epochs=epochs,
                                opt_g=opt_g, opt_d=opt_d, checkpoint=checkpoint, progress=False)
            elapsed = time.time() - start
            print(f"epoch {epochs}: {elapsed / 60:.1f} min, loss_D {history.last('loss_D', 50):.3f}, "
                  f"loss_G {history.last('loss_G', 50):.3f}, D(x) {history.last('D(x)', 50):.2f}, "
                  f"D(G(z)) {history.last('D(G(z))', 50):.2f}", flush=True)
            if elapsed + (time.time() - epoch_start) > minutes * 60:
                break
    return generator, data_note, epochs, time.time() - start, history


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=12.0,
                        help="wall-time budget; no epoch starts that would end past it")
    parser.add_argument("--batch-size", type=int, default=SETTINGS["batch_size"])
    parser.add_argument("--max-epochs", type=int, default=25)
    parser.add_argument("--width", type=int, default=32, help="channels of the widest-resolution layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    SETTINGS["batch_size"] = args.batch_size
    generator, data_note, epochs, seconds, history = train(args.minutes, args.max_epochs,
                                                           args.seed, args.width)
    kwargs = {"latent_dim": 100, "width": args.width}
    path = save_generator(generator.cpu(), NAME, kwargs=kwargs, card={})
    # Score the weights as shipped (fp16-rounded), on 2,000 samples from a fixed seed.
    from ..classifier import score_digits
    from ..pretrained import load_generator
    from ..train import fixed_noise, generate

    shipped = load_generator(NAME)
    score = score_digits(generate(shipped, fixed_noise(2000, 100, seed=1)))
    print(score)
    card = {
        "model": (f"DCGANGenerator(latent_dim=100, width={args.width}): z -> ConvTranspose 7x7 -> "
                  f"{2 * args.width}x7x7 -> {args.width}x14x14 -> 1x28x28 tanh, batch norm + ReLU"),
        "discriminator": (f"DCGANDiscriminator(width={args.width}): strided 4x4 convs, LeakyReLU 0.2, "
                          "batch norm except the first layer, no pooling; not shipped"),
        "objective": "non-saturating GAN loss on logits",
        "optimizer": f"Adam, lr {SETTINGS['lr']}, betas {tuple(SETTINGS['betas'])}, both networks",
        "init": "conv weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0",
        "data": data_note,
        "split": "train" if data_note.startswith("MNIST training") else "test",
        "batch_size": SETTINGS["batch_size"],
        "epochs": epochs,
        "steps": len(history),
        "seed": args.seed,
        "hardware": hardware(),
        "wall_time_minutes": round(seconds / 60, 1),
        "final D(x), D(G(z)) (mean of last 100 steps)": (
            f"{history.last('D(x)', 100):.3f}, {history.last('D(G(z))', 100):.3f}"),
        "score_digits (2,000 samples, noise seed 1)": (
            f"confident_share {score.confident_share:.3f}, evenness {score.evenness:.3f}, "
            f"digit_counts {score.digit_counts}"),
        "reproduce": (f"python -m ganlib.recipes.dcgan --minutes {args.minutes:g} "
                      f"--max-epochs {args.max_epochs} --width {args.width} --batch-size {args.batch_size} "
                      f"--seed {args.seed} --threads {torch.get_num_threads()}"),
        "weights": "fp16 state dict (loaded as float32)",
    }
    save_generator(generator.cpu(), NAME, kwargs=kwargs, card=card)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB) and its card")


if __name__ == "__main__":
    main()
