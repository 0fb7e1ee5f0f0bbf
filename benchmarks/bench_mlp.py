"""Images per second for one epoch of the MLP GAN, trained two ways in one run.

1. "plain": the loop as tutorials write it (the seed documents' model, fixed for
   today's PyTorch): a torchvision-style MNIST Dataset (PIL image per item,
   ToTensor + Normalize), a DataLoader with batch_size=64, sigmoid + BCELoss, a
   discriminator step that backpropagates through G, and a second G(z) for the
   generator step.
2. "ganlib": ``ganlib.train_gan`` on the same architecture and batch size, with
   the data held as one tensor on the device.

Rounds alternate between the two (so a busy machine slows both alike) and the
median of each is reported.

    GANLIB_DATA=/path/to/data python benchmarks/bench_mlp.py [--rounds 3] [--limit N]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import ganlib
from ganlib.models import MLPDiscriminator, MLPGenerator


class PILMNIST(Dataset):
    """What torchvision.datasets.MNIST does per item: uint8 -> PIL -> transform."""

    def __init__(self, images_uint8: torch.Tensor, labels: torch.Tensor, transform):
        self.images, self.labels, self.transform = images_uint8, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i].numpy(), mode="L")
        return self.transform(img), int(self.labels[i])


def plain_epoch(images_uint8, labels, device) -> float:
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    loader = DataLoader(PILMNIST(images_uint8, labels, transform), batch_size=64, shuffle=True)
    G = nn.Sequential(MLPGenerator(), nn.Flatten()).to(device)
    D = nn.Sequential(MLPDiscriminator(), nn.Unflatten(0, (-1, 1)), nn.Sigmoid()).to(device)
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    seen, start = 0, time.perf_counter()
    for i, (images, _) in enumerate(loader):
        real = images.view(images.size(0), -1).to(device)
        ones = torch.ones(images.size(0), 1, device=device)
        zeros = torch.zeros(images.size(0), 1, device=device)
        # discriminator
        d_loss = criterion(D(real), ones)
        fake = G(torch.randn(images.size(0), 100, device=device))
        d_loss = d_loss + criterion(D(fake), zeros)
        D.zero_grad(), G.zero_grad()
        d_loss.backward()
        opt_d.step()
        # generator, on fresh noise
        fake = G(torch.randn(images.size(0), 100, device=device))
        g_loss = criterion(D(fake), ones)
        D.zero_grad(), G.zero_grad()
        g_loss.backward()
        opt_g.step()
        if (i + 1) % 100 == 0:
            _ = (d_loss.item(), g_loss.item())  # the tutorial's progress print
        seen += images.size(0)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def ganlib_epoch(data: ganlib.ImageData, device) -> float:
    batches = data.batches(64, with_labels=False, drop_last=False)
    G, D = MLPGenerator().to(device), MLPDiscriminator().to(device)
    start = time.perf_counter()
    ganlib.train_gan(G, D, batches, epochs=1, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(data) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images")
    args = parser.parse_args()
    device = ganlib.device()
    data = ganlib.load_mnist("train", limit=args.limit, allow_test_split=True)
    uint8 = ((data.images + 1) * 127.5).round().to(torch.uint8).squeeze(1)
    on_device = data.to(device)
    torch.manual_seed(0)
    plain, fast = [], []
    for r in range(args.rounds):
        plain.append(plain_epoch(uint8, data.labels, device))
        fast.append(ganlib_epoch(on_device, device))
        print(f"round {r + 1}: plain {plain[-1]:,.0f} img/s, ganlib {fast[-1]:,.0f} img/s")
    p, g = statistics.median(plain), statistics.median(fast)
    print(f"\nMLP GAN, one epoch of {len(data):,} MNIST images ({data.split} split), batch 64, "
          f"{device.type} ({torch.get_num_threads()} threads), median of {args.rounds} rounds\n")
    print("| loop | images/s | ratio |\n|---|---:|---:|")
    print(f"| plain DataLoader loop | {p:,.0f} | 1.00x |")
    print(f"| ganlib.train_gan | {g:,.0f} | {g / p:.2f}x |")


if __name__ == "__main__":
    main()
