"""Score every shipped generator on the same metrics and write one table.

    python -m ganlib.recipes.scoreboard [--n-samples 5000] [--seed 0] [--out book/results_table.md]

Every generator listed by ``ganlib.pretrained.available()`` draws the same
number of samples from the same seed (a conditional generator is asked for
each digit equally often) and is compared with the same reference images:
the first half of MNIST's test split. A "real MNIST" row scores the second
half of the test split the same way, which is the best a generator could do.

All distribution metrics are computed in the feature space of ganlib's MNIST
classifier: they are *MNIST-classifier* FID/KID/IS, comparable with each other
and not with Inception numbers in papers (chapter 8 explains why).
"""
from __future__ import annotations

import argparse
import inspect
import math
import time
from pathlib import Path

import torch

from .. import pretrained
from ..classifier import CONFIDENT, _default_classifier, score_digits
from ..data import load_mnist
from ..metrics.coverage import label_coverage_from_probs
from ..metrics.features import classifier_features, classifier_probabilities
from ..metrics.fid import fid_from_features
from ..metrics.inception_score import inception_score_from_probs
from ..metrics.kid import kid_from_features
from ..metrics.prd import precision_recall

EXPECTED = ("mlp_gan", "dcgan", "cgan", "wgan_gp")  # the book's generators, in chapter order
NOT_GENERATORS = {"mnist_classifier"}  # other weights that live in ganlib/weights
REFERENCE_SIZE = 5000  # half of the test split is the reference, the other half the "real" row
SPLIT_SEED = 0  # fixed, whatever --seed says: every table compares with the same reference

COLUMNS = [  # (key, header, format)
    ("name", "Generator", "{}"),
    ("fid", "FID ↓", "{:.2f}"),
    ("kid", "KID ↓", "{:.3g}"),
    ("is", "IS ↑", "{:.2f}"),
    ("precision", "Precision ↑", "{:.3f}"),
    ("recall", "Recall ↑", "{:.3f}"),
    ("covered", "Digits covered", "{}/10"),
    ("confident", "Confident ↑", "{:.1%}"),
    ("label_accuracy", "Label accuracy", "{:.1%}"),
    ("trained_on", "Trained on", "{}"),
]


def is_conditional(generator: torch.nn.Module) -> bool:
    """True for generators called as G(z, labels) (their forward takes two arguments)."""
    return len(inspect.signature(generator.forward).parameters) >= 2


