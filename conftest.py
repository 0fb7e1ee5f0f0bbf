"""pytest settings shared by the unit tests and the notebook runs.

Every chapter notebook is a test: pytest executes it top to bottom with nbclient.

A cell that raises (a failed assert, a failed strict check) fails the test,
which shows that cell's source and traceback. The run profile and the
strictness come from the environment (``make test``: quick and strict;
``make smoke-full``: full, training capped by ``GANLIB_MAX_STEPS``).

``--executed DIR`` writes each executed notebook to ``DIR/<name>.ipynb``:
the book build takes its outputs from there instead of executing the
notebooks a second time (``python -m ganlib.tools.bookcache``).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("GANLIB_PROFILE", "quick")  # inherited by the notebooks' kernels
os.environ.setdefault("GANLIB_STRICT_CHECKS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")  # unit tests only: kernels get the inline backend

CELL_TIMEOUT = 600  # seconds, as _config.yml gives the book build


def pytest_addoption(parser):
    parser.addoption("--executed", default=None, metavar="DIR",
                     help="write each executed notebook to DIR (reused by the book build)")


def pytest_collect_file(file_path: Path, parent):
    if parent.config.getoption("nbval", False) or parent.config.getoption("nbval_lax", False):
        return None  # pytest --nbval(-lax) collects the notebooks its own way
    if (file_path.suffix == ".ipynb" and file_path.parent.name == "notebooks"
            and ".ipynb_checkpoints" not in file_path.parts):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


WATCHED_ENV = ("GANLIB_", "OMP_NUM_THREADS", "TF_NUM_")  # what the notebooks' kernels inherit


def watched_environment() -> dict:
    return {k: v for k, v in os.environ.items() if k.startswith(WATCHED_ENV)}


@pytest.fixture(autouse=True)
def environment_unchanged(request):
    """Fail a test that leaves the run profile or thread settings changed: the notebooks a test
    worker runs later inherit them (a leaked GANLIB_PROFILE=full once made CI time out)."""
    before = watched_environment()
    yield
    after = watched_environment()
    if after != before:
        for key in after.keys() - before.keys():
            del os.environ[key]
        os.environ.update(before)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        pytest.fail(f"{request.node.nodeid} changed the environment ({', '.join(changed)}); "
                    "use monkeypatch.setenv or pass env= to the kernel", pytrace=False)


def kernel_cpu_seconds(client):
    """The kernel process's CPU time so far (Linux), or None where it cannot be read."""
    try:
        pid = client.km.provisioner.process.pid
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)  # utime + stime
    except (AttributeError, OSError, ValueError, IndexError):
        return None


class NotebookFile(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name="executes")


class NotebookItem(pytest.Item):
    def runtest(self):
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.read(self.path, as_version=4)
        env = dict(os.environ, GANLIB_NOTEBOOK=self.path.stem)
        env.pop("MPLBACKEND", None)  # the kernel's inline backend, so figures land in the outputs
        if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
            # Kernels run side by side: one compute thread each for torch and TF. Two threads per
            # kernel on a shared core make small ops wait at a barrier for a time slice
            # (chapter 7's rings: 47 s with one thread, over 600 s with two, on a busy machine).
            for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
                env.setdefault(name, "1")
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                                record_timing=False,  # cell metadata unchanged: the book cache matches it
                                resources={"metadata": {"path": str(self.path.parent)}})
        from ganlib.tools.bookcache import STAMP_KEY, build_stamp

        stamp = build_stamp()  # what these outputs depend on
        out = self.config.getoption("executed")
        target = Path(out) / self.path.name if out else None
        if target is not None and target.exists():
            target.unlink()  # a failed run leaves no older copy behind for the book
        cpu = {}
        client.on_cell_executed = lambda **_: cpu.update(seconds=kernel_cpu_seconds(client))
        start, complete = time.perf_counter(), False
        try:
            client.execute(env=env)
            complete = True
        finally:
            if os.environ.get("GANLIB_TIMINGS"):  # the whole notebook's time, beside its runs' (StepTimes)
                with open(os.environ["GANLIB_TIMINGS"], "a") as f:
                    f.write(json.dumps({"notebook": self.path.stem, "complete": complete,
                                        "notebook_seconds": round(time.perf_counter() - start, 2),
                                        "notebook_cpu_seconds": cpu.get("seconds")}) + "\n")
        if target is not None:
            nb.metadata[STAMP_KEY] = stamp
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            nbformat.write(nb, partial)
            partial.replace(target)  # never a half-written notebook

    def repr_failure(self, excinfo):
        from nbclient.exceptions import CellExecutionError

        if isinstance(excinfo.value, CellExecutionError):
            return f"{self.path.name}: a cell raised\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"notebook {self.path.name}"
