"""ganlib.distributed: train_gan under DistributedDataParallel (gloo, CPU).

The central check: 2 processes with batch B per rank end with the same G and D as one
process with batch 2B over the same data order and noise, for the MLP GAN, a DCGAN with
batch norm in both networks (synchronised), and WGAN-GP (n_critic 5, gradient penalty).
Then: a 2-rank run interrupted and resumed equals the uninterrupted one, and two torchrun
launchers joined by a c10d rendezvous (the two-machine setup, on one host) train together.

The ranks run this file as a script (``python tests/test_distributed.py worker OUT CASE...``)
under ``python -m torch.distributed.run``; one launch runs every case, so the processes start
once. The single-process references run in the pytest process.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import ganlib
from ganlib import distributed as dist
from ganlib import losses
from ganlib.latent import InfoGANCodes, LabelledNoise, NoiseSampler, latent_sampler
from ganlib.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from ganlib.models.critic import MLPCritic

HERE = Path(__file__).resolve()
PER_RANK = 8          # batch per rank; the single-process reference uses 2 x PER_RANK
N_IMAGES = 128        # 8 global batches of 16 per epoch
EQUIVALENCE = ("mlp", "dcgan", "wgan_gp", "mlp_dist_train_gan")
# How far the 2-rank networks may end from the 1-process ones after 24 steps. Float rounding
# (a sum over 2 x 8 images instead of 16) is all that differs: MLP and DCGAN end within 1e-7.
# WGAN-GP's critic has one hidden unit with an interpolate at its LeakyReLU kink, which rounding
# flips: in one process alone, scaling D's start by (1 + 1e-7) moves that unit by 3.5e-5 (the
# rest within 1e-7). Sharing the penalty's interpolation weights between the ranks (the bug
# gp_penalty prevents) moves G by 3.5e-4 and D by 6e-4; the recorded losses, checked to 1e-5,
# differ from the first step on.
TOLERANCE = {"mlp": 1e-5, "dcgan": 1e-5, "wgan_gp": 1e-4, "mlp_dist_train_gan": 1e-5}
LAUNCH_TIMEOUT = 150  # seconds; a hung rendezvous fails the test instead of the whole run

pytestmark = pytest.mark.skipif(not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
                                reason="needs torch.distributed with gloo")


# --- the runs, shared by the ranks and the references ------------------------------------------

def images() -> torch.Tensor:
    """A few hundred fixed images in [-1, 1] (what the loop's input checks accept)."""
    g = torch.Generator().manual_seed(1234)
    return torch.tanh(1.5 * torch.randn(N_IMAGES, 1, 28, 28, generator=g))


def networks(case: str, train_seed: int = 1):
    """Small networks made from seed 0 (the same weights on every rank), then the random
    generators seeded with ``train_seed`` for the data order and the noise."""
    ganlib.seed_everything(0)
    if case in ("dcgan", "resume"):
        G, D = DCGANGenerator(latent_dim=8, width=4), DCGANDiscriminator(width=4)
    else:
        G = MLPGenerator(latent_dim=8, hidden=(32,))
        D = MLPCritic(hidden=(32,)) if case == "wgan_gp" else MLPDiscriminator(hidden=(32,))
    ganlib.seed_everything(train_seed)
    return G, D


def train(case: str, G, D, data, *, epochs: int, latents=None, penalty=None, callbacks=(), checkpoint=None,
          via=None):
    """The one call of ganlib.train_gan (its keywords: epochs, loss, optimizers, n_critic,
    penalty, latents, callbacks, checkpoint, progress); ``via`` another function of its arguments
    (ganlib.distributed.train_gan)."""
    wgan = case == "wgan_gp"
    lr, betas = (1e-4, (0.5, 0.9)) if wgan else (2e-4, (0.5, 0.999))
    optimizers = (torch.optim.Adam(G.parameters(), lr=lr, betas=betas),
                  torch.optim.Adam(D.parameters(), lr=lr, betas=betas))
    loss = losses.WASSERSTEIN if wgan else losses.NON_SATURATING
    return (via or ganlib.train_gan)(G, D, data, epochs=epochs, loss=loss, optimizers=optimizers,
                                     n_critic=5 if wgan else 1, penalty=penalty, latents=latents,
                                     callbacks=list(callbacks), checkpoint=checkpoint, progress=False)


def single_process(case: str, epochs: int = 3):
    """The reference: one process, batch 2 x PER_RANK (on one thread, as each rank: two threads of
    one process on this busy 2-core machine ran ten times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        G, D = networks(case)
        data = ganlib.TensorBatches(images(), batch_size=2 * PER_RANK)
        penalty = losses.gp_penalty(10.0) if case == "wgan_gp" else None
        history = train(case, G, D, data, epochs=epochs, penalty=penalty)
    finally:
        torch.set_num_threads(threads)
    return {"G": G.state_dict(), "D": D.state_dict(), "history": history.records}


def on_ranks(case: str, device, *, epochs: int = 3, callbacks=(), checkpoint=None, seed: int = 1):
    """The same run on this rank: wrapped networks, this rank's shard, sharded noise and penalty
    (``seed``: a resumed run must take its random state from the checkpoint)."""
    G, D = networks(case, seed)
    G, D = dist.wrap(G, D, device)
    data = dist.ShardedBatches(images(), batch_size=PER_RANK)
    penalty = dist.gp_penalty(10.0) if case == "wgan_gp" else None
    history = train(case, G, D, data, epochs=epochs, latents=dist.ShardedLatents(latent_sampler(G)),
                    penalty=penalty, callbacks=dist.callbacks(*callbacks, checkpoint=checkpoint))
    return G, D, history


def dist_train_gan(device):
    """The MLP case through ganlib.distributed.train_gan: plain TensorBatches, no latents given."""
    G, D = networks("mlp")
    G, D = dist.wrap(G, D, device)
    history = train("mlp", G, D, ganlib.TensorBatches(images(), batch_size=PER_RANK), epochs=3, via=dist.train_gan)
    return G, D, history


def misuses(device, out: Path) -> dict:
    """What each unsafe setup raises (on every rank alike), by name."""
    G, D = networks("wgan_gp")
    G, D = dist.wrap(G, D, device)
    sharded, latents = dist.ShardedBatches(images(), batch_size=PER_RANK), dist.ShardedLatents(latent_sampler(G))
    tries = {"plain batches": dict(data=ganlib.TensorBatches(images(), batch_size=PER_RANK), latents=latents),
             "plain latents": dict(data=sharded, latents=latent_sampler(G)),
             "plain penalty": dict(data=sharded, latents=latents, penalty=losses.gp_penalty(10.0)),
             "plain checkpoint": dict(data=sharded, latents=latents, checkpoint=out / "misuse.pt"),
             "seeds differ": dict(data=sharded, latents=latents)}
    raised = {}
    for name, kwargs in tries.items():
        if name == "seeds differ":
            torch.manual_seed(dist.rank())
        try:
            train("wgan_gp", G, D, kwargs.pop("data"), epochs=1, callbacks=dist.callbacks(), **kwargs)
            raised[name] = None
        except (TypeError, RuntimeError) as err:
            raised[name] = f"{type(err).__name__}: {err}"
    return raised


def worker(out: Path, cases: list[str]) -> None:
    """What every rank runs under torchrun: the cases, each rank's results saved to ``out``."""
    torch.set_num_threads(1)
    rank, world, device = dist.init(seed=0)
    for case in cases:
        result = {"world": world, "seconds": time.perf_counter()}
        if case == "resume":  # 4 epochs at once, and 2 epochs + a fresh start that resumes the other 2
            ema = ganlib.EMA(0.9)
            G, D, history = on_ranks("resume", device, epochs=4, callbacks=[ema])
            result["uninterrupted"] = {"G": G.state_dict(), "D": D.state_dict(), "EMA": ema.generator.state_dict(),
                                       "history": history.records}
            path = out / "resume.pt"
            on_ranks("resume", device, epochs=2, callbacks=[ganlib.EMA(0.9)], checkpoint=path)
            ema = ganlib.EMA(0.9)
            G, D, history = on_ranks("resume", device, epochs=4, callbacks=[ema], checkpoint=path, seed=99)
            result["resumed"] = {"G": G.state_dict(), "D": D.state_dict(), "EMA": ema.generator.state_dict(),
                                 "history": history.records}
        elif case == "misuses":
            result["raised"] = misuses(device, out)
        else:
            G, D, history = dist_train_gan(device) if case == "mlp_dist_train_gan" else on_ranks(case, device)
            result["read through the wrapper"] = (G.latent_dim, getattr(G, "conditional", False))
            result.update(G=G.state_dict(), D=D.state_dict(), history=history.records,
                          wrapped=[type(G).__name__, type(D).__name__],
                          batchnorm=sorted({type(m).__name__ for m in dist.unwrap(D).modules() if "BatchNorm" in
                                            type(m).__name__}))
        result["seconds"] = time.perf_counter() - result["seconds"]
        torch.save(result, out / f"{case}-rank{rank}.pt")
    dist.cleanup()


# --- launching ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    src = str(HERE.parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _finish(procs, timeout: float) -> list[str]:
    """Wait for every launcher; on a timeout, end the launchers this test started (and their workers)."""
    deadline, outputs = time.monotonic() + timeout, []
    for proc in procs:
        try:
            outputs.append(proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
        except subprocess.TimeoutExpired:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, 9)
            raise AssertionError(f"the distributed run took over {timeout} s (a hung rendezvous?)") from None
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, f"a launcher failed (exit {proc.returncode}):\n{output[-6000:]}"
    return outputs


def torchrun(launcher_args: list[str], out: Path, cases: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "torch.distributed.run", *launcher_args, str(HERE), "worker", str(out), *cases]
    return subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def load(out: Path, case: str, rank: int) -> dict:
    return torch.load(out / f"{case}-rank{rank}.pt", weights_only=False)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """One launch of 2 ranks on this machine that runs every case."""
    out = tmp_path_factory.mktemp("ddp")
    start = time.perf_counter()
    proc = torchrun(["--standalone", "--nnodes=1", "--nproc_per_node=2"], out, [*EQUIVALENCE, "resume", "misuses"])
    _finish([proc], LAUNCH_TIMEOUT)
    print(f"2-rank launch: {time.perf_counter() - start:.1f} s")
    return out


# --- the tests ------------------------------------------------------------------------------------

def assert_same_networks(got: dict, want: dict, atol: float, what: str) -> None:
    for net in ("G", "D"):
        assert got[net].keys() == want[net].keys(), f"{what}: {net}'s parameters differ in names"
        for name, value in want[net].items():
            if value.is_floating_point():
                diff = (got[net][name] - value).abs().max().item()
                assert diff <= atol, f"{what}: {net}.{name} differs by {diff:.3g} (tolerance {atol})"
            else:
                assert torch.equal(got[net][name], value), f"{what}: {net}.{name} differs"


@pytest.mark.parametrize("case", EQUIVALENCE)
def test_two_ranks_train_as_one_process_with_the_global_batch(two_ranks, case):
    ranks = [load(two_ranks, case, r) for r in (0, 1)]
    assert ranks[0]["world"] == 2 and ranks[0]["wrapped"] == ["DistributedNetwork"] * 2
    assert ranks[0]["read through the wrapper"] == (8, False)  # G.latent_dim, G.conditional
    assert_same_networks(ranks[1], ranks[0], 0.0, f"{case}: rank 1 vs rank 0")  # DDP keeps the ranks identical
    reference = single_process(case.replace("_dist_train_gan", ""))
    assert_same_networks(ranks[0], reference, TOLERANCE[case],
                         f"{case}: 2 ranks x {PER_RANK} vs 1 process x {2 * PER_RANK}")
    steps = len(reference["history"]["step"])
    assert steps == 3 * N_IMAGES // (2 * PER_RANK) == len(ranks[0]["history"]["step"])
    for key in ("loss_D", "loss_G", "D(x)", "D(G(z))"):  # the recorded numbers are the global batch's
        got, want = torch.tensor(ranks[0]["history"][key]), torch.tensor(reference["history"][key])
        assert torch.allclose(got, want, atol=1e-5, rtol=0), f"{case}: the recorded {key} differ"
    assert ranks[1]["history"] == ranks[0]["history"]
    if case == "dcgan":  # batch norm over the global batch: its statistics match too
        assert ranks[0]["batchnorm"] == ["GlooSyncBatchNorm"]
        assert any("running_var" in name for name in reference["D"])


def test_unsafe_setups_are_refused_on_every_rank(two_ranks):
    expected = {"plain batches": "every rank would train on the same batches",
                "plain latents": "every rank would draw the same noise",
                "plain penalty": "use ganlib.distributed.gp_penalty",
                "plain checkpoint": "would be written by every rank",
                "seeds differ": "random generators differ"}
    for r in (0, 1):
        raised = load(two_ranks, "misuses", r)["raised"]
        for name, words in expected.items():
            assert raised[name] is not None and words in raised[name], f"rank {r}, {name}: {raised[name]}"


def test_a_resumed_two_rank_run_equals_the_uninterrupted_one(two_ranks):
    for r in (0, 1):
        result = load(two_ranks, "resume", r)
        whole, resumed = result["uninterrupted"], result["resumed"]
        assert_same_networks(resumed, whole, 0.0, f"rank {r}: resumed vs uninterrupted")
        for name, value in whole["EMA"].items():
            assert torch.equal(resumed["EMA"][name], value), f"rank {r}: the EMA's {name} differs"
        assert resumed["history"] == whole["history"]
        assert len(whole["history"]["step"]) == 4 * N_IMAGES // (2 * PER_RANK)
    assert not (two_ranks / "resume.pt.lock").exists()


def test_two_launchers_joined_by_a_c10d_rendezvous_train_together(tmp_path):
    """Two "machines": a torchrun per node (--nnodes 2 --nproc_per_node 1), one rendezvous endpoint.
    The test hosts the rendezvous store (is_host=false for both launchers): when a launcher hosts
    it, the launcher that finishes first can close it under the other's last check-in, and that
    one exits 1 after a successful run (seen once in CI, on a loaded machine)."""
    port = free_port()
    store = torch.distributed.TCPStore("127.0.0.1", port, is_master=True, wait_for_workers=False)
    try:
        procs = [torchrun(["--nnodes=2", "--nproc_per_node=1", f"--node_rank={node}", "--rdzv_backend=c10d",
                           f"--rdzv_endpoint=127.0.0.1:{port}", "--rdzv_conf=is_host=false",
                           "--rdzv_id=ganlib-test", "--max_restarts=0"], tmp_path, ["mlp"]) for node in (0, 1)]
        _finish(procs, LAUNCH_TIMEOUT)
    finally:
        del store
    ranks = [load(tmp_path, "mlp", r) for r in (0, 1)]
    assert ranks[0]["world"] == ranks[1]["world"] == 2
    assert_same_networks(ranks[1], ranks[0], 0.0, "node 1 vs node 0")
    assert_same_networks(ranks[0], single_process("mlp"), 1e-5, "2 nodes vs 1 process")


# --- the pieces, on one process -------------------------------------------------------------------

def test_sharded_batches_are_slices_of_the_global_batches():
    data, labels = images(), torch.arange(N_IMAGES)
    torch.manual_seed(5)
    whole = [batch for _ in range(2) for batch in ganlib.TensorBatches(data, labels, batch_size=3 * 4)]
    shards = []
    for rank in range(3):
        torch.manual_seed(5)  # every rank seeded alike
        batches = dist.ShardedBatches(data, labels, batch_size=4, rank=rank, world_size=3)
        assert len(batches) == N_IMAGES // 12
        shards.append([batch for _ in range(2) for batch in batches])  # two epochs, reshuffled
    for i, (images_, labels_) in enumerate(whole):
        assert torch.equal(torch.cat([shards[r][i][1] for r in range(3)]), labels_)
        assert torch.equal(torch.cat([shards[r][i][0] for r in range(3)]), images_)
    assert not torch.equal(whole[0][1], whole[len(whole) // 2][1])  # a new permutation every epoch
    with pytest.raises(ValueError, match="items per step"):
        dist.ShardedBatches(data, batch_size=50, rank=0, world_size=3)
    assert isinstance(dist.ShardedBatches.of(ganlib.TensorBatches(data, batch_size=8)), dist.ShardedBatches)


@pytest.mark.parametrize("sampler", [NoiseSampler(6), LabelledNoise(6, n_classes=10), InfoGANCodes(5, 4, 2)],
                         ids=["noise", "labelled", "infogan"])
def test_sharded_latents_union_is_the_global_draw(sampler):
    labels = torch.tensor([3, 1, 4, 1, 5, 9])  # the global batch's labels, 3 per rank
    torch.manual_seed(7)
    whole = sampler(6, labels, "cpu")
    parts = []
    for rank in range(2):
        torch.manual_seed(7)
        parts.append(dist.ShardedLatents(sampler, rank=rank, world_size=2)(3, labels[3 * rank:3 * rank + 3], "cpu"))
    for i, x in enumerate(whole.g_inputs):
        assert torch.equal(torch.cat([p.g_inputs[i] for p in parts]), x)
    for i, x in enumerate(whole.d_inputs):
        assert torch.equal(torch.cat([p.d_inputs[i] for p in parts]), x)
    for key, x in whole.codes.items():
        assert torch.equal(torch.cat([p.codes[key] for p in parts]), x)
    sharded = dist.ShardedLatents(sampler, rank=0, world_size=2)
    assert sharded.latent_dim == sampler.latent_dim if hasattr(sampler, "latent_dim") else True
    assert torch.equal(sharded.fixed(4).g_inputs[0], sampler.fixed(4).g_inputs[0])


def test_sharded_gradient_penalty_averages_to_the_global_one():
    critic = MLPCritic(hidden=(16,))
    real, fake = images()[:8], -images()[8:16]
    torch.manual_seed(3)
    whole = losses.gp_penalty(10.0)(critic, real, fake)
    parts = []
    for rank in range(2):
        torch.manual_seed(3)
        penalty = dist.gp_penalty(10.0, rank=rank, world_size=2)
        parts.append(penalty(critic, real[4 * rank:4 * rank + 4], fake[4 * rank:4 * rank + 4]))
    assert torch.allclose((parts[0] + parts[1]) / 2, whole, rtol=1e-6)
    assert dist.gp_penalty(10.0).__qualname__ == "gp_penalty(weight=10)"  # one process: losses' own


def test_one_process_gets_its_plain_pieces_back(monkeypatch):
    for name in dist.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="torchrun --nproc_per_node"):
        dist.init()
    assert dist.init(required=False)[:2] == (0, 1)
    assert dist.world_size() == 1 and dist.rank() == 0 and dist.is_main()
    G, D = MLPGenerator(latent_dim=4, hidden=(8,)), MLPDiscriminator(hidden=(8,))
    assert dist.wrap(G, D, "cpu") == (G, D) and dist.unwrap(G) is G
    snapshots = ganlib.Snapshots()
    assert dist.callbacks(snapshots) == [snapshots]
    dist.barrier()
    dist.cleanup()


def test_gloo_sync_batchnorm_keeps_the_tensors_and_is_batch_norm_on_one_process():
    net = DCGANGenerator(latent_dim=4, width=2)
    params = {id(p) for p in net.parameters()}
    synced = dist.GlooSyncBatchNorm.convert(DCGANGenerator(latent_dim=4, width=2))
    converted = dist.GlooSyncBatchNorm.convert(net)
    assert {id(p) for p in converted.parameters()} == params
    assert any(isinstance(m, dist.GlooSyncBatchNorm) for m in converted.modules())
    synced.load_state_dict(DCGANGenerator(latent_dim=4, width=2).state_dict())
    z = torch.randn(5, 4)
    plain = DCGANGenerator(latent_dim=4, width=2)
    plain.load_state_dict(synced.state_dict())
    assert torch.allclose(synced(z), plain(z))
    assert torch.equal(synced.state_dict()["net.1.running_mean"], plain.state_dict()["net.1.running_mean"])


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "worker":
    worker(Path(sys.argv[2]), sys.argv[3:])
