"""One configuration per shipped model, and the one driver that trains it.

A model chapter's full profile and its recipe read the same
:class:`TrainingConfig` (``ganlib.recipes.<name>.CONFIG``): networks, batch,
optimizer, losses, n_critic, EMA and the full number of epochs. The driver
(:func:`main`) trains it on MNIST's training split through ``train_gan`` with
a checkpoint that survives the session (so a long CPU run continues where it
stopped), then ships the generator, its model card and its recorded run.

    python -m ganlib.recipes.<name> [--max-epochs N] [--minutes M] [--threads T] [--seed S]
                                    [--weights-dir DIR] [--checkpoint-dir DIR] [--fresh]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import losses
from ..data import load_mnist
from ..pretrained import WEIGHTS_DIR, load_generator, save_generator
from ..train import EMA, Callback, Checkpoint, PrintLog, Snapshots, TimeBudget, adam, read_checkpoint, train_gan
from ..utils import device, seed_everything

N_RECORDED_SNAPSHOTS = 8
MIN_SCORE_SAMPLES = 100  # the card's scores: IS splits the samples in 10, KID draws subsets of half


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines one model's full training run."""

    name: str
    generator: type
    generator_kwargs: dict
    discriminator: type
    discriminator_kwargs: dict
    epochs: int                    # the full profile's epochs
    batch_size: int = 64
    loss: str = "non-saturating"   # a key of ganlib.losses.GAN_LOSSES (or a GANLoss)
    gp_weight: float = 0.0         # gradient penalty (WGAN-GP) weight; 0: none
    n_critic: int = 1
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    ema_decay: float | None = None  # the shipped weights are this EMA of G's weights
    g_lr_multipliers: dict = field(default_factory=dict)  # parameter-name prefix -> lr factor
    summary: str = ""               # one line for the card: what the networks are
    notes: dict = field(default_factory=dict)  # anything else the card should say

    def __post_init__(self):
        losses.gan_loss(self.loss)  # a known name, or a clear error listing them

    def networks(self, device=None):
        """A fresh (generator, discriminator) pair, on ``device``."""
        G = self.generator(**self.generator_kwargs)
        D = self.discriminator(**self.discriminator_kwargs)
        return (G.to(device), D.to(device)) if device is not None else (G, D)

    def optimizers(self, generator, discriminator):
        """Adam for each network; G's parameters whose names start with a prefix in
        ``g_lr_multipliers`` get that multiple of ``lr_g`` (StyleGAN's mapping network)."""
        groups, rest = [], []
        for prefix, factor in self.g_lr_multipliers.items():
            groups.append({"params": [p for n, p in generator.named_parameters() if n.startswith(prefix)],
                           "lr": self.lr_g * factor})
        rest = [p for n, p in generator.named_parameters()
                if not any(n.startswith(prefix) for prefix in self.g_lr_multipliers)]
        return (adam([{"params": rest, "lr": self.lr_g}, *groups], lr=self.lr_g, betas=self.betas),
                adam(discriminator.parameters(), lr=self.lr_d, betas=self.betas))

    def train_kwargs(self, generator, discriminator, callbacks=()) -> "TrainSettings":
        """Everything this configuration decides, as keyword arguments of ``train_gan``: the
        loss, the optimizers, n_critic, the penalty, and ``callbacks`` plus an :class:`EMA`
        of G when the configuration averages G's weights (``settings.ema``; None otherwise).
        Add the data (batched at ``batch_size``) and the epochs. A variant is
        ``replace(CONFIG, ...)``; a setting no configuration holds (chapter 7's RMSprop and
        clipping) is an explicit override of the returned dict."""
        ema = EMA(self.ema_decay) if self.ema_decay else None
        settings = TrainSettings(
            loss=losses.gan_loss(self.loss), optimizers=self.optimizers(generator, discriminator),
            n_critic=self.n_critic, penalty=losses.gp_penalty(self.gp_weight) if self.gp_weight else None,
            callbacks=[*callbacks, *([ema] if ema is not None else [])])
        settings.ema = ema
        return settings

    def __str__(self) -> str:
        """The settings, one per line, as the model card lists them (``print(CONFIG)``)."""
        rows = {**self.describe(), "epochs": f"{self.epochs} (the full profile)"}
        width = max(map(len, rows))
        return f"{self.name}:\n" + "\n".join(
            f"  {key:<{width}}  {value}" for key, value in rows.items())

    def describe(self) -> dict:
        """The settings as card entries."""
        return {
            "model": self.summary or f"{self.generator.__name__}({self.generator_kwargs})",
            "generator": f"{self.generator.__name__}(**{self.generator_kwargs})",
            "discriminator": f"{self.discriminator.__name__}(**{self.discriminator_kwargs}); not shipped",
            "objective": losses.gan_loss(self.loss).name
                         + (f", gradient penalty weight {self.gp_weight:g}" if self.gp_weight else ""),
            "optimizer": f"Adam, lr G {self.lr_g:g}, lr D {self.lr_d:g}, betas {tuple(self.betas)}"
                         + "".join(f", {p}* at {f:g} x lr G" for p, f in self.g_lr_multipliers.items()),
            "n_critic": self.n_critic, "batch_size": self.batch_size,
            "ema": f"EMA of G's weights and buffers, decay {self.ema_decay}" if self.ema_decay else "none",
            **self.notes,
        }


