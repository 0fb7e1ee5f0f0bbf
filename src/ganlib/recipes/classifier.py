"""Train the MNIST digit classifier that scores generated samples.

    python -m ganlib.recipes.classifier [--epochs 8] [--seed 0] [--threads 2]

Writes ``ganlib/weights/mnist_classifier.pt`` (fp16 state dict) and its card
``mnist_classifier.json``. It trains on the first 55,000 images of MNIST's
training split, keeps the epoch that does best on the last 5,000 (a
validation slice, for early stopping) and reports accuracy on all 10,000
test images, which neither training nor early stopping saw. Without the
training split it stops with a message: a classifier scored on the images it
trained on would be measured dishonestly.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from ..classifier import WEIGHTS_PATH, predict_proba, save_classifier, train_classifier
from ..data import ImageData, load_mnist
from ..utils import seed_everything
from .common import hardware


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)

    full_train, test = load_mnist("train", allow_test_split=False), load_mnist("test")
    n_val = 5000
    train = ImageData(full_train.images[:-n_val], full_train.labels[:-n_val], "MNIST", "train[:55000]")
    validation = ImageData(full_train.images[-n_val:], full_train.labels[-n_val:], "MNIST",
                           "train[55000:]")
    data_note = ("MNIST training split: trained on its first 55,000 images, early-stopped on its "
                 "last 5,000; accuracy on the 10,000-image test split")
    print(f"train: {train}\nvalidation: {validation}\ntest:  {test}")

    start = time.time()
    model = train_classifier(train, epochs=args.epochs, validation=validation)
    seconds = time.time() - start
    path = save_classifier(model)
    # Score the weights as shipped (fp16 rounded), not the float32 model in memory.
    from ..classifier import load_classifier_weights
    shipped = load_classifier_weights(path, None)
    accuracy = (predict_proba(test.images, shipped).argmax(1) == test.labels).double().mean().item()
    card = {
        "model": "DigitClassifier: conv16-pool-conv32-pool-fc64-fc10, "
                 f"{sum(p.numel() for p in model.parameters()):,} parameters, fp16 weights",
        "data": data_note,
        "train_images": len(train), "test_images": len(test),
        "validation_images": len(validation),
        "split": "train",
        "validation_accuracy_per_epoch": [round(a, 4) for a in model.validation_accuracies],
        "test_accuracy": round(accuracy, 4),
        "epochs": len(model.validation_accuracies), "max_epochs": args.epochs, "seed": args.seed,
        "augmentation": "random shifts of up to 2 pixels",
        "outlier_exposure": ("each batch adds 32 non-digits (uniform, smooth and faint noise, real "
                             "digits with shuffled pixels) trained towards a flat prediction, so noise is not "
                             "scored as a confident digit"),
        "hardware": hardware(), "wall_time_s": round(seconds, 1),
        "torch": torch.__version__,
        "reproduce": (f"python -m ganlib.recipes.classifier --epochs {args.epochs} --seed {args.seed}"
                      + (f" --threads {args.threads}" if args.threads else "")),
    }
    WEIGHTS_PATH.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
