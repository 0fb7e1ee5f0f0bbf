"""Score every shipped generator on the same metrics and write one table.

    python -m ganlib.recipes.scoreboard [--n-samples 5000] [--seed 0] [--out book/results_table.md]

Every generator listed by ``ganlib.pretrained.available()`` draws the same
number of samples from the same seed (a conditional generator is asked for
each digit equally often) and is compared with the same reference images:
all 10,000 images of MNIST's test split, which no generator and not the
classifier trained on. A "real MNIST" row scores 5,000 real training images
that the classifier never trained on (its validation slice) the same way:
the best a generator could do. Sampling and scoring live in
``ganlib.metrics.scoring``, shared with chapter 9 and the recipes.

All distribution metrics are computed in the feature space of ganlib's MNIST
classifier: they are *MNIST-classifier* FID/KID/IS, comparable with each other
and not with Inception numbers in papers (chapter 9 explains why).
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from .. import pretrained
from ..classifier import CONFIDENT, default_classifier
from ..metrics.scoring import N_SAMPLES, sample_images, score_images, test_split_features, yardstick_images

EXPECTED = ("mlp_gan", "dcgan", "cgan", "wgan_gp", "infogan", "style")  # digits from noise, in chapter order
IMAGE_TO_IMAGE = {"pix2pix"}  # scored in their model cards (L1 and accuracy on held-out outlines)
NOT_GENERATORS = {"mnist_classifier"}  # other weights that live in ganlib/weights
REFERENCE_SIZE = N_SAMPLES  # most samples a row may have (the yardstick holds 5,000 real images)

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


def shipped_generators(weights_dir=None) -> list[str]:
    """Names of the shipped generators (``pretrained.available()`` minus other weights)."""
    names = (pretrained.available() if weights_dir is None
             else sorted(p.stem for p in Path(weights_dir).glob("*.pt")))
    names = [n for n in names if n not in NOT_GENERATORS]
    # the book's generators in chapter order, then any others alphabetically
    return sorted(names, key=lambda n: (EXPECTED.index(n) if n in EXPECTED else len(EXPECTED), n))


def score_generators(names=None, n_samples: int = REFERENCE_SIZE, seed: int = 0, progress: bool = True,
                     weights_dir=None, classifier=None):
    """Score the real yardstick and every named (default: every shipped) generator.

    Returns (rows, notes): one dict per row, and lines saying what was skipped and why.
    """
    if not 10 <= n_samples <= REFERENCE_SIZE:
        raise ValueError(f"n_samples must lie between 10 and {REFERENCE_SIZE} (the real yardstick's size)")
    classifier = classifier if classifier is not None else default_classifier()
    ref_features = test_split_features(classifier)
    rows, notes = [], []
    real = score_images(yardstick_images().images[:n_samples], ref_features, classifier=classifier, seed=seed)
    rows.append({"name": "real MNIST (training images the classifier never trained on)", **real, "trained_on": None})
    names = shipped_generators(weights_dir) if names is None else list(names)
    for name in names:
        start = time.time()
        try:
            generator = (pretrained.load_generator(name) if weights_dir is None
                         else pretrained.load_generator(name, weights_dir=weights_dir))
        except Exception as err:  # a corrupt file or other weights: say so, score the rest
            notes.append(f"`{name}` skipped: not a loadable generator ({type(err).__name__}: {err})")
            continue
        if not hasattr(generator, "latent_dim"):
            notes.append(f"`{name}` is not scored here: it translates images rather than drawing digits "
                         "from noise (its model card reports its own held-out scores)")
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
        "is asked for each digit equally often), compared with all 10,000 images of MNIST's test "
        "split, which no generator and not the classifier trained on; the real row is 5,000 images "
        "of the training split that the classifier never trained on (its validation slice). "
        "FID, KID and IS are computed in the feature space of ganlib's MNIST "
        "classifier (*MNIST-classifier* scores: comparable with each other, not with Inception "
        "FID/IS in papers). Precision and recall: k-NN manifolds, k = 3. Digits covered: digits "
        f"that make at least 5 % of the samples the classifier is sure of (top probability ≥ {CONFIDENT}); "
        "Confident: share of such samples. Label accuracy: conditional generators only. "
        "Trained on: the MNIST split in the generator's model card."
        + _classifier_note() + " Made by `python -m ganlib.recipes.scoreboard`."
    )
    out = "\n".join(lines) + "\n\n" + caption + "\n"
    notes = [*notes, *reading_notes(rows)]
    if notes:
        out += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return out


def reading_notes(rows) -> list[str]:
    """Notes on numbers that read wrongly at first sight: a generator scoring better than the real
    row, and a KID below zero."""
    real = next((row for row in rows if str(row.get("name", "")).startswith("real")), None)
    notes = []
    if real is not None and real.get("fid") is not None:
        better = [row for row in rows if row is not real and row.get("fid") is not None and row["fid"] < real["fid"]]
        for row in better:
            recall = (f" (recall {row['recall']:.3f} against the real row's {real['recall']:.3f})"
                      if row.get("recall") is not None and real.get("recall") is not None else "")
            notes.append(f"{row['name']} has a lower FID than the real row: its samples' classifier features "
                         "match the test digits' mean and spread more closely than another sample of real "
                         "digits does, which does not make them better digits; recall says what a "
                         f"generator leaves out{recall}.")
    negative = [row["name"] for row in rows if row.get("kid") is not None and row["kid"] < 0]
    if negative:
        notes.append(f"KID is an unbiased estimate, so a value near 0 can come out below 0 ({', '.join(negative)}).")
    return notes


README_START, README_END = "<!-- results-table:start -->", "<!-- results-table:end -->"
TRAINING_START, TRAINING_END = "<!-- training-table:start -->", "<!-- training-table:end -->"
CHAPTERS = {"mnist_classifier": "4, 9 (scores)", "mlp_gan": "4", "dcgan": "5", "cgan": "6", "wgan_gp": "7",
            "infogan": "8", "style": "10", "pix2pix": "11"}


def with_readme_table(readme: str, table: str, start_marker: str = README_START,
                      end_marker: str = README_END) -> str:
    """``readme`` with the block between two markers replaced by ``table``."""
    start, end = readme.find(start_marker), readme.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {start_marker} ... {end_marker} block")
    return readme[: start + len(start_marker)] + "\n" + table.rstrip("\n") + "\n" + readme[end:]


def training_table(weights_dir=None) -> str:
    """How each shipped model was trained, from the model cards: command, epochs, wall time."""
    weights_dir = Path(weights_dir) if weights_dir is not None else pretrained.WEIGHTS_DIR
    lines = ["| model | chapter | command | epochs (full profile) | steps | wall time | hardware |",
             "|:---|:---|:---|---:|---:|---:|:---|"]
    for card_path in sorted(weights_dir.glob("*.json"), key=lambda p: (list(CHAPTERS).index(p.stem)
                                                                      if p.stem in CHAPTERS else 99, p.stem)):
        card = json.loads(card_path.read_text())
        name = card_path.stem
        if "wall_time_s" in card:
            minutes = card["wall_time_s"] / 60
        else:
            minutes = card.get("wall_time_minutes_total", card.get("wall_time_minutes_this_call", float("nan")))
        full = card.get("full_profile_epochs", card.get("max_epochs", "–"))
        lines.append(f"| `{name}` | {CHAPTERS.get(name, '–')} | `{card.get('reproduce', '?')}` | "
                     f"{card.get('epochs', '?')} ({full}) | {card.get('steps', '–')} | {minutes:.1f} min | "
                     f"{card.get('hardware', '?')} |")
    return "\n".join(lines) + "\n"


def default_output() -> Path:
    """book/results_table.md in the repository (or under the current folder when installed)."""
    repo = Path(__file__).resolve().parents[3]
    root = repo if (repo / "_toc.yml").exists() else Path.cwd()
    return root / "book" / "results_table.md"


def results_table(n_samples: int = REFERENCE_SIZE, seed: int = 0, progress: bool = True) -> str:
    """Score every shipped generator and return the markdown table (with its notes)."""
    names = shipped_generators()
    if progress:
        print(f"shipped generators: {names or 'none yet'}")
    rows, notes = score_generators(names, n_samples, seed, progress=progress)
    missing = [n for n in EXPECTED if n not in names]
    if missing:
        notes.append("not shipped yet, so not scored: " + ", ".join(f"`{n}`" for n in missing))
    return markdown_table(rows, notes, n_samples, seed)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=REFERENCE_SIZE,
                        help=f"samples per generator (at most {REFERENCE_SIZE:,}, the real yardstick's size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not 10 <= args.n_samples <= REFERENCE_SIZE:
        parser.error(f"--n-samples must lie between 10 and {REFERENCE_SIZE}")
    table = results_table(args.n_samples, args.seed)
    out = args.out or default_output()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    readme = out.parent.parent / "README.md"
    if readme.exists() and args.out is None:
        text = with_readme_table(readme.read_text(), table)
        readme.write_text(with_readme_table(text, training_table(), TRAINING_START, TRAINING_END))
        print(f"updated the table in {readme}")
    print(table)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
