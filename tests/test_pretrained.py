"""Every shipped weight file: loads with weights_only, makes the right shape in
[-1, 1], is at most 5 MB, and has a model card with the facts a reader needs."""
import json

import pytest
import torch

from ganlib import pretrained
from ganlib.classifier import WEIGHTS_PATH as CLASSIFIER_PATH
from ganlib.latent import latent_sampler
from ganlib.models.pix2pix import morphological_edges
from ganlib.train import generate

CARD_KEYS = {"model", "data", "split", "epochs", "steps", "seed", "hardware", "reproduce"}
ALL_WEIGHTS = sorted(pretrained.WEIGHTS_DIR.glob("*.pt"))
# The classifier's weights live beside the generators' but are a plain state dict.
GENERATORS = [p.stem for p in ALL_WEIGHTS if p != CLASSIFIER_PATH]


@pytest.mark.parametrize("path", ALL_WEIGHTS, ids=lambda p: p.name)
def test_weights_are_small_and_load_with_weights_only(path):
    assert path.stat().st_size <= pretrained.MAX_BYTES
    blob = torch.load(path, map_location="cpu", weights_only=True)
    tensors = blob if path == CLASSIFIER_PATH else blob["state_dict"]
    floats = [v for v in tensors.values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_makes_images_in_range(name):
    G = pretrained.load_generator(name)
    assert not G.training
    if hasattr(G, "latent_dim"):  # from noise (and labels or codes, as the model declares)
        images = generate(G, latent_sampler(G).fixed(8, seed=3))
    else:  # image to image (pix2pix): outlines of real digits in
        images = generate(G, morphological_edges(torch.rand(8, 1, 28, 28) * 2 - 1))
    assert images.dim() == 4 and images.shape[0] == 8 and images.shape[-2:] == (28, 28)
    assert torch.isfinite(images).all()
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0.05  # not a constant image


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_has_a_model_card(name):
    card = pretrained.model_card(name)
    assert CARD_KEYS <= set(card), f"{name}.json lacks {sorted(CARD_KEYS - set(card))}"
    assert card["reproduce"].startswith("python -m ganlib.recipes.")
    table = pretrained.ModelCard(name)._repr_markdown_()
    assert table.count("|") > 2 * len(card)


@pytest.mark.parametrize("name", GENERATORS)
def test_model_card_renders_as_a_table_in_the_book(name):
    from markdown_it import MarkdownIt  # the parser under MyST, which renders the book's outputs

    html = MarkdownIt("commonmark").enable("table").render(pretrained.ModelCard(name)._repr_markdown_())
    assert "<table>" in html, "the card's markdown is not a table"
    table = html.split("<table>", 1)[1]
    assert table.count("<tr>") == 1 + len(pretrained.model_card(name))  # header + one row a fact
    assert "<strong>" not in table and "<em>" not in table  # no ** from generator(**kwargs) as bold


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_trained_on_the_training_split_and_ships_its_recorded_run(name):
    card = pretrained.model_card(name)
    assert card["split"] == "train", f"{name} was trained on {card['split']!r}: retrain it on the training split"
    run = pretrained.recorded_run(name)
    assert run.snapshots[0][0] == 0 and len(run.snapshots) >= 3
    assert run.records["step"][-1] == card["steps"]
    assert (pretrained.WEIGHTS_DIR / f"{name}_run.pth").stat().st_size < 1024 * 1024


def test_classifier_has_a_card():
    if not CLASSIFIER_PATH.exists():
        pytest.skip("no shipped classifier")
    card = json.loads(CLASSIFIER_PATH.with_suffix(".json").read_text())
    assert {"data", "split", "test_accuracy", "epochs", "seed", "hardware", "reproduce"} <= set(card)
    assert card["split"] == "train" and card["test_accuracy"] >= 0.99


def test_unknown_name_says_what_is_available():
    with pytest.raises(FileNotFoundError, match="available"):
        pretrained.load_generator("no_such_model")


@pytest.mark.parametrize("name", GENERATORS)
def test_every_shipped_card_describes_the_configuration_its_recipe_trains(name):
    """A chapter's full profile trains its recipe's CONFIG and shows the shipped generator as
    that configuration's result: a card that no longer describes CONFIG is stale (retrain)."""
    import importlib

    config = importlib.import_module(f"ganlib.recipes.{name}").CONFIG
    card = json.loads((pretrained.WEIGHTS_DIR / f"{name}.json").read_text())
    stale = {key: (card.get(key), value) for key, value in config.describe().items() if card.get(key) != value}
    assert not stale, f"{name}.json differs from recipes.{name}.CONFIG (card, config): {stale}"
    # the full profile's length; a shipped run may have stopped earlier (its card and the README say so)
    assert card["full_profile_epochs"] == config.epochs >= card["epochs"]