@torch.no_grad()
def sample_images(generator: torch.nn.Module, n: int, seed: int = 0, batch_size: int = 1000):
    """``n`` samples (CPU, float) from noise seeded with ``seed``; returns (images, labels or None).

    A conditional generator gets the labels 0, 1, ..., 9, 0, 1, ... so every digit is
    asked for equally often.
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of samples, got {n}")
    latent_dim = getattr(generator, "latent_dim", None)
    if latent_dim is None:
        raise ValueError("the generator has no .latent_dim attribute: cannot draw its noise")
    generator.eval()
    dev = next(generator.parameters()).device
    z = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))
    labels = None
    if is_conditional(generator):
        labels = torch.arange(n) % getattr(generator, "n_classes", 10)
    out = []
    for start in range(0, n, batch_size):
        args = [z[start:start + batch_size].to(dev)]
        if labels is not None:
            args.append(labels[start:start + batch_size].to(dev))
        out.append(generator(*args).float().cpu())
    return torch.cat(out).clamp(-1, 1), labels


def reference_images(verbose: bool = False):
    """(reference, held-out real): two disjoint random halves of MNIST's test split, with labels.

    Random halves, because the test split is ordered: its first 5,000 digits are tidier
    than the last 5,000, and the two ordered halves differ measurably.
    """
    test = load_mnist("test", verbose=verbose)
    if len(test) < 2 * REFERENCE_SIZE:
        raise ValueError(f"the scoreboard needs MNIST's full test split (10,000 images), got {len(test)}")
    order = torch.randperm(len(test), generator=torch.Generator().manual_seed(SPLIT_SEED))
    ref, real = order[:REFERENCE_SIZE], order[REFERENCE_SIZE:2 * REFERENCE_SIZE]
    return (test.images[ref], test.labels[ref]), (test.images[real], test.labels[real])


def score_images(images: torch.Tensor, reference_features: torch.Tensor, labels=None,
                 classifier=None, seed: int = 0) -> dict:
    """Every scoreboard metric for one batch of images against reference features."""
    classifier = classifier if classifier is not None else _default_classifier()
    feats = classifier_features(images, classifier)
    probs = classifier_probabilities(images, classifier)
    pr = precision_recall(reference_features, feats, k=3)
    kid = kid_from_features(reference_features, feats, subsets=20, subset_size=1000, seed=seed)
    coverage = label_coverage_from_probs(probs, confidence=CONFIDENT)
    digits = score_digits(images, labels, classifier) if labels is not None else None
    return {
        "n": len(images),
        "fid": fid_from_features(reference_features, feats),
        "kid": kid.mean,
        "is": inception_score_from_probs(probs, splits=10).mean,
        "precision": pr.precision,
        "recall": pr.recall,
        "covered": coverage.covered,
        "confident": coverage.confident_share,
        "label_accuracy": digits.label_accuracy if digits is not None else None,
    }


def shipped_generators(weights_dir=None) -> list[str]:
    """Names of the shipped generators (``pretrained.available()`` minus other weights)."""
    names = (pretrained.available() if weights_dir is None
             else sorted(p.stem for p in Path(weights_dir).glob("*.pt")))
    names = [n for n in names if n not in NOT_GENERATORS]
    # the book's generators in chapter order, then any others alphabetically
    return sorted(names, key=lambda n: (EXPECTED.index(n) if n in EXPECTED else len(EXPECTED), n))


def score_generators(names=None, n_samples: int = REFERENCE_SIZE, seed: int = 0, progress: bool = True,
                     weights_dir=None, classifier=None):
    """Score the real held-out half and every named (default: every shipped) generator.

    Returns (rows, notes): one dict per row, and lines saying what was skipped and why.
    """
    if not 10 <= n_samples <= REFERENCE_SIZE:
        raise ValueError(f"n_samples must lie between 10 and {REFERENCE_SIZE} (the held-out real half)")
    torch.manual_seed(seed)
    classifier = classifier if classifier is not None else _default_classifier()
    (ref_images, _), (real_images, real_labels) = reference_images()
    ref_features = classifier_features(ref_images, classifier)
    rows, notes = [], []
    real = score_images(real_images[:n_samples], ref_features, classifier=classifier, seed=seed)
    rows.append({"name": "real MNIST (held-out test images)", **real, "trained_on": None})
    names = shipped_generators(weights_dir) if names is None else list(names)
    for name in names:
        start = time.time()
        try:
            generator = (pretrained.load_generator(name) if weights_dir is None
                         else pretrained.load_generator(name, weights_dir=weights_dir))
        except Exception as err:  # a corrupt file or other weights: say so, score the rest
            notes.append(f"`{name}` skipped: not a loadable generator ({type(err).__name__}: {err})")
            continue
        images, labels = sample_images(generator, n_samples, seed)
        if images.shape[1:] != (1, 28, 28):
            notes.append(f"`{name}` skipped: makes {tuple(images.shape[1:])} samples, not MNIST digits")
            continue
        row = {"name": f"`{name}`" + (" (conditional)" if labels is not None else ""),
               **score_images(images, ref_features, labels, classifier, seed),
               "trained_on": _trained_on(name, weights_dir)}
        rows.append(row)
        if progress:
            print(f"scored {name} in {time.time() - start:.1f} s: FID {row['fid']:.2f}")
    return rows, notes


def _trained_on(name: str, weights_dir=None) -> str:
    """The MNIST split a generator was trained on, from its model card."""
    try:
        card = (pretrained.model_card(name) if weights_dir is None
                else pretrained.model_card(name, weights_dir=weights_dir))
    except FileNotFoundError:
        return "?"
    return str(card.get("split", "?"))


def _classifier_note() -> str:
    try:
        card = pretrained.model_card("mnist_classifier")
    except FileNotFoundError:
        return ""
    return f" The classifier's model card says: {card.get('data', '?')}."


def markdown_table(rows, notes=(), n_samples: int = REFERENCE_SIZE, seed: int = 0) -> str:
    """The scoreboard as a markdown table with a caption saying how it was made."""
    header = "| " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    rule = "|" + "|".join(":---" if k == "name" else "---:" for k, _, _ in COLUMNS) + "|"
    lines = [header, rule]
    for row in rows:
        cells = []
        for key, _, fmt in COLUMNS:
            value = row.get(key)
            is_missing = value is None or (isinstance(value, float) and math.isnan(value))
            cells.append("–" if is_missing else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    caption = (
        f"Every row: {n_samples:,} images (generators: noise seed {seed}; a conditional generator "
        f"is asked for each digit equally often), compared with a fixed random half ({REFERENCE_SIZE:,} "
        "images) of MNIST's test split; the real row is the other half. FID, KID and IS are computed in the feature space of ganlib's MNIST "
        "classifier (*MNIST-classifier* scores: comparable with each other, not with Inception "
        "FID/IS in papers). Precision and recall: k-NN manifolds, k = 3. Digits covered: digits "
        f"that make at least 5 % of the samples the classifier is sure of (top probability ≥ {CONFIDENT}); "
        "Confident: share of such samples. Label accuracy: conditional generators only. "
        "Trained on: the MNIST split in the generator's model card (offline builds train on the test "
        "split, so their samples are then compared with images they saw)."
        + _classifier_note() + " Made by `python -m ganlib.recipes.scoreboard`."
    )
    out = "\n".join(lines) + "\n\n" + caption + "\n"
    if notes:
        out += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return out


def default_output() -> Path:
    """book/results_table.md in the repository (or under the current folder when installed)."""
    repo = Path(__file__).resolve().parents[3]
    root = repo if (repo / "_toc.yml").exists() else Path.cwd()
    return root / "book" / "results_table.md"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=REFERENCE_SIZE,
                        help=f"samples per generator (at most {REFERENCE_SIZE:,}, the held-out real half)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not 10 <= args.n_samples <= REFERENCE_SIZE:
        parser.error(f"--n-samples must lie between 10 and {REFERENCE_SIZE}")
    names = shipped_generators()
    print(f"shipped generators: {names or 'none yet'}")
    rows, notes = score_generators(names, args.n_samples, args.seed)
    missing = [n for n in EXPECTED if n not in names]
    if missing:
        notes.append("not shipped yet, so not scored: " + ", ".join(f"`{n}`" for n in missing))
    table = markdown_table(rows, notes, args.n_samples, args.seed)
    out = args.out or default_output()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    print(table)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