from ..records import hardware  # noqa: E402,F401  (the GPU's name, else the CPU model and threads)


class TrainSettings(dict):
    """The keyword arguments of ``train_gan`` that a configuration decides; ``ema`` is the
    :class:`EMA` callback among them (None when the configuration ships G's last weights)."""

    ema: EMA | None = None

    def generator_to_sample(self, generator):
        """The averaged generator when there is one, else ``generator`` itself."""
        return self.ema.generator if self.ema is not None else generator


def default_checkpoint_dir() -> Path:
    """Outside the working tree, so a checkpoint survives a fresh checkout."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ganlib" / "checkpoints"


def check_args(args, config: TrainingConfig) -> None:
    """Refuse a bad flag before hours of training, not after."""
    problems = []
    if args.max_epochs < 1:
        problems.append(f"--max-epochs must be at least 1, got {args.max_epochs}")
    if args.minutes is not None and not args.minutes > 0:
        problems.append(f"--minutes must be a positive wall time, got {args.minutes:g}")
    if args.threads < 0:
        problems.append(f"--threads must be 0 (torch's default) or a positive count, got {args.threads}")
    if args.score_samples is not None and args.score_samples < MIN_SCORE_SAMPLES:
        problems.append(f"--score-samples must be at least {MIN_SCORE_SAMPLES} (the scores need that many "
                        f"samples), got {args.score_samples}")
    if args.limit is not None and args.limit < config.batch_size:
        problems.append(f"--limit must be at least one batch ({config.batch_size} images), got {args.limit}")
    if problems:
        raise SystemExit("python -m ganlib.recipes." + config.name + ": " + "; ".join(problems))


def parser(config: TrainingConfig, doc: str) -> argparse.ArgumentParser:
    """The flags every recipe shares."""
    p = argparse.ArgumentParser(description=doc.strip().split("\n")[0])
    p.add_argument("--max-epochs", type=int, default=config.epochs,
                   help=f"epochs to train in all (default: the chapter's full profile, {config.epochs})")
    p.add_argument("--minutes", type=float, default=None,
                   help="stop this call at the last epoch end within this wall time (resume later)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help="where to ship the generator")
    p.add_argument("--checkpoint-dir", type=Path, default=default_checkpoint_dir())
    p.add_argument("--fresh", action="store_true", help="delete this recipe's checkpoint and start again")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only (smoke tests)")
    p.add_argument("--score-samples", type=int, default=None,
                   help="samples the card's scores use (default: the scoreboard's 5,000)")
    return p


class ScoreLog(Callback):
    """Score the generator on ``n`` samples every ``every`` epochs: the metrics against
    training time that the model card records (so a missed target shows its trend)."""

    def __init__(self, generator_of, n: int = 1000, every: int = 1):
        self.generator_of, self.n, self.every = generator_of, n, every
        self.log, self.minutes_before = [], 0.0

    def on_train_begin(self, run):
        self.start = time.time()

    def on_epoch_end(self, run):
        generator = self.generator_of(run)
        if run.epoch % self.every or not hasattr(generator, "latent_dim") or \
                run.step != run.epoch * run.steps_per_epoch:
            return
        from ..metrics.scoring import score_generator

        scores = score_generator(generator, n=self.n, seed=1)
        minutes = self.minutes_before + (time.time() - self.start) / 60
        self.log.append({"epoch": run.epoch, "minutes": round(minutes, 1),
                         **{k: (round(scores[k], 4) if isinstance(scores[k], float) else scores[k])
                            for k in ("fid", "recall", "covered", "confident", "label_accuracy")}})
        print(f"  scores after epoch {run.epoch}: {self.log[-1]}", flush=True)

    def total_minutes(self) -> float:
        """Training time of the whole run so far, across resumed calls."""
        return self.minutes_before + (time.time() - self.start) / 60

    def state_dict(self):
        return {"log": self.log, "minutes": self.total_minutes()}

    def load_state_dict(self, state):
        self.log, self.minutes_before = list(state["log"]), float(state["minutes"])


def noise_batches(config: TrainingConfig, data):
    """The default data of a recipe: MNIST batches (images, labels); G's inputs drawn by
    ``train_gan`` from the generator's attributes. Returns (batches, extra train_gan kwargs)."""
    return data.batches(config.batch_size, with_labels=True), {}


