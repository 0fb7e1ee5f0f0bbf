"""Checkpoints that resume a run exactly (on a CPU) or refuse clearly.

A :class:`Checkpoint` saves :meth:`TrainingRun.state_dict <ganlib.train.loop.TrainingRun.state_dict>`
with the SHA-256 of its bytes, and restores it only when the run's settings match
(:func:`run_fingerprint`) and the bytes are intact.
"""
from __future__ import annotations

import hashlib
import io
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .callbacks import Callback

if TYPE_CHECKING:
    from .loop import TrainingRun


def rng_state() -> dict:
    """Every random generator's state, as tensors and numbers (loadable with weights_only=True)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached": float(cached)},
             "python": {"version": version, "internal": list(internal), "gauss": gauss}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        _set_cuda_rng_states(state["cuda"])


def _set_cuda_rng_states(states) -> None:
    """Restore the CUDA generators this machine has. A checkpoint from a machine with more
    GPUs restores as many as are here (training uses the first); one from a machine with
    fewer leaves the others as they are."""
    for index, device_state in enumerate(list(states)[:torch.cuda.device_count()]):
        torch.cuda.set_rng_state(device_state, index)


def run_fingerprint(run: "TrainingRun") -> dict:
    """What must match for a checkpoint to continue this run: networks, optimizers,
    losses, n_critic, batches, latent inputs (not the number of epochs)."""
    def optimizer(opt):
        groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items() if k != "params"}
                  for g in opt.param_groups]
        return f"{type(opt).__name__} {groups}"

    def name(fn):
        return getattr(fn, "__qualname__", None) or repr(fn)

    return {
        "generator": repr(run.generator), "discriminator": repr(run.discriminator),
        "opt_g": optimizer(run.opt_g), "opt_d": optimizer(run.opt_d),
        "loss": run.loss.name, "d_loss": name(run.loss.d_loss), "g_loss": name(run.loss.g_loss),
        "penalty": None if run.penalty is None else name(run.penalty),
        "g_extra_loss": None if run.g_extra_loss is None else name(run.g_extra_loss),
        **({} if run.d_extra_loss is None else {"d_extra_loss": name(run.d_extra_loss)}),
        "n_critic": run.n_critic, "batches per epoch": run.steps_per_epoch,
        "batch size": getattr(run.data, "batch_size", None), "latents": repr(run.sampler),
        "scores": run.history.scores,
        "callbacks that change training": [repr(cb) for cb in run.callbacks if cb.changes_training],
        "data": _data_fingerprint(run.data),
    }


def _data_fingerprint(data) -> str | None:
    """Size and pixel sum of a TensorBatches' images: another data set of the same size differs."""
    tensors = getattr(data, "tensors", None)
    if tensors is None:
        return None
    images = tensors[0]
    return f"{len(images)} items of shape {tuple(images.shape[1:])}, sum {images.sum(dtype=torch.float64).item():.6e}"


CHECKPOINT_FORMAT = "ganlib training checkpoint: sha256 of payload"


