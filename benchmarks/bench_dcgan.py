"""Images per second for the chapter-5 DCGAN, trained three ways in one run.

1. "ganlib.train_gan": the book's loop, data held as one tensor on the device.
2. "Keras GAN.fit": the Keras companion (``ganlib.keras.dcgan`` networks, the same
   layers and parameter counts) trained by ``ganlib.keras.GAN`` on a ``tf.data`` pipeline.
3. "plain DataLoader loop": a pytorch/examples-style loop fed as tutorials write it:
   a Dataset over a uint8 tensor that turns each image into a PIL image and applies
   ``ToTensor`` + ``Normalize((0.5,), (0.5,))``, batched by a ``DataLoader``.

All three use batch 64, the non-saturating loss on logits and Adam(2e-4, beta1=0.5),
and run the same fixed number of steps after a warm-up (which absorbs one-time
costs: imports, graph tracing, memory pools). Rounds alternate between the
methods so a busy machine slows all of them alike; the best round of each is reported.

    GANLIB_DATA=/path/to/data python benchmarks/bench_dcgan.py [--steps 60] [--rounds 1]
"""
from __future__ import annotations

import argparse
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import ganlib
from ganlib.losses import d_loss_minimax, g_loss_nonsaturating
from ganlib.models import DCGANDiscriminator, DCGANGenerator

BATCH = 64


class UInt8MNIST(Dataset):
    """A uint8 image tensor served one PIL image at a time, like torchvision.datasets.MNIST."""

    def __init__(self, images_uint8: torch.Tensor, transform):
        self.images, self.transform = images_uint8, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i].numpy(), mode="L"))


def time_ganlib(data, steps, width, device):
    G, D = DCGANGenerator(width=width).to(device), DCGANDiscriminator(width=width).to(device)
    warm = ganlib.TensorBatches(data.images[:5 * BATCH], batch_size=BATCH)
    ganlib.train_gan(G, D, warm, epochs=1, progress=False)
    batches = ganlib.TensorBatches(data.images[:steps * BATCH], batch_size=BATCH)
    _sync(device)
    start = time.perf_counter()
    ganlib.train_gan(G, D, batches, epochs=1, progress=False)
    _sync(device)
    return time.perf_counter() - start


def time_plain(images_uint8, steps, width, device):
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    G, D = DCGANGenerator(width=width).to(device), DCGANDiscriminator(width=width).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def run(n_steps):
        loader = DataLoader(UInt8MNIST(images_uint8[:n_steps * BATCH], transform),
                            batch_size=BATCH, shuffle=True, drop_last=True)
        for real in loader:
            real = real.to(device)
            fake = G(torch.randn(len(real), 100, device=device))
            loss_d = d_loss_minimax(D(real), D(fake.detach()))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = g_loss_nonsaturating(D(fake))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        loss_g.item()  # wait for the last step

    run(5)
    _sync(device)
    start = time.perf_counter()
    run(steps)
    _sync(device)
    return time.perf_counter() - start


def time_keras(data, steps, width, threads=0):
    import ganlib.keras as gk
    from ganlib.keras.dcgan import dcgan_discriminator, dcgan_generator

    keras, tf = gk.keras, gk.tf
    if threads:  # the same CPU threads as torch (possible only before TensorFlow runs an op)
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass
    gan = gk.GAN(dcgan_generator(width=width), dcgan_discriminator(width=width), latent_dim=100, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    subset = ganlib.ImageData(data.images[:steps * BATCH].cpu(), data.labels[:steps * BATCH].cpu(),
                              data.name, data.split)
    warm = ganlib.ImageData(subset.images[:5 * BATCH], subset.labels[:5 * BATCH], data.name, data.split)
    gan.fit(gk.mnist_dataset(warm, BATCH), epochs=1, verbose=0)
    dataset = gk.mnist_dataset(subset, BATCH)
    start = time.perf_counter()
    gan.fit(dataset, epochs=1, verbose=0)
    return time.perf_counter() - start


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps of batch 64 per method")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    parser.add_argument("--skip-keras", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = ganlib.device()
    data = ganlib.load_mnist("test", limit=args.steps * BATCH, verbose=False)
    if len(data) < args.steps * BATCH:
        raise SystemExit(f"only {len(data)} images: use --steps {len(data) // BATCH} or fewer")
    images_uint8 = ((data.images[:, 0] + 1) * 127.5).round().to(torch.uint8)
    on_device = data.to(dev)

    methods = {"ganlib.train_gan": lambda: time_ganlib(on_device, args.steps, args.width, dev),
               "plain DataLoader loop": lambda: time_plain(images_uint8, args.steps, args.width, dev)}
    if not args.skip_keras:
        methods["Keras GAN.fit"] = lambda: time_keras(data, args.steps, args.width, args.threads)
    seconds = {name: [] for name in methods}
    for r in range(args.rounds):
        for name, fn in methods.items():
            seconds[name].append(fn())
            print(f"round {r + 1}: {name}: {seconds[name][-1]:.2f} s", flush=True)

    images = args.steps * BATCH
    rate = {name: images / min(s) for name, s in seconds.items()}
    base = rate["ganlib.train_gan"]
    print(f"\nDCGAN (width {args.width}), {args.steps} steps of batch {BATCH} after a warm-up, "
          f"on {dev} ({torch.get_num_threads()} CPU thread(s) for torch"
          f"{'' if args.skip_keras or not args.threads else ' and TensorFlow'}), "
          f"best of {args.rounds} round(s):\n")
    print("| method | seconds | images/s | relative to ganlib.train_gan |")
    print("|---|---:|---:|---:|")
    for name in methods:
        print(f"| {name} | {min(seconds[name]):.2f} | {rate[name]:.0f} | {rate[name] / base:.2f}x |")


if __name__ == "__main__":
    main()
