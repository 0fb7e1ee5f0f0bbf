"""Images per second of ganlib.train_gan under DistributedDataParallel, at 1, 2, ... processes.

The MLP GAN and a small DCGAN (batch norm in both networks, synchronised across the ranks),
each process with the same batch (weak scaling: the global batch grows with the processes).
On a CPU the processes use the gloo backend, each with ``--threads`` threads (default 1: one
core per process, as one GPU per process; with 2 threads a lone process on a busy 2-core
machine ran 30x slower, its OpenMP threads waiting for each other); with CUDA devices
visible, one process per GPU with nccl, for 1..N GPUs. Each configuration is one ``torchrun --standalone`` launch;
rank 0 times the steps after a warm-up and reports global images per second.

    python benchmarks/ddp_scaling.py [--procs 1 2] [--steps 50] [--batch 64] [--models mlp dcgan]

(the script relaunches itself under torchrun with ``--worker``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WARMUP = 5  # steps not timed: the first ones build DDP's buckets and warm the caches


def networks(model: str, width: int):
    from ganlib.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

    if model == "mlp":
        return MLPGenerator(), MLPDiscriminator()
    return DCGANGenerator(width=width), DCGANDiscriminator(width=width)


def worker(args) -> None:
    """One rank: train each model for WARMUP + steps steps, rank 0 writes the rates."""
    import torch

    import ganlib
    from ganlib import distributed as dist
    from ganlib.latent import latent_sampler

    rank, world, device = dist.init(seed=0)

    class Clock(ganlib.Callback):
        def on_step_end(self, run):
            if run.step == WARMUP:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                self.start = time.perf_counter()

        def on_train_end(self, run):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            self.seconds = time.perf_counter() - self.start

    rows = []
    for model in args.models:
        G, D = dist.wrap(*networks(model, args.width), device)
        n = (WARMUP + args.steps) * world * args.batch
        images = (torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1).to(device)
        data = dist.ShardedBatches(images, batch_size=args.batch)
        clock = Clock()
        dist.train_gan(G, D, data, epochs=1, latents=dist.ShardedLatents(latent_sampler(G)), progress=False,
                       callbacks=[clock, ganlib.Snapshots(every=10**6, n=1)])
        rows.append({"model": model, "device": str(device.type), "procs": world,
                     "threads": torch.get_num_threads(), "batch": args.batch,
                     "images_per_s": args.steps * world * args.batch / clock.seconds})
    if dist.is_main():
        Path(args.out).write_text(json.dumps(rows))
    dist.cleanup()


def launch(procs: int, args, threads: int | None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rates.json"
        env = dict(os.environ)
        if threads is not None:
            env["OMP_NUM_THREADS"] = str(threads)
        src = str(Path(__file__).resolve().parents[1] / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
                   __file__, "--worker", "--out", str(out), "--steps", str(args.steps), "--batch", str(args.batch),
                   "--width", str(args.width), "--models", *args.models]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{procs} process(es) failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procs", type=int, nargs="+", default=None,
                        help="process counts (default: 1 2 on a CPU, 1..N with N CUDA devices)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per configuration")
    parser.add_argument("--batch", type=int, default=64, help="batch per process")
    parser.add_argument("--width", type=int, default=32, help="the DCGAN's width")
    parser.add_argument("--models", nargs="+", default=["mlp", "dcgan"], choices=["mlp", "dcgan"])
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per process (default 1)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    import torch

    gpus = torch.cuda.device_count()
    procs = args.procs or (list(range(1, gpus + 1)) if gpus else [1, 2])
    if gpus and max(procs) > gpus:
        raise SystemExit(f"{max(procs)} processes but {gpus} CUDA device(s): one process per GPU")
    cores = os.cpu_count() or 1
    rows = []
    for k in procs:
        threads = None if gpus else (args.threads or 1)
        rows += launch(k, args, threads)
    base = {row["model"]: row["images_per_s"] for row in rows if row["procs"] == procs[0]}
    print(f"ganlib.train_gan under DDP: {args.steps} timed steps, batch {args.batch} per process "
          f"({'nccl, one GPU each' if gpus else f'gloo on {cores} CPU cores'})")
    print(f"{'model':<7}{'device':<8}{'procs':>6}{'threads':>9}{'global batch':>14}{'images/s':>11}"
          f"{'vs ' + str(procs[0]) + ' proc':>12}")
    for row in sorted(rows, key=lambda r: (r["model"], r["procs"])):
        print(f"{row['model']:<7}{row['device']:<8}{row['procs']:>6}{row['threads']:>9}"
              f"{row['procs'] * row['batch']:>14}{row['images_per_s']:>11.0f}"
              f"{row['images_per_s'] / base[row['model']]:>11.2f}x")


if __name__ == "__main__":
    main()
