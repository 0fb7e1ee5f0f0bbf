"""Training one GAN on several processes with DistributedDataParallel, through the
unchanged :func:`ganlib.train_gan`.

Launch a script with ``torchrun --nproc_per_node=N script.py`` (one machine) or
``torchrun --nnodes=M --nproc_per_node=N --rdzv_backend=c10d --rdzv_endpoint=HOST:PORT script.py``
on every machine; the script reads::

    from ganlib import distributed as dist, train_gan
    from ganlib.latent import latent_sampler

    rank, world, device = dist.init(seed=0)        # gloo on CPUs, nccl on GPUs; the same seed everywhere
    G, D = dist.wrap(G, D, device)                  # SyncBatchNorm + DDP; attributes (G.latent_dim) still work
    data = dist.ShardedBatches(images.to(device), batch_size=64)  # 64 per rank, 64 x world per step
    history = train_gan(G, D, data, epochs=5,
                        latents=dist.ShardedLatents(latent_sampler(G)),
                        penalty=dist.gp_penalty(10.0),          # WGAN-GP only
                        callbacks=dist.callbacks(checkpoint="run.pt"),
                        progress=dist.is_main())
    dist.cleanup()

or, with the same arguments as ``ganlib.train_gan``, ``dist.train_gan(G, D, data, ...)``, which
fills in the sharded latents, the callbacks, the checkpoint and the progress bar.

How it stays one GAN (the traps, and what handles each):

* Every rank keeps the same random generator state: the ranks are seeded alike, so each
  draws the same permutation of the data and the same noise for the whole global batch, and
  keeps its own slice (:class:`ShardedBatches`, :class:`ShardedLatents`, :func:`gp_penalty`).
  The union over the ranks is what one process with the global batch draws; with losses that
  are batch means, DDP's averaged gradients are that process's gradients, so N processes with
  batch B train as one process with batch N x B (the tests check it to float rounding).
  :class:`DistributedRun` refuses to start when the ranks' generators differ.
* G's step runs D with its weights frozen (``steps.frozen``). A DDP forward there readies
  DDP's reducer for D gradients that never come (torch 2.14 lets it pass, static graph and
  find_unused_parameters included, but DDP does not document it as supported);
  :class:`DistributedNetwork` calls the network itself whenever no gradient can reach its
  weights (frozen, or under ``no_grad``), so DDP only ever sees forwards it will reduce.
* Batch norm sees the global batch: :func:`wrap` converts it to ``torch.nn.SyncBatchNorm`` on
  GPUs and to :class:`GlooSyncBatchNorm` elsewhere (torch's works only on GPUs).
* Logging, progress bars, snapshots and checkpoints are rank 0's (:func:`callbacks`);
  :class:`DistributedCheckpoint` saves on rank 0, then waits for every rank, and every rank
  resumes from the one file (which must be on a file system every node sees). The recorded
  losses are averaged over the ranks every epoch, so the history is the global batch's.
  An :class:`~ganlib.EMA` runs on every rank (identical weights); rank 0's is saved.

On one process (no ``torchrun``, or ``--nproc_per_node=1``) every function here hands back
what it was given, or the plain piece: single-device training pays nothing.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import io
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from . import losses
from .data import TensorBatches
from .latent import Latents, latent_sampler
from .train.callbacks import Callback, PrintLog, Snapshots, StepTimes
from .train.checkpoint import Checkpoint, run_fingerprint, write_checkpoint

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
MAIN_ONLY = (Snapshots, PrintLog, StepTimes)  # callbacks that only show or write what happened


# --- the process group ------------------------------------------------------------------

def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if _initialized() else 0


def world_size() -> int:
    """The number of processes training together (1 without a process group)."""
    return dist.get_world_size() if _initialized() else 1


def local_rank() -> int:
    """This process's rank on its machine (torchrun's ``LOCAL_RANK``; 0 without a process group)."""
    return int(os.environ.get("LOCAL_RANK", 0)) if _initialized() else 0


def is_main() -> bool:
    """True on rank 0, the process that logs, shows and saves (and on a lone process)."""
    return rank() == 0


def _device() -> torch.device:
    if _initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", local_rank())
    if not _initialized() and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def barrier() -> None:
    """Wait until every rank gets here (nothing on a lone process)."""
    if world_size() > 1:
        if dist.get_backend() == "nccl":
            dist.barrier(device_ids=[local_rank()])
        else:
            dist.barrier()


def cleanup() -> None:
    """Leave the process group (call it at the end of the script; nothing on a lone process)."""
    if _initialized():
        dist.destroy_process_group()


def init(backend: str | None = None, *, seed: int | None = None, required: bool = True):
    """Join the process group torchrun describes; returns ``(rank, world_size, device)``.

    Reads torchrun's ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (and ``MASTER_ADDR`` /
    ``MASTER_PORT``); the backend is nccl where CUDA is available (one GPU per process:
    ``cuda:LOCAL_RANK``) and gloo on CPUs. ``seed`` seeds every rank alike
    (:func:`ganlib.seed_everything`), which the sharded data and noise rely on: seed before
    building the networks. Outside torchrun it raises, unless ``required=False``: then it
    returns ``(0, 1, device)`` and the script trains on one process as usual.
    """
    from .utils import seed_everything

    if seed is not None:
        seed_everything(seed)
    missing = [name for name in ENV_VARS if name not in os.environ]
    if missing:
        if not required:
            return 0, 1, _device()
        raise RuntimeError(
            f"ganlib.distributed.init() found no {', '.join(missing)} in the environment: start the script "
            "with torchrun, e.g. `torchrun --nproc_per_node=2 train.py` on one machine, or on each of "
            "two machines `torchrun --nnodes=2 --nproc_per_node=1 --rdzv_backend=c10d "
            "--rdzv_endpoint=HOST:29500 train.py`. To run the same script on one process without "
            "torchrun, call init(required=False).")
    if not dist.is_available():
        raise RuntimeError("this PyTorch build has no torch.distributed")
    rank_, world, local = (int(os.environ[name]) for name in ENV_VARS)
    if not _initialized():
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        if backend == "nccl":
            if local >= torch.cuda.device_count():
                raise RuntimeError(f"LOCAL_RANK={local} but this machine has {torch.cuda.device_count()} GPU(s): "
                                   "start at most one process per GPU (--nproc_per_node)")
            torch.cuda.set_device(local)
        dist.init_process_group(backend, rank=rank_, world_size=world)
    return rank_, world, _device()


# --- the networks -------------------------------------------------------------------------

class GlooSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm whose training statistics are the global batch's, on any device.

    ``torch.nn.SyncBatchNorm`` runs only on GPUs; this one sums over the ranks with
    ``torch.distributed.nn.functional.all_reduce``, which differentiates (its backward sums the
    gradients over the ranks too), so it trains with the gloo backend on CPUs. Two small
    all-reduces per layer and forward (the sums, then the squared deviations). In eval mode, or
    on a lone process, it is plain batch norm.
    """

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input (N, C, ...), got {input.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        self._check_input_dim(x)
        channels = x.shape[1]
        dims = [0, *range(2, x.dim())]
        shape = [1, channels] + [1] * (x.dim() - 2)
        x32 = x.float()
        total = all_reduce(torch.cat([x32.sum(dims), x32.new_tensor([x.numel() // channels])]))
        count = total[-1]
        mean = total[:-1] / count
        centred = x32 - mean.view(shape)
        var = all_reduce(centred.pow(2).sum(dims)) / count
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                n = float(count)
                self.running_mean.lerp_(mean, factor)
                self.running_var.lerp_(var * (n / max(n - 1.0, 1.0)), factor)
        return out.to(x.dtype)

    @classmethod
    def convert(cls, module: nn.Module) -> nn.Module:
        """``module`` with every batch-norm layer replaced by one of these, keeping the same
        parameter and buffer tensors (an optimizer built before still steps them)."""
        out = module
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, (cls, nn.SyncBatchNorm)):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean, out.running_var = module.running_mean, module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.train(module.training)
        for name, child in module.named_children():
            out.add_module(name, cls.convert(child))
        return out


def sync_batchnorm(module: nn.Module, device=None) -> nn.Module:
    """Every batch-norm layer of ``module`` made to use the global batch's statistics:
    ``torch.nn.SyncBatchNorm`` on a GPU, :class:`GlooSyncBatchNorm` elsewhere."""
    device = torch.device(device) if device is not None else next(module.parameters()).device
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return GlooSyncBatchNorm.convert(module)


def _has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class DistributedNetwork(DistributedDataParallel):
    """DistributedDataParallel for a GAN's networks.

    * When no gradient can reach the weights (G's step freezes D; ``no_grad`` for G's fakes
      on D-only steps, snapshots, checks), it calls the network directly: a DDP forward would
      ready the reducer for gradients that never come, and do DDP's per-forward bookkeeping
      for nothing.
    * Attributes the wrapper lacks come from the network (``G.latent_dim``, ``G.conditional``,
      ``G.latent_codes``, ``D.features``): the loop's checks and samplers read them.
    * ``state_dict`` / ``load_state_dict`` are the network's (no ``module.`` prefix), so a
      checkpoint of a distributed run loads into the plain network, and back.
    * ``copy.deepcopy`` gives a copy of the network itself (what :class:`~ganlib.EMA` keeps).
    """

    def forward(self, *inputs, **kwargs):
        if not torch.is_grad_enabled() or not any(p.requires_grad for p in self.module.parameters()):
            return self.module(*inputs, **kwargs)
        return super().forward(*inputs, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            module = self.__dict__.get("_modules", {}).get("module")
            if module is None:
                raise
            return getattr(module, name)

    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        return self.module.load_state_dict(state_dict, *args, **kwargs)

    def __deepcopy__(self, memo):
        return copy.deepcopy(self.module, memo)


def _wrap_one(net: nn.Module, device: torch.device, sync_bn: bool, find_unused_parameters: bool):
    if isinstance(net, DistributedDataParallel):
        raise TypeError(f"{type(net.module).__name__} is wrapped already: pass the plain network to wrap()")
    if not any(p.requires_grad for p in net.parameters()):
        raise ValueError(f"{type(net).__name__} has no trainable parameter: DDP has nothing to synchronise")
    if sync_bn and _has_batchnorm(net):
        net = sync_batchnorm(net, device)
    # Rank 0's parameters and buffers go to every rank once; buffers are not broadcast again
    # before every forward (synchronised batch norm keeps its statistics equal on every rank).
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters:
        no_buffer_sync = {"forward_sync_buffers": False}  # torch >= 2.12: still syncs them at the start
    else:
        no_buffer_sync = {"broadcast_buffers": False}
        with torch.no_grad():
            for buffer in net.buffers():
                dist.broadcast(buffer, src=0)
    return DistributedNetwork(net, device_ids=[device.index] if device.type == "cuda" else None,
                              find_unused_parameters=find_unused_parameters, **no_buffer_sync)


def wrap(generator: nn.Module, discriminator: nn.Module, device=None, *, sync_bn: bool = True,
         find_unused_parameters: bool = False):
    """``(G, D)`` moved to ``device`` and, with more than one rank, each wrapped in a
    :class:`DistributedNetwork` (batch norm made synchronous first, unless ``sync_bn=False``).

    Rank 0's weights (and buffers) go to every rank. Wrap before building the optimizers (the
    parameters stay the same tensors either way). ``find_unused_parameters=True`` is for a
    network part of whose weights some steps leave unused (DDP would wait for their gradients).
    On a lone process the networks come back unwrapped.
    """
    device = torch.device(device) if device is not None else _device()
    generator, discriminator = generator.to(device), discriminator.to(device)
    if world_size() == 1:
        return generator, discriminator
    return (_wrap_one(generator, device, sync_bn, find_unused_parameters),
            _wrap_one(discriminator, device, sync_bn, find_unused_parameters))


def unwrap(network: nn.Module) -> nn.Module:
    """The plain network inside a wrapped one (the network itself otherwise)."""
    return network.module if isinstance(network, DistributedDataParallel) else network


# --- data, noise, penalty ------------------------------------------------------------------

def _rank_world(rank_, world):
    rank_ = rank() if rank_ is None else rank_
    world = world_size() if world is None else world
    if not 0 <= rank_ < world:
        raise ValueError(f"rank must lie in 0..{world - 1}, got {rank_}")
    return rank_, world


class ShardedBatches(TensorBatches):
    """This rank's part of each global batch, cut from tensors every rank holds whole.

    Every epoch draws one permutation of all the items (the same on every rank: the ranks are
    seeded alike), cuts it into global batches of ``world x batch_size`` items, and gives rank
    r the r-th slice of ``batch_size`` items of each, as ``DistributedSampler`` reshuffled every
    epoch would. The union over the ranks is exactly ``TensorBatches(..., batch_size=world x
    batch_size)``'s batch. ``batch_size`` is per rank (as a DataLoader's is under DDP);
    ``len()`` is the number of global batches, the same on every rank; an incomplete last
    global batch is dropped.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
                 rank: int | None = None, world_size: int | None = None):
        super().__init__(*tensors, batch_size=batch_size, shuffle=shuffle, drop_last=True)
        self.rank, self.world_size = _rank_world(rank, world_size)
        n = len(tensors[0])
        if self.world_size * batch_size > n:
            raise ValueError(f"{self.world_size} ranks x batch_size {batch_size} = {self.world_size * batch_size} "
                             f"items per step, more than the data's {n}: use a smaller batch or more data")

    @classmethod
    def of(cls, batches: TensorBatches, **kwargs) -> "ShardedBatches":
        """The sharded version of ``TensorBatches`` / ``ImageData.batches(b)``: ``b`` items per rank."""
        return cls(*batches.tensors, batch_size=batches.batch_size, shuffle=batches.shuffle, **kwargs)

    def __len__(self) -> int:
        return len(self.tensors[0]) // (self.world_size * self.batch_size)

    def __iter__(self):
        n, dev = len(self.tensors[0]), self.tensors[0].device
        order = torch.randperm(n, device=dev) if self.shuffle else torch.arange(n, device=dev)
        step, first = self.world_size * self.batch_size, self.rank * self.batch_size
        for i in range(len(self)):
            idx = order[i * step + first: i * step + first + self.batch_size]
            batch = tuple(t[idx] for t in self.tensors)
            yield batch if len(batch) > 1 else batch[0]

    def __repr__(self) -> str:
        return (f"ShardedBatches({len(self.tensors[0])} items, {self.batch_size} per rank x {self.world_size} "
                f"ranks, rank {self.rank})")


class ShardedLatents:
    """A latent sampler's draw for the global batch, of which this rank keeps its slice.

    Each step every rank draws the inputs of ``world x n`` fakes (the same on every rank) and
    keeps rows ``rank x n`` to ``(rank + 1) x n`` of every tensor in ``g_inputs``,
    ``d_inputs`` and ``codes``: the union over the ranks is what one process with the global
    batch draws, and no two ranks share noise.

    Labels (a conditional GAN's classes, pix2pix's condition images): the rank has only its
    own batch's, so the sampler gets them tiled ``world`` times; its slice is then exactly
    this rank's labels. This is right for every ganlib sampler (each row's inputs depend on
    that row's label alone, and the random draws on no label's value); a sampler whose draws
    depend on the labels' values needs its own sharding.
    """

    def __init__(self, sampler, rank: int | None = None, world_size: int | None = None):
        if isinstance(sampler, ShardedLatents):
            raise TypeError("the sampler is sharded already")
        self.sampler = sampler
        self.rank, self.world_size = _rank_world(rank, world_size)

    def __call__(self, n: int, labels, device) -> Latents:
        world = self.world_size
        if world == 1:
            return self.sampler(n, labels, device)
        total, lo = world * n, self.rank * n
        if labels is not None:
            labels = torch.cat([labels] * world)
        latents = self.sampler(total, labels, device)

        def cut(x):
            return x[lo:lo + n] if isinstance(x, torch.Tensor) and x.dim() and len(x) == total else x

        return Latents(tuple(cut(x) for x in latents.g_inputs), tuple(cut(x) for x in latents.d_inputs),
                       {key: cut(value) for key, value in latents.codes.items()})

    def fixed(self, n: int, seed: int = 0, device=None) -> Latents:
        """The sampler's fixed inputs, whole (snapshots are rank 0's)."""
        return self.sampler.fixed(n, seed=seed, device=device)

    def __getattr__(self, name: str):
        sampler = self.__dict__.get("sampler")
        if sampler is None:
            raise AttributeError(name)
        return getattr(sampler, name)

    def __repr__(self) -> str:  # a checkpoint's fingerprint: resuming on another number of ranks is refused
        return f"ShardedLatents({self.sampler!r}, ranks={self.world_size})"


def gp_penalty(weight: float = 10.0, *, rank: int | None = None, world_size: int | None = None):
    """WGAN-GP's penalty (:func:`ganlib.losses.gp_penalty`) for sharded batches.

    ``losses.gradient_penalty`` draws one interpolation weight per sample from the global
    generator, which is the same on every rank: every rank would use the first ``n`` weights.
    This one draws ``world x n`` weights (identical everywhere) and uses this rank's slice, so
    the union over the ranks is the global batch's draw. Make it after :func:`init` (``rank``
    and ``world_size`` default to this process's). On a lone process it is
    ``losses.gp_penalty(weight)`` itself.
    """
    rank, world = _rank_world(rank, world_size)
    if world == 1:
        return losses.gp_penalty(weight)
    if weight < 0:
        raise ValueError(f"the penalty weight must be >= 0, got {weight}")

    def penalty(critic_fn, real, fake):
        n = len(real)
        shape = (world * n,) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, dtype=real.dtype, device=real.device)[rank * n:(rank + 1) * n]
        return losses.gradient_penalty(critic_fn, real, fake, weight, eps=eps)

    penalty.__qualname__ = penalty.__name__ = f"sharded_gp_penalty(weight={weight:g})"
    return penalty


# --- callbacks --------------------------------------------------------------------------------

def _same_on_every_rank(tensor: torch.Tensor, device) -> bool:
    values = tensor.to(device=device, dtype=torch.int64)
    low, high = values.clone(), values.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    return bool(torch.equal(low, high))


class DistributedRun(Callback):
    """What keeps the ranks one run (added by :func:`callbacks`; nothing on a lone process).

    * At the start, refuses the setups that train silently wrong: unwrapped networks, unsharded
      ``TensorBatches`` or latents (every rank would train on the same data or noise), the
      unsharded gradient penalty, a plain ``Checkpoint`` (every rank would write it), and
      random generators that differ between ranks.
    * Every epoch, averages the losses and scores recorded since the last epoch over the ranks
      (the global batch's numbers, the same on every rank), and stops every rank when one
      rank's callback stopped (a time budget, early stopping): a rank left training alone would
      wait forever for the others.
    """

    order = 99  # after the callbacks that stop a run, before a Checkpoint saves it

    def __init__(self):
        self.averaged = 0  # history rows averaged so far

    def on_train_begin(self, run):
        if world_size() == 1:
            return
        for role, net in (("generator", run.generator), ("discriminator", run.discriminator)):
            if not isinstance(net, DistributedDataParallel):
                raise TypeError(f"the {role} is not wrapped for distributed training: "
                                "G, D = ganlib.distributed.wrap(G, D, device)")
        if isinstance(run.data, TensorBatches) and not isinstance(run.data, ShardedBatches):
            raise TypeError("the data are TensorBatches: every rank would train on the same batches. Use "
                            "ganlib.distributed.ShardedBatches(images, batch_size=per_rank) or "
                            "ShardedBatches.of(batches)")
        if not isinstance(run.sampler, ShardedLatents):
            raise TypeError("the latents are not sharded: every rank would draw the same noise. Pass "
                            "latents=ganlib.distributed.ShardedLatents(ganlib.latent.latent_sampler(G))")
        if run.penalty is not None and getattr(run.penalty, "__qualname__", "").startswith("gp_penalty("):
            raise TypeError("losses.gp_penalty draws the same interpolation weights on every rank: use "
                            "ganlib.distributed.gp_penalty(weight)")
        if any(type(cb) is Checkpoint for cb in run.callbacks):
            raise TypeError("a plain Checkpoint (train_gan's checkpoint=) would be written by every rank: pass "
                            "callbacks=ganlib.distributed.callbacks(checkpoint=path), or call "
                            "ganlib.distributed.train_gan(..., checkpoint=path)")
        same = _same_on_every_rank(torch.get_rng_state(), run.device)
        if run.device.type == "cuda":
            same = _same_on_every_rank(torch.cuda.get_rng_state(run.device), run.device) and same
        if not same:
            raise RuntimeError("the ranks' random generators differ: seed every rank alike before building the "
                               "networks and the data (ganlib.distributed.init(seed=0)); each rank draws the "
                               "global batch's permutation and noise and keeps its own slice")

    def on_epoch_end(self, run):
        if world_size() == 1:
            return
        records, keys = run.history.records, ("loss_D", "loss_G", "D(x)", "D(G(z))")
        new = len(records["step"]) - self.averaged
        if new > 0:
            rows = torch.tensor([records[k][self.averaged:] for k in keys], dtype=torch.float64, device=run.device)
            dist.all_reduce(rows)
            rows = (rows / world_size()).tolist()
            for key, values in zip(keys, rows):
                records[key][self.averaged:] = values
            self.averaged = len(records["step"])
        reasons = [None] * world_size()
        dist.all_gather_object(reasons, run.stop)
        stopped = [why for why in reasons if why]
        if stopped and not run.stop:
            run.stop = stopped[0]

    def state_dict(self):
        return {"averaged": self.averaged}

    def load_state_dict(self, state):
        self.averaged = int(state["averaged"])


class _NoSnapshots(Snapshots):
    """Rank > 0's snapshots: none (the loop adds a Snapshots unless it is given one)."""

    def on_train_begin(self, run): ...

    def on_epoch_end(self, run): ...


class DistributedCheckpoint(Checkpoint):
    """A :class:`~ganlib.Checkpoint` for distributed runs: rank 0 writes it (and holds its lock),
    then every rank waits for the write; every rank resumes from the one file.

    The file must be on a file system every node sees (the start fails clearly otherwise). On
    GPUs the saved CUDA generator states are rank 0's device's for every index, so each rank's
    own device resumes the same noise.
    """

    def on_train_begin(self, run):
        barrier()
        if world_size() > 1 and self.resume:
            seen = [None] * world_size()
            dist.all_gather_object(seen, self.path.exists())
            if seen[0] and not all(seen):
                raise RuntimeError(f"rank {seen.index(False)} does not see the checkpoint {self.path} that rank 0 "
                                   "resumes: put it on a file system every machine shares")
        quiet = contextlib.nullcontext() if is_main() else contextlib.redirect_stdout(io.StringIO())
        with quiet:
            super().on_train_begin(run)

    def _claim(self):
        if is_main():
            super()._claim()

    def on_epoch_end(self, run):
        if is_main():
            super().on_epoch_end(run)
        barrier()

    def on_train_end(self, run):
        if is_main():
            super().on_train_end(run)

    def _save(self, run):
        if run.device.type != "cuda":
            return super()._save(run)
        state = run.state_dict()
        if "cuda" in state.get("rng", {}):
            own = torch.cuda.get_rng_state(run.device)
            state["rng"]["cuda"] = [own for _ in state["rng"]["cuda"]]
        write_checkpoint({**state, "fingerprint": run_fingerprint(run)}, self.path)


def callbacks(*given: Callback, checkpoint=None, resume: bool = True) -> list:
    """The callbacks of a distributed run: ``given``, with what only shows or writes results
    (:class:`Snapshots`, :class:`PrintLog`, :class:`StepTimes`) on rank 0 only, a
    :class:`DistributedRun`, and a :class:`DistributedCheckpoint` for ``checkpoint`` (a given
    ``Checkpoint`` is converted). On a lone process: ``given`` plus ``Checkpoint(checkpoint)``.
    """
    if world_size() == 1:
        return list(given) + ([Checkpoint(checkpoint, resume=resume)] if checkpoint is not None else [])
    out = []
    for cb in given:
        if isinstance(cb, Checkpoint) and not isinstance(cb, DistributedCheckpoint):
            out.append(DistributedCheckpoint(cb.path, resume=cb.resume))
        elif not isinstance(cb, MAIN_ONLY) or is_main():
            out.append(cb)
    if not any(isinstance(cb, Snapshots) for cb in out):
        out.append(Snapshots() if is_main() else _NoSnapshots())
    out.append(DistributedRun())
    if checkpoint is not None:
        out.append(DistributedCheckpoint(checkpoint, resume=resume))
    return out


def train_gan(generator, discriminator, data, **kwargs):
    """:func:`ganlib.train_gan` with the distributed pieces filled in: ``data`` sharded
    (``TensorBatches`` -> :meth:`ShardedBatches.of`, ``batch_size`` per rank), ``latents``
    sharded (default: the generator's own sampler), the callbacks through :func:`callbacks`
    (``checkpoint=`` becomes a :class:`DistributedCheckpoint`), and no progress bar but rank
    0's. Wrap the networks first (:func:`wrap`) and pass :func:`gp_penalty` for WGAN-GP.
    On a lone process it is ``ganlib.train_gan`` itself.
    """
    from .train import loop

    if world_size() == 1:
        return loop.train_gan(generator, discriminator, data, **kwargs)
    if isinstance(data, TensorBatches) and not isinstance(data, ShardedBatches):
        data = ShardedBatches.of(data)
    latents = kwargs.get("latents")
    if not isinstance(latents, ShardedLatents):
        kwargs["latents"] = ShardedLatents(latents if latents is not None else latent_sampler(generator))
    kwargs["callbacks"] = callbacks(*kwargs.get("callbacks", ()), checkpoint=kwargs.pop("checkpoint", None))
    if not is_main() and "progress" in inspect.signature(loop.train_gan).parameters:
        kwargs["progress"] = False
    return loop.train_gan(generator, discriminator, data, **kwargs)


# --- python -m ganlib.distributed: a demonstration under torchrun -----------------------------

def main(argv=None) -> None:
    """``torchrun --nproc_per_node=2 -m ganlib.distributed [--epochs 1] [--limit 2048]``: the MLP
    GAN on MNIST (random images where MNIST is absent), each rank on its shard."""
    import argparse
    import time

    from .models import MLPDiscriminator, MLPGenerator

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=2048, help="images used")
    parser.add_argument("--batch-size", type=int, default=64, help="per rank")
    args = parser.parse_args(argv)

    rank_, world, device = init(seed=0, required=False)
    try:
        from .data import load_mnist

        images = load_mnist("train", limit=args.limit, verbose=is_main(), allow_test_split=True).images
    except (FileNotFoundError, ValueError):
        images = torch.rand(args.limit, 1, 28, 28) * 2 - 1
    G, D = wrap(MLPGenerator(latent_dim=64), MLPDiscriminator(), device)
    data = ShardedBatches(images.to(device), batch_size=args.batch_size)
    start = time.perf_counter()
    history = train_gan(G, D, data, epochs=args.epochs, progress=False, callbacks=[PrintLog()])
    seconds = time.perf_counter() - start
    if is_main():
        steps = len(history)
        print(f"{world} rank(s) on {device}: {steps} steps of {world} x {args.batch_size} images in {seconds:.1f} s "
              f"({steps * world * args.batch_size / seconds:.0f} images/s)")
    cleanup()


if __name__ == "__main__":
    main()