def train(config: TrainingConfig, args, prepare=noise_batches) -> dict:
    """Train (or continue) the configuration's run; returns what the card needs.

    ``prepare(config, data) -> (batches, extra train_gan kwargs)`` turns MNIST's
    training split into what the model trains on (pix2pix: outline/digit pairs).
    """
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    dev = device()
    data = load_mnist("train", allow_test_split=False, limit=args.limit, device=dev)
    print(data, flush=True)
    generator, discriminator = config.networks(dev)
    checkpoint = Path(args.checkpoint_dir) / f"{config.name}-seed{args.seed}.pt"
    if args.fresh and checkpoint.exists():
        checkpoint.unlink()
    callbacks = [Checkpoint(checkpoint), PrintLog(),
                 Snapshots(every=max(1, args.max_epochs // N_RECORDED_SNAPSHOTS))]
    settings = config.train_kwargs(generator, discriminator, callbacks=callbacks)
    score_log = ScoreLog(lambda run: settings.generator_to_sample(run.generator),
                         every=max(1, args.max_epochs // 10))
    settings["callbacks"].append(score_log)
    if args.minutes is not None:
        settings["callbacks"].append(TimeBudget(args.minutes))
    batches, extra = prepare(config, data)
    history = train_gan(generator, discriminator, batches, epochs=args.max_epochs, progress=False,
                        **settings, **extra)
    # This call's time as the score log counts it (from the first step), so it never exceeds the total.
    seconds = (score_log.total_minutes() - score_log.minutes_before) * 60
    state = read_checkpoint(checkpoint)
    return {"generator": settings.generator_to_sample(generator).cpu().eval(),
            "history": history, "epochs": int(state["epoch"]), "seconds": seconds,
            "checkpoint": checkpoint, "images": len(data), "score_log": score_log.log,
            "total_minutes": score_log.total_minutes()}


def recorded_run(history, config: TrainingConfig) -> dict:
    """The small record shipped beside the weights: curves (averaged to at most 400
    points) and the snapshots (16 images each, fp16)."""
    n = len(history)
    block = max(1, -(-n // 400))
    starts = range(0, n, block)  # the last block may be shorter: the record ends at the last step
    curves = {key: [sum(history.records[key][i:i + block]) / len(history.records[key][i:i + block])
                    for i in starts] for key in ("loss_D", "loss_G", "D(x)", "D(G(z))")}
    steps = [history.records["step"][min(i + block, n) - 1] for i in starts]
    return {"name": config.name, "steps": steps, "curves": curves, "scores": history.scores,
            "steps_per_epoch": history.steps_per_epoch,
            "snapshots": [(int(s), img[:16].half()) for s, img in history.snapshots]}


def main(config: TrainingConfig, doc: str, argv=None, extra_card=None, prepare=noise_batches) -> Path:
    """Parse the shared flags, train, score, and ship ``config.name`` with its card and record.

    ``extra_card(generator, args) -> dict`` adds model-specific facts to the card;
    ``prepare`` is as for :func:`train`. Generators of digits from noise (those with
    a ``latent_dim``) are scored by the scoreboard's metrics.
    """
    from ..metrics.scoring import N_SAMPLES, score_generator

    args = parser(config, doc).parse_args(argv)
    check_args(args, config)
    result = train(config, args, prepare)
    generator, history = result["generator"], result["history"]
    weights_dir = Path(args.weights_dir)
    # Everything is written to a staging folder and scored there; only a complete set (weights,
    # card, recorded run) replaces what weights_dir holds, so a failure leaves the shipped model.
    staging = weights_dir / f".{config.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    save_generator(generator, config.name, kwargs=config.generator_kwargs, card={}, weights_dir=staging)
    torch.save(recorded_run(history, config), staging / f"{config.name}_run.pth")
    shipped = load_generator(config.name, weights_dir=staging)  # score the fp16 weights as shipped
    scores = None
    if hasattr(shipped, "latent_dim"):
        scores = {k: (round(v, 4) if isinstance(v, float) else v)
                  for k, v in score_generator(shipped, n=args.score_samples or N_SAMPLES, seed=0).items()}
    finished = result["epochs"] >= args.max_epochs
    card = {
        **config.describe(),
        "data": f"MNIST training split ({result['images']:,} images)",
        "split": "train" if args.limit is None else f"train[:{args.limit}]",
        "epochs": result["epochs"],
        "full_profile_epochs": config.epochs,
        "steps": len(history),
        "seed": args.seed,
        "hardware": hardware(),
        "wall_time_minutes_this_call": round(result["seconds"] / 60, 1),
        "wall_time_minutes_total": round(result["total_minutes"], 1),
        "status": "finished" if finished else (
            f"stopped after {result['epochs']} of {args.max_epochs} epochs (time budget); rerun the "
            "reproduce command to continue from the checkpoint"),
        **({f"scores ({args.score_samples or N_SAMPLES:,} samples, seed 0, vs MNIST's 10,000 test images)": scores}
           if scores is not None else {}),
        **({"scores over training (1,000 samples each, noise seed 1; minutes of training)": result["score_log"]}
           if result["score_log"] else {}),
        **(extra_card(shipped, args) if extra_card else {}),
        "reproduce": (f"python -m ganlib.recipes.{config.name} --max-epochs {args.max_epochs} "
                      f"--seed {args.seed}" + (f" --threads {args.threads}" if args.threads else "")
                      + (f" --limit {args.limit}" if args.limit else "")),
        "weights": ("fp16 state dict (loaded as float32)" + (", the EMA generator" if config.ema_decay else "")),
        "recorded_run": f"{config.name}_run.pth (loss curves and {len(history.snapshots)} snapshots)",
    }
    save_generator(generator, config.name, kwargs=config.generator_kwargs, card=card, weights_dir=staging)
    for suffix in ("_run.pth", ".pt", ".json"):  # the card last: it vouches for the weights beside it
        os.replace(staging / f"{config.name}{suffix}", weights_dir / f"{config.name}{suffix}")
    shutil.rmtree(staging, ignore_errors=True)
    path = weights_dir / f"{config.name}.pt"
    print(json.dumps(card, indent=2))
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB), its card and its recorded run")
    return path


def replace(config: TrainingConfig, **changes) -> TrainingConfig:
    """A copy of ``config`` with some settings changed (for experiments)."""
    return dataclasses.replace(config, **changes)
