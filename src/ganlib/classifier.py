"""A small MNIST classifier that scores generated digits.

A GAN's losses say little about how good its samples are. A classifier
trained on real digits gives numbers a reader can trust at a glance:

- ``confident_share``: how many samples look clearly like *some* digit
  (top class probability >= 0.9); blurry or broken samples score low;
- ``digit_counts`` and ``evenness``: which digits come out, and how evenly
  (1 = all ten equally often; a generator that collapsed onto a few digits
  scores low);
- ``label_accuracy``: for conditional generators, how often the digit asked
  for is the digit drawn.

``DigitClassifier.features(x)`` gives the penultimate activations, a 64-number
summary of an image used by FID-like distances.

The shipped weights (``ganlib/weights/mnist_classifier.pt``, fp16) are
rebuilt by ``python -m ganlib.recipes.classifier``; its model card
(``mnist_classifier.json``) says what data they were trained and tested on.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import ImageData, data_root, load_mnist

WEIGHTS_PATH = Path(__file__).parent / "weights" / "mnist_classifier.pt"
CONFIDENT = 0.9  # a sample "clearly is" a digit when its top probability reaches this


def confident_mask(probs: torch.Tensor, threshold: float = CONFIDENT) -> torch.Tensor:
    """Which samples the classifier is sure of (top probability >= ``threshold``): the one
    definition behind every "confident share" in the book."""
    return probs.max(dim=1).values >= threshold


class DigitClassifier(nn.Module):
    """Two conv blocks and two linear layers: (N, 1, 28, 28) in [-1, 1] -> 10 logits."""

    feature_dim = 64

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
            nn.Flatten(),
        )
        self.hidden = nn.Sequential(nn.Dropout(0.25), nn.Linear(32 * 7 * 7, self.feature_dim), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(self.feature_dim, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations, (N, 64): what the classifier "sees" in an image."""
        return self.hidden(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def as_digit_batch(images) -> torch.Tensor:
    """Images as a float tensor (N, 1, 28, 28) in [-1, 1].

    Accepts torch tensors or NumPy arrays shaped (N, 1, 28, 28) (PyTorch),
    (N, 28, 28, 1) (Keras/TensorFlow), (N, 28, 28) or (N, 784).
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor or numpy array of images, got {type(images).__name__}")
    x = images.detach().float()
    shape = tuple(x.shape)
    if x.dim() == 4 and shape[1:] == (1, 28, 28):
        pass
    elif x.dim() == 4 and shape[1:] == (28, 28, 1):
        x = x.permute(0, 3, 1, 2)
    elif x.dim() == 3 and shape[1:] == (28, 28):
        x = x.unsqueeze(1)
    elif x.dim() == 2 and shape[1] == 784:
        x = x.view(-1, 1, 28, 28)
    else:
        raise ValueError(
            f"expected MNIST-sized images shaped (N, 1, 28, 28), (N, 28, 28, 1), (N, 28, 28) "
            f"or (N, 784); got {shape}. A single image needs a batch dimension: images[None].")
    if len(x) == 0:
        raise ValueError("got an empty batch of images: pass at least one image")
    if not torch.isfinite(x).all():
        raise ValueError("the images contain NaN or inf: the generator has diverged")
    if x.min() < -1.01 or x.max() > 1.01:
        raise ValueError(
            f"pixel values run from {x.min().item():.3g} to {x.max().item():.3g}, but the classifier "
            "expects [-1, 1] (ganlib's range; a tanh output). Map 0..255 pixels with x / 127.5 - 1 "
            "and [0, 1] pixels with 2 * x - 1.")
    return x.contiguous()


def _augment(x: torch.Tensor) -> torch.Tensor:
    """Shift each image by up to 2 pixels (background is -1): cheap, and helps a lot on 8k images."""
    padded = F.pad(x, (2, 2, 2, 2), value=-1.0)
    dx, dy = np.random.randint(0, 5, size=2)
    return padded[:, :, dy:dy + 28, dx:dx + 28]


def non_digits(images: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` images that are no digit: the failures an early or broken generator makes.

    A quarter each: uniform noise, smooth (low-resolution) noise, faint noise over a
    blank background, and real digits with their pixels shuffled (the right amount of
    ink, no strokes: an MLP generator's speckle at its worst). Trained to give
    them a flat prediction ("outlier exposure"), the classifier is not confident on
    noise, which otherwise it happily calls an 8 with probability 1.
    """
    dev, q = images.device, max(1, n // 4)
    uniform = torch.rand(q, 1, 28, 28, device=dev) * 2 - 1
    coarse = F.interpolate(torch.rand(q, 1, 7, 7, device=dev) * 2 - 1, size=28, mode="bilinear",
                           align_corners=False)
    faint = (-1 + torch.rand(q, 1, 28, 28, device=dev) * torch.rand(q, 1, 1, 1, device=dev)).clamp(-1, 1)
    picked = images[torch.randint(len(images), (n - 3 * q,), device=dev)].flatten(1)
    shuffled = picked[:, torch.randperm(28 * 28, device=dev)].view(-1, 1, 28, 28)
    return torch.cat([uniform, coarse, faint, shuffled])


def train_classifier(data: ImageData, epochs: int = 8, device=None, progress: bool = True,
                     batch_size: int = 128, lr: float = 2e-3, outlier_exposure: bool = True,
                     validation: ImageData | None = None, patience: int = 2) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on ``data`` with a plain loop (Adam, one-cycle schedule).

    With ``outlier_exposure`` each batch also holds a quarter as many
    :func:`non_digits`, trained towards the uniform prediction, so that
    ``score_digits`` is not fooled by noise. With ``validation`` (images the
    loop never trains on), accuracy on it is measured after every epoch, the
    best epoch's weights are kept, and training stops early after ``patience``
    epochs without improvement. Returns the model in eval mode (its
    ``validation_accuracies`` attribute lists the per-epoch accuracies).
    Seed first (``ganlib.seed_everything``) for a repeatable run.
    """
    if not isinstance(data, ImageData):
        raise TypeError(f"train_classifier needs an ImageData (from ganlib.load_mnist), got {type(data).__name__}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    dev = torch.device(device) if device is not None else data.images.device
    model = DigitClassifier().to(dev)
    batches = data.to(dev).batches(batch_size, with_labels=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(batches))
    model.train()
    bar = tqdm(total=epochs * len(batches), desc="training the digit classifier", disable=not progress,
               unit="step")
    best_accuracy, best_state, accuracies = -1.0, None, []
    for _ in range(epochs):
        model.train()
        for images, labels in batches:
            loss = F.cross_entropy(model(_augment(images)), labels)
            if outlier_exposure:
                # Cross-entropy to the uniform distribution: mean over classes of -log p.
                outlier_logits = model(non_digits(images, batch_size // 4))
                loss = loss - 0.5 * F.log_softmax(outlier_logits, dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        if validation is not None:
            model.eval()
            predicted = predict_proba(validation.images, model).argmax(1)
            accuracies.append((predicted == validation.labels.cpu()).double().mean().item())
            bar.write(f"epoch {len(accuracies)}: validation accuracy {accuracies[-1]:.4f}")
            if accuracies[-1] > best_accuracy:
                best_accuracy = accuracies[-1]
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            elif len(accuracies) - 1 - accuracies.index(best_accuracy) >= patience:
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.validation_accuracies = accuracies
    return model.eval()


def save_classifier(model: DigitClassifier, path: str | Path = WEIGHTS_PATH) -> Path:
    """Write the weights as a half-precision state dict (loadable with ``weights_only=True``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().cpu().half() for k, v in model.state_dict().items()}, path)
    return path


def load_classifier_weights(path: Path, device) -> DigitClassifier:
    model = DigitClassifier()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    return model.to(device) if device is not None else model


def load_classifier(device=None) -> DigitClassifier:
    """The digit classifier in eval mode.

    Loads the shipped weights; where they are missing, trains one on MNIST
    (about two minutes on a CPU) and caches it in the data folder.
    """
    if WEIGHTS_PATH.exists():
        return load_classifier_weights(WEIGHTS_PATH, device)
    cache = data_root() / "mnist_classifier.pt"
    if cache.exists():
        return load_classifier_weights(cache, device)
    print(f"No shipped classifier weights at {WEIGHTS_PATH}: training one on MNIST "
          f"(about two minutes on a CPU) and caching it at {cache}.")
    from .utils import seed_everything

    seed_everything(0)
    model = train_classifier(load_mnist("train", allow_test_split=True), device=device)
    try:
        save_classifier(model, cache)
    except OSError as err:  # a read-only data folder: still usable, just not cached
        print(f"Could not cache the classifier ({err}); it will be trained again next time.")
    return model.eval()


@torch.no_grad()
def predict_proba(images, classifier: nn.Module | None = None, batch_size: int = 512) -> torch.Tensor:
    """Class probabilities (N, 10) for images in [-1, 1] (any shape :func:`as_digit_batch` takes)."""
    x = as_digit_batch(images)
    classifier = classifier if classifier is not None else default_classifier()
    was_training = classifier.training
    classifier.eval()
    dev = next(classifier.parameters()).device
    probs = torch.cat([F.softmax(classifier(x[i:i + batch_size].to(dev)).float(), dim=1).cpu()
                       for i in range(0, len(x), batch_size)])
    classifier.train(was_training)
    return probs


_CACHED: dict = {}


def default_classifier() -> nn.Module:
    if "model" not in _CACHED:
        _CACHED["model"] = load_classifier()
    return _CACHED["model"]


@dataclass
class DigitScore:
    """What the classifier makes of a batch of samples (see :func:`score_digits`)."""

    n: int
    confident_share: float
    digit_counts: list
    evenness: float
    label_accuracy: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"{self.n} samples scored by the MNIST classifier:",
                 f"  confident (top probability >= {CONFIDENT}): {self.confident_share:.1%}",
                 f"  predicted digits 0-9: {self.digit_counts}",
                 f"  evenness of the digit histogram (1 = all ten equally often): {self.evenness:.3f}"]
        if self.label_accuracy is not None:
            lines.append(f"  drawn digit == requested label: {self.label_accuracy:.1%}")
        return "\n".join(lines)


def score_digits(images, labels=None, classifier: nn.Module | None = None,
                 batch_size: int = 512) -> DigitScore:
    """Score generated (or real) digits with the MNIST classifier.

    images: (N, 1, 28, 28) in [-1, 1] (tensor or array; NHWC and (N, 784) also work).
    labels: the digits a conditional generator was asked for (length N), or None.
    """
    probs = predict_proba(images, classifier, batch_size)
    predicted = probs.argmax(dim=1)
    counts = torch.bincount(predicted, minlength=10)
    share = counts.double() / counts.sum()
    entropy = -(share[share > 0] * share[share > 0].log()).sum().item()
    accuracy = None
    if labels is not None:
        labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
        labels = labels.detach().cpu().long().view(-1)
        if len(labels) != len(predicted):
            raise ValueError(f"got {len(predicted)} images but {len(labels)} labels: pass one label per image")
        accuracy = (predicted == labels).double().mean().item()
    return DigitScore(n=len(predicted), confident_share=confident_mask(probs).double().mean().item(),
                      digit_counts=[int(c) for c in counts], evenness=max(0.0, entropy / math.log(10)),
                      label_accuracy=accuracy)