def callback_keys(callbacks):
    """(key, callback) pairs: the class name, then "EMA#2", "EMA#3"... for more of one class,
    so two callbacks of one class never share a saved state."""
    seen = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}#{seen[name]}"), cb


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_checkpoint(state: dict, path) -> None:
    """Save ``state`` with the SHA-256 of its bytes, atomically (a temporary file, then a rename)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    tmp = Path(path).with_suffix(Path(path).suffix + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, "sha256": hashlib.sha256(payload).hexdigest(),
                "payload": torch.frombuffer(bytearray(payload), dtype=torch.uint8)}, tmp)
    os.replace(tmp, path)


def read_checkpoint(path) -> dict:
    """Load a checkpoint file, or say clearly why it cannot be used (empty, truncated, altered
    since it was written, or not a ganlib checkpoint)."""
    path = Path(path).expanduser()
    if path.stat().st_size == 0:
        raise RuntimeError(f"the checkpoint {path} is empty (0 bytes): a save was interrupted. "
                           "Delete it to start fresh, or restore a good copy.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
            payload = state["payload"].numpy().tobytes()
            if hashlib.sha256(payload).hexdigest() != state["sha256"]:
                raise RuntimeError(f"the checkpoint {path} does not match the SHA-256 saved with it: its "
                                   "bytes changed after it was written (a bad disk or copy). Delete it to "
                                   "start fresh, or restore a good copy.")
            state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except RuntimeError as err:
        if "SHA-256" in str(err):
            raise
        raise RuntimeError(f"the checkpoint {path} cannot be read (RuntimeError: {err}); it is truncated "
                           "or corrupted. Delete it to start fresh, or restore a good copy.") from err
    except Exception as err:  # truncated zip, bad pickle, not a torch file
        raise RuntimeError(f"the checkpoint {path} cannot be read ({type(err).__name__}: {err}); it is "
                           "truncated or corrupted. Delete it to start fresh, or restore a good copy."
                           ) from err
    needed = {"generator", "discriminator", "opt_g", "opt_d", "history", "epoch", "step", "fingerprint"}
    if not isinstance(state, dict) or not needed <= set(state):
        raise RuntimeError(f"{path} is not a ganlib training checkpoint (it lacks "
                           f"{sorted(needed - set(state) if isinstance(state, dict) else needed)}). "
                           "Delete it or pass another checkpoint path.")
    return state


class Checkpoint(Callback):
    """Save everything a run needs to continue exactly, after every epoch; with
    ``resume``, an existing file is loaded first.

    The file holds both networks, both optimizers, the loss scalers of mixed
    precision, the history, the position, every random generator's state, the
    other callbacks' states (an EMA, say) and a fingerprint of the run's
    settings. Resuming with other settings stops with a message naming what
    differs. Writes go to a temporary file first, so a disconnect mid-save never
    leaves a broken checkpoint.

    Where "exactly" holds: on a CPU, a resumed run equals the uninterrupted one bit
    for bit (the tests check it, float16 emulation included). On a CUDA GPU it holds
    only with deterministic kernels (``torch.use_deterministic_algorithms(True)`` and
    ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set before CUDA starts); by default cuDNN's
    convolution kernels may sum in a different order from run to run, so a resumed
    GPU run continues the same training but not the same digits.
    """

    order = 100  # the last callback: restores after the others have begun, saves after they finished

    def __init__(self, path, resume: bool = True):
        self.path, self.resume = Path(path).expanduser(), resume
        self.lock = self.path.with_suffix(self.path.suffix + ".lock")

    def on_train_begin(self, run):
        self._claim()
        if not (self.resume and self.path.exists()):
            return
        state = read_checkpoint(self.path)
        mine = run_fingerprint(run)
        # A checkpoint from an earlier ganlib is checked on what it recorded.
        differ = [k for k in mine if k in state["fingerprint"] and state["fingerprint"][k] != mine[k]]
        if differ:
            lines = "\n".join(f"  {k}: checkpoint {state['fingerprint'].get(k)!r}, now {mine[k]!r}"
                              for k in differ)
            raise ValueError(f"the checkpoint {self.path} belongs to a different run:\n{lines}\n"
                             "Use the same settings to continue it, or start fresh: delete the file "
                             "or pass another checkpoint path (or resume=False).")
        run.load_state_dict(state)
        if run.epoch >= run.epochs:
            print(f"{self.path} holds a finished run ({run.epoch} of {run.epochs} epochs): loaded its "
                  "weights into the generator and discriminator and returned its history. Pass a new "
                  "checkpoint path (or resume=False) to train again from these networks' start.")
        else:
            print(f"Resumed from {self.path}: {run.epoch} of {run.epochs} epochs done.")

    def _claim(self) -> None:
        """Fail now, not after an epoch, when the checkpoint cannot be written; and refuse a
        second process training into the same file (a lock file holds the owner's pid)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RuntimeError(f"cannot write the checkpoint {self.path}: its folder cannot be made "
                               f"({err.strerror}); choose a folder you can write to") from err
        try:
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                owner = int(self.lock.read_text().strip() or 0)
            except (OSError, ValueError):
                owner = 0
            if owner and owner != os.getpid() and _process_alive(owner):
                raise RuntimeError(f"another process (pid {owner}) is training into {self.path}: two runs "
                                   "writing one checkpoint would overwrite each other. Give this run its "
                                   f"own checkpoint path, or stop the other one (a stale {self.lock.name} "
                                   "from a crashed run can be deleted).") from None
            self.lock.unlink(missing_ok=True)  # left by a run that crashed
            return self._claim()
        except OSError as err:
            raise RuntimeError(f"cannot write the checkpoint {self.path} ({err.strerror}): choose a folder "
                               "you can write to, with free space") from err
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))

    def on_train_end(self, run):
        self.lock.unlink(missing_ok=True)

    def on_epoch_end(self, run):
        if run.step != run.epoch * run.steps_per_epoch:
            return  # stopped mid-epoch: the last whole epoch's checkpoint stays
        try:
            self._save(run)
        except OSError as err:
            raise RuntimeError(f"saving the checkpoint {self.path} failed after epoch {run.epoch} "
                               f"({err.strerror}): free some disk space or choose another folder; the "
                               "previous checkpoint, if any, is intact") from err

    def _save(self, run):
        write_checkpoint({**run.state_dict(), "fingerprint": run_fingerprint(run)}, self.path)
