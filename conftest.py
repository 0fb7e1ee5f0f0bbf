"""pytest settings shared by the unit tests and the notebook runs.

Every chapter notebook is a test, run by nbval (``--nbval-lax`` in pyproject.toml):
each code cell is an item, executed in order in one kernel per notebook. A cell
that raises (a failed assert, a failed strict check) fails; the notebook's later
cells are then skipped. Cells marked ``# NBVAL_CHECK_OUTPUT`` must also print
what their committed output says (theory values, numbers read from model cards).
The run profile and the strictness come from the environment (``make test``:
quick and strict; ``make smoke-full``: full, training capped by ``GANLIB_MAX_STEPS``).

The hooks below keep one execution per notebook: ``--executed DIR`` writes each
fully passed notebook, with its outputs and widget states, to ``DIR/<name>.ipynb``
for the book build (``python -m ganlib.tools.bookcache``), and ``GANLIB_TIMINGS``
receives each notebook's time (``make full-times``). ``--refresh-checked`` writes
the outputs of the checked cells back into the committed notebooks.
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


def pytest_addoption(parser):
    parser.addoption("--executed", default=None, metavar="DIR",
                     help="write each executed notebook to DIR (reused by the book build)")
    parser.addoption("--refresh-checked", action="store_true",
                     help="write the outputs of # NBVAL_CHECK_OUTPUT cells into the committed notebooks")


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


def kernel_cpu_seconds(kernel_manager):
    """The kernel process's CPU time so far (Linux), or None where it cannot be read."""
    try:
        pid = kernel_manager.provisioner.process.pid
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)  # utime + stime
    except (AttributeError, OSError, ValueError, IndexError):
        return None


def kernel_environment(notebook: Path) -> dict:
    """What a notebook's kernel gets on top of this process's environment."""
    env = {"GANLIB_NOTEBOOK": notebook.stem}
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        # Kernels run side by side: one compute thread each for torch and TF. Two threads per
        # kernel on a shared core make small ops wait at a barrier for a time slice
        # (chapter 7's rings: 47 s with one thread, over 600 s with two, on a busy machine).
        for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
            env[name] = os.environ.get(name, "1")
    return env


class NotebookRun:
    """One notebook's run through nbval: its cells' outputs, widget states and time."""

    def __init__(self, nbfile):
        self.nbfile, self.outputs, self.failed = nbfile, {}, False
        self.widget_state: dict = {}
        self.start = time.perf_counter()
        read = nbfile.get_kernel_message

        def get_kernel_message(*args, **kwargs):  # nbval skips comm messages: keep widget states
            msg = read(*args, **kwargs)
            if msg["msg_type"] in ("comm_open", "comm_msg"):
                data = msg["content"].get("data", {})
                if "state" in data:
                    self.widget_state.setdefault(msg["content"]["comm_id"], {}).update(data["state"])
            return msg

        nbfile.get_kernel_message = get_kernel_message

    def executed_notebook(self):
        """The committed notebook with this run's outputs (every code cell ran and passed)."""
        import copy

        import nbformat
        from IPython.core.displayhook import DisplayHook

        nb = copy.deepcopy(self.nbfile.nb)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code):
            cell.outputs, cell.execution_count = self.outputs[number], number + 1
            if DisplayHook.semicolon_at_end_of_expression(cell.source):
                # nbval runs cells with store_history=False, so the kernel cannot see the ';' that
                # silences a cell's value in Jupyter and Colab: drop it here (else a returned figure
                # shows twice in the book, once as the value and once from the inline backend)
                cell.outputs = [out for out in cell.outputs if out.output_type != "execute_result"]
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = number + 1
        state = {comm: {"model_name": s.get("_model_name"), "model_module": s.get("_model_module"),
                        "model_module_version": s.get("_model_module_version"), "state": s}
                 for comm, s in self.widget_state.items() if "_model_name" in s}
        if state:
            nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json":
                                      {"state": state, "version_major": 2, "version_minor": 0}}
        nbformat.validate(nb)
        return nb


