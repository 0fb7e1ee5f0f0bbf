"""CUDA-only code paths, checked on the CPU with fakes: restoring random states saved on a
machine with more GPUs, scoring that must not reseed the training's CUDA generators, and
device mismatches in public helpers."""
import pytest
import torch

from ganlib.data import TensorBatches
from ganlib.metrics import backends
from ganlib.metrics.inception_score import inception_score_from_probs
from ganlib.train import checkpoint


def test_resuming_on_a_machine_with_fewer_gpus_restores_what_it_has(monkeypatch):
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, index: restored.append((index, state)))
    state = checkpoint.rng_state() | {"cuda": [torch.tensor([1], dtype=torch.uint8),
                                            torch.tensor([2], dtype=torch.uint8)]}  # saved on 2 GPUs
    checkpoint.set_rng_state(state)
    assert [(i, s.tolist()) for i, s in restored] == [(0, [1])]


class FakeMetric:
    """Draws from the global CPU generator, as torchmetrics' KID subsets and IS shuffle do."""

    def compute(self):
        return torch.rand(()), torch.rand(())


@pytest.mark.parametrize("score", ["kid", "is"])
def test_torchmetrics_scores_seed_only_the_cpu_generator_they_fork(score, monkeypatch):
    seeded_cuda = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: seeded_cuda.append(seed))
    monkeypatch.setattr(backends, "_metric", lambda *args, **kwargs: FakeMetric())
    monkeypatch.setattr(backends, "_update", lambda *args, **kwargs: None)
    images = torch.zeros(4, 1, 28, 28)

    def compute(seed):
        if score == "kid":
            return backends.torchmetrics_kid(images, images, subsets=2, subset_size=2, seed=seed, device="cpu")
        return backends.torchmetrics_inception_score(images, splits=2, seed=seed, device="cpu")

    torch.manual_seed(123)
    seeded_cuda.clear()  # the line above seeded CUDA on purpose
    before = torch.get_rng_state()
    first, again, other = compute(0), compute(0), compute(1)
    assert first == again and first != other  # the seed decides the subsets
    assert torch.equal(torch.get_rng_state(), before)  # the caller's CPU generator is untouched
    assert seeded_cuda == []  # and no CUDA generator was reseeded


def test_tensor_batches_refuse_tensors_on_different_devices():
    images = torch.zeros(8, 1, 28, 28)
    labels = torch.zeros(8, dtype=torch.long, device="meta")
    with pytest.raises(ValueError, match="different devices.*to\\(dev\\)"):
        TensorBatches(images, labels, batch_size=4)


def test_inception_score_from_probs_makes_no_tensor_on_a_default_device(monkeypatch):
    """Every tensor it uses is derived from ``probs`` (a tensor made with torch.ones or the like
    would sit on the CPU while the probabilities are on a GPU)."""
    def refuse(*args, **kwargs):
        raise AssertionError("made a new tensor without the probabilities' device")

    for name in ("ones", "zeros", "tensor", "full"):
        monkeypatch.setattr(torch, name, refuse)
    probs = torch.softmax(torch.randn(8, 4, generator=torch.Generator().manual_seed(0)), dim=1)
    assert 1 <= inception_score_from_probs(probs, splits=2).mean <= 4
    with pytest.raises(ValueError, match="probability vector"):
        inception_score_from_probs(probs * 2, splits=2)
