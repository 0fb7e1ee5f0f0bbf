"""The digit classifier that scores samples: accurate on held-out real digits,
confident on digits and not on noise, clear about bad input."""
import json
import math

import numpy as np
import pytest
import torch

from ganlib import classifier as clf
from ganlib.data import load_mnist

needs_weights = pytest.mark.skipif(not clf.WEIGHTS_PATH.exists(),
                                   reason="run python -m ganlib.recipes.classifier first")


@pytest.fixture(scope="module")
def model():
    return clf.load_classifier()


@pytest.fixture(scope="module")
def held_out():
    # The shipped weights trained on the training split: the whole test split is unseen.
    data = load_mnist("test")
    return data.images, data.labels


@needs_weights
def test_shipped_weights_are_small_fp16_and_load_with_weights_only():
    state = torch.load(clf.WEIGHTS_PATH, weights_only=True)
    assert all(v.dtype == torch.float16 for v in state.values())
    assert clf.WEIGHTS_PATH.stat().st_size < 1024 * 1024
    card = json.loads(clf.WEIGHTS_PATH.with_suffix(".json").read_text())
    assert {"data", "split", "test_accuracy", "validation_accuracy_per_epoch", "epochs", "seed",
            "reproduce"} <= set(card)
    assert card["split"] == "train" and card["test_images"] == 10000


@needs_weights
def test_accuracy_on_held_out_real_digits(model, held_out):
    images, labels = held_out
    accuracy = (clf.predict_proba(images, model).argmax(1) == labels).double().mean().item()
    assert len(labels) == 10000 and accuracy >= 0.99


def test_model_shapes(model):
    x = torch.zeros(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert model.features(x).shape == (5, clf.DigitClassifier.feature_dim)
    assert not model.training


@needs_weights
def test_real_digits_score_confident_and_even(model, held_out):
    images, labels = held_out
    score = clf.score_digits(images, labels=labels, classifier=model)
    assert score.n == 10000 and sum(score.digit_counts) == 10000
    assert score.confident_share > 0.9
    assert score.evenness > 0.97  # MNIST's digits are close to equally frequent
    assert score.label_accuracy >= 0.99
    assert set(score.as_dict()) == {"n", "confident_share", "digit_counts", "evenness", "label_accuracy"}
    assert "confident" in str(score)


def test_noise_is_not_confidently_a_digit(model):
    gen = torch.Generator().manual_seed(0)
    noise = torch.rand(500, 1, 28, 28, generator=gen) * 2 - 1
    score = clf.score_digits(noise, classifier=model)
    assert score.confident_share < 0.3
    assert score.label_accuracy is None


def test_evenness_is_zero_for_one_digit_and_one_for_all_ten(model, held_out):
    images, labels = held_out
    ones = images[labels == 1][:100]
    assert clf.score_digits(ones, classifier=model).evenness < 0.2
    fake_even = torch.stack([images[labels == d][0] for d in range(10)])
    probs = clf.predict_proba(fake_even, model)
    if (probs.argmax(1) == torch.arange(10)).all():
        assert math.isclose(clf.score_digits(fake_even, classifier=model).evenness, 1.0, abs_tol=1e-9)


def test_accepts_keras_layouts(model, held_out):
    images = held_out[0][:20]
    nchw = clf.predict_proba(images, model)
    nhwc = clf.predict_proba(images.permute(0, 2, 3, 1).numpy(), model)
    flat = clf.predict_proba(images.reshape(20, 784), model)
    assert torch.allclose(nchw, nhwc) and torch.allclose(nchw, flat)


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(1, 28, 28 * 2), "MNIST-sized"),
    (torch.zeros(28, 28), "batch dimension"),
    (torch.zeros(4, 3, 28, 28), "MNIST-sized"),
    (torch.zeros(0, 1, 28, 28), "empty"),
    (torch.full((2, 1, 28, 28), 255.0), r"\[-1, 1\]"),
    (torch.full((2, 1, 28, 28), float("nan")), "NaN"),
])
def test_bad_input_raises_a_clear_error(model, bad, match):
    with pytest.raises(ValueError, match=match):
        clf.score_digits(bad, classifier=model)


def test_labels_must_match_the_images(model):
    with pytest.raises(ValueError, match="one label per image"):
        clf.score_digits(torch.zeros(4, 1, 28, 28), labels=[1, 2], classifier=model)
    with pytest.raises(TypeError, match="ImageData"):
        clf.train_classifier(np.zeros((4, 1, 28, 28)))
