"""Train the shipped conditional MNIST generator of chapter 6.

    python -m ganlib.recipes.cgan [--minutes 9] [--max-epochs 30] [--seed 0] [--threads 1]
    python -m ganlib.recipes.cgan --score-only     # re-measure the shipped weights

``ConditionalGenerator`` (noise + a learned 10-d label embedding,
concatenated; MLP 256 -> 512 -> 1024 with batch norm; tanh) against a
projection ``ConditionalDiscriminator`` (the label enters as the inner
product of a class vector with D's features), non-saturating loss, Adam
(lr 2e-4, beta1 = 0.5), batch 64; the shipped weights are the exponential
moving average of G's weights over training steps (decay 0.995). Training stops after the last whole epoch
that ends within ``--minutes`` of wall time (or at ``--max-epochs``), so the
same command fits a busy CPU and a GPU; the card records how many epochs.

The card's quality numbers come from ``ganlib.classifier.score_digits`` on
10,000 generated digits (1,000 of each class, noise seed 1), as shipped
(fp16-rounded): how often the classifier reads the digit that was asked for.

With MNIST's training split available it trains on it; offline, with only
the 10,000-image test split, it trains on the test split and the card says
so (then the classifier that scores it has also seen those test images).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from ..data import load_mnist
from ..models.conditional import ConditionalDiscriminator, ConditionalGenerator, balanced_labels
from ..pretrained import WEIGHTS_DIR, load_generator, model_card, save_generator
from ..train import fixed_noise, generate, train_gan
from ..utils import device, seed_everything
from .common import hardware, training_data

NAME = "cgan"
GENERATOR_KWARGS = {"latent_dim": 100, "n_classes": 10, "label_mode": "embedding",
                    "hidden": [256, 512, 1024]}
DISCRIMINATOR_KWARGS = {"n_classes": 10, "label_mode": "projection", "hidden": [512, 256]}
SETTINGS = {"batch_size": 64, "lr": 2e-4, "betas": (0.5, 0.999), "ema_decay": 0.995}
N_SCORED = 10_000



def score_shipped(weights_dir=WEIGHTS_DIR):
    """Score the generator as shipped: 10,000 digits, 1,000 per requested class."""
    from ..classifier import score_digits

    generator = load_generator(NAME, weights_dir=weights_dir)
    labels = balanced_labels(N_SCORED)
    images = generate(generator, fixed_noise(N_SCORED, generator.latent_dim, seed=1), labels)
    return score_digits(images, labels)


def score_facts(score) -> dict:
    from ..pretrained import model_card as card_of

    try:
        classifier_data = card_of("mnist_classifier").get("data", "see mnist_classifier.json")
    except FileNotFoundError:
        classifier_data = "trained on first use (no shipped classifier weights)"
    from ..classifier import score_digits

    # Yardstick: the same classifier on real digits it did not train on (the last 2,000 test images).
    real = load_mnist("test", verbose=False)
    real_score = score_digits(real.images[-2000:], real.labels[-2000:])
    return {
        "scored by": f"ganlib.classifier (mnist_classifier; {classifier_data})",
        "yardstick: real digits (last 2,000 MNIST test images)": (
            f"label accuracy {real_score.label_accuracy:.3f}, confident share {real_score.confident_share:.3f}"),
        f"label accuracy ({N_SCORED:,} digits, 1,000 per class, noise seed 1)":
            f"{score.label_accuracy:.3f} (classifier's digit == requested digit)",
        "confident share": f"{score.confident_share:.3f} (top class probability >= 0.9)",
        "evenness": f"{score.evenness:.3f} (1 = all ten digits equally often)",
        "digit counts (classifier's reading, 0-9)": score.digit_counts,
    }


def train(minutes: float, max_epochs: int, seed: int):
    seed_everything(seed)
    dev = device()
    data, data_note = training_data(dev)
    print(data)
    generator = ConditionalGenerator(**GENERATOR_KWARGS).to(dev)
    discriminator = ConditionalDiscriminator(**DISCRIMINATOR_KWARGS).to(dev)
    opt_g = torch.optim.Adam(generator.parameters(), lr=SETTINGS["lr"], betas=SETTINGS["betas"])
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=SETTINGS["lr"], betas=SETTINGS["betas"])
    batches = data.batches(SETTINGS["batch_size"], with_labels=True)
    # The shipped weights are an exponential moving average of G's weights (and
    # batch-norm statistics): it smooths away the pixel speckle of a short run.
    ema = torch.optim.swa_utils.AveragedModel(
        generator, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(SETTINGS["ema_decay"]),
        use_buffers=True)

    start, epochs, history = time.time(), 0, None
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "cgan.ckpt"
        # One epoch per call, resumed from the checkpoint (optimizer states included):
        # stop at the first epoch boundary past the time budget.
        for epochs in range(1, max_epochs + 1):
            history = train_gan(generator, discriminator, batches, epochs=epochs, conditional=True,
                                opt_g=opt_g, opt_d=opt_d, checkpoint=checkpoint, progress=False,
                                after_d_step=lambda _: ema.update_parameters(generator))
            elapsed = time.time() - start
            print(f"epoch {epochs}: {elapsed / 60:.1f} min, loss_D {history.last('loss_D', 50):.3f}, "
                  f"loss_G {history.last('loss_G', 50):.3f}, D(x) {history.last('D(x)', 50):.2f}, "
                  f"D(G(z)) {history.last('D(G(z))', 50):.2f}", flush=True)
            if elapsed > minutes * 60:
                break
    return ema.module, data_note, epochs, time.time() - start, history


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=9.0,
                        help="wall-time budget; training stops at the first epoch end past it")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (1 is fastest on a shared CPU; 0: torch's default)")
    parser.add_argument("--score-only", action="store_true",
                        help="only re-score the shipped weights and update the card")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.score_only:
        card = model_card(NAME)
        score = score_shipped()
        print(score)
        card.pop("label accuracy", None)  # the "not measured yet" placeholder
        card.update(score_facts(score))
        save_generator(load_generator(NAME), NAME, kwargs=GENERATOR_KWARGS, card=card)
        return

    generator, data_note, epochs, seconds, history = train(args.minutes, args.max_epochs, args.seed)
    generator = generator.cpu()
    path = save_generator(generator, NAME, kwargs=GENERATOR_KWARGS, card={})
    card = {
        "model": ("ConditionalGenerator: [z (100) , label embedding (10)] -> Linear+BatchNorm+"
                  "LeakyReLU 256 -> 512 -> 1024 -> 784 tanh -> 1x28x28"),
        "discriminator": ("ConditionalDiscriminator(label_mode='projection'): 784 -> 512 -> 256 "
                          "(LeakyReLU 0.2, dropout 0.3), logit = w.h + <class vector(y), h>; not shipped"),
        "objective": "non-saturating GAN loss on logits, labels given to G and D",
        "optimizer": f"Adam, lr {SETTINGS['lr']}, betas {tuple(SETTINGS['betas'])}, both networks",
        "data": data_note,
        "split": "train" if data_note.startswith("MNIST training") else "test",
        "batch_size": SETTINGS["batch_size"],
        "epochs": epochs,
        "steps": len(history),
        "seed": args.seed,
        "hardware": hardware() + ", shared with other jobs",
        "wall_time_minutes": round(seconds / 60, 1),
        "final D(x), D(G(z)) (mean of last 100 steps)": (
            f"{history.last('D(x)', 100):.3f}, {history.last('D(G(z))', 100):.3f}"),
        "reproduce": (f"python -m ganlib.recipes.cgan --minutes {args.minutes:g} "
                      f"--max-epochs {args.max_epochs} --seed {args.seed} --threads {args.threads}"),
        "weights": (f"exponential moving average of G's weights and batch-norm statistics "
                    f"(decay {SETTINGS['ema_decay']} per step), fp16 state dict (loaded as float32)"),
    }
    save_generator(generator, NAME, kwargs=GENERATOR_KWARGS, card=card)
    try:
        from ..classifier import WEIGHTS_PATH
        if not WEIGHTS_PATH.exists():
            raise FileNotFoundError(WEIGHTS_PATH)
        score = score_shipped()
        print(score)
        card.update(score_facts(score))
    except (ImportError, FileNotFoundError) as err:
        print(f"Not scored ({err}); run `python -m ganlib.recipes.cgan --score-only` later.")
        card["label accuracy"] = "not measured yet: python -m ganlib.recipes.cgan --score-only"
    save_generator(generator, NAME, kwargs=GENERATOR_KWARGS, card=card)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB) and its card")


if __name__ == "__main__":
    main()