RUNS: dict = {}  # nbval's notebook collector -> its NotebookRun


def _notebook_of(item):
    from nbval.plugin import IPyNbCell

    return item.parent if isinstance(item, IPyNbCell) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    nbfile = _notebook_of(item)
    if nbfile is None:
        yield
        return
    if nbfile.kernel is None:  # the notebook's first cell: nbval starts its kernel in this setup
        if item.cell_num != 0:
            raise pytest.UsageError(f"{nbfile.path.name}: cell {item.cell_num} would run in a fresh kernel; "
                                    "run notebooks with pytest-xdist's --dist loadfile (one worker per notebook)")
        saved = dict(os.environ)
        os.environ.update(kernel_environment(nbfile.path))
        os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend, so figures land in the outputs
        try:
            outcome = yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if outcome.excinfo is None:
            RUNS[nbfile] = NotebookRun(nbfile)
        return
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    nbfile = _notebook_of(item)
    if nbfile is not None and (nbfile not in RUNS or RUNS[nbfile].failed):
        pytest.skip("an earlier cell of this notebook failed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    nbfile = _notebook_of(item)
    run = RUNS.get(nbfile) if nbfile is not None else None
    report = outcome.get_result()
    if run is None:
        return
    if report.failed or (report.skipped and call.when != "teardown"):
        run.failed = True
    elif call.when == "call":
        run.outputs[item.cell_num] = list(item.test_outputs or [])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    nbfile = _notebook_of(item)
    if nbfile is None or (nextitem is not None and nextitem.parent is nbfile):
        yield
        return
    run = RUNS.pop(nbfile, None)
    cpu = kernel_cpu_seconds(nbfile.kernel.km) if run is not None and nbfile.kernel is not None else None
    yield  # nbval stops the kernel
    if run is None:
        return
    complete = not run.failed and len(run.outputs) == sum(c.cell_type == "code" for c in nbfile.nb.cells)
    if os.environ.get("GANLIB_TIMINGS"):  # the whole notebook's time, beside its runs' (StepTimes)
        with open(os.environ["GANLIB_TIMINGS"], "a") as f:
            f.write(json.dumps({"notebook": nbfile.path.stem, "complete": complete,
                                "notebook_seconds": round(time.perf_counter() - run.start, 2),
                                "notebook_cpu_seconds": cpu}) + "\n")
    out = item.config.getoption("executed")
    target = Path(out) / nbfile.path.name if out else None
    if target is not None and target.exists():
        target.unlink()  # a failed run leaves no older copy behind for the book
    if not complete:
        return
    import nbformat

    from ganlib.tools.bookcache import STAMP_KEY, build_stamp

    nb = run.executed_notebook()
    if target is not None:
        nb.metadata[STAMP_KEY] = build_stamp()  # what these outputs depend on
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        nbformat.write(nb, partial)
        partial.replace(target)  # never a half-written notebook
    if item.config.getoption("refresh_checked"):
        refresh_checked_outputs(nbfile.path, nb)


def checked(cell) -> bool:
    """Marked ``# NBVAL_CHECK_OUTPUT`` on a line of its own (nbval's rule)."""
    from nbval.plugin import find_comment_markers

    return cell.cell_type == "code" and ("check", True) in find_comment_markers(cell.source)


def refresh_checked_outputs(path: Path, executed) -> None:
    """Copy the checked cells' outputs of ``executed`` into the committed notebook at ``path``."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    done = [c for c in executed.cells if c.cell_type == "code"]
    for cell, ran in zip(code, done):
        if checked(ran):
            outputs = json.loads(json.dumps(ran.outputs))
            for out in outputs:  # nbval compares text, not pictures: keep the notebook small
                if "data" in out:
                    out["data"] = {"text/plain": out["data"]["text/plain"]}
                    out["metadata"] = {}
            cell["outputs"], cell["execution_count"] = outputs, ran.execution_count
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
