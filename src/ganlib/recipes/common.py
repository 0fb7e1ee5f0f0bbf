"""What every recipe records the same way: the hardware and the data it trained on."""
from __future__ import annotations

import platform

import torch

from ..data import ImageData, load_mnist

TEST_SPLIT_NOTE = ("offline: only MNIST's 10,000-image test split was available, "
                   "so the generator was trained on the test split")


def hardware() -> str:
    """The GPU's name, else the CPU model and thread count (for model cards)."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    n = torch.get_num_threads()
                    return f"CPU: {line.split(':', 1)[1].strip()} ({n} thread{'' if n == 1 else 's'})"
    except OSError:
        pass
    return f"CPU: {platform.processor() or platform.machine()}"


def training_data(device) -> tuple[ImageData, str]:
    """MNIST's training split, or offline its test split; with a note for the card."""
    data = load_mnist("train", allow_test_split=True, device=device)
    note = "MNIST training split (60,000 images)" if data.split == "train" else TEST_SPLIT_NOTE
    return data, note
