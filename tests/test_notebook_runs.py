"""The notebook runs of conftest.py: nbval executes every cell once, and the hooks hand the
executed notebook (outputs, widget states) to the book build, time it, and stop a notebook
at its first failing cell."""
import json
from pathlib import Path

import nbformat
import pytest

pytest_plugins = ["pytester"]
CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
RUN = ("-p", "no:cacheprovider", "--nbval-lax", "--executed", "executed", "notebooks")


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return nb


@pytest.fixture
def project(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.mkdir("notebooks")
    monkeypatch.setenv("GANLIB_TIMINGS", str(pytester.path / "times.jsonl"))
    return pytester


def test_a_passing_notebook_is_written_once_with_its_outputs(project):
    nb = _notebook("import os\nprint(os.environ['GANLIB_NOTEBOOK'])", "x = 6 * 7\nx",
                   "# NBVAL_CHECK_OUTPUT\nprint(x)", "print('shown')\nx + 1;  # silenced, as in Jupyter")
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    nb.cells[2].execution_count = 3
    nbformat.write(nb, project.path / "notebooks" / "01_ok.ipynb")
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(passed=4)
    executed = nbformat.read(project.path / "executed" / "01_ok.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "01_ok\n"            # the kernel's environment
    assert executed.cells[1].outputs[0]["data"]["text/plain"] == "42"    # an execute_result
    assert [c.execution_count for c in executed.cells] == [1, 2, 3, 4]
    # nbval runs cells without history, so the kernel shows the value of a cell ending in ';'
    assert [o["output_type"] for o in executed.cells[3].outputs] == ["stream"]
    assert "ganlib_build" in executed.metadata                           # the book cache's stamp
    times = [json.loads(line) for line in (project.path / "times.jsonl").read_text().splitlines()]
    assert times[0]["notebook"] == "01_ok" and times[0]["complete"] and times[0]["notebook_seconds"] > 0


def test_a_checked_cell_must_print_its_committed_output(project):
    nb = _notebook("# NBVAL_CHECK_OUTPUT\nprint(41)")
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    nb.cells[0].execution_count = 1
    nbformat.write(nb, project.path / "notebooks" / "02_drift.ipynb")
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(failed=1)
    assert not (project.path / "executed" / "02_drift.ipynb").exists()


def test_a_failing_cell_stops_its_notebook_and_leaves_no_executed_copy(project):
    nbformat.write(_notebook("a = 1", "assert a == 2, 'wrong'", "print('never')"),
                   project.path / "notebooks" / "03_bad.ipynb")
    (project.path / "executed").mkdir()
    (project.path / "executed" / "03_bad.ipynb").write_text("{}")  # an older run's copy
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*AssertionError*wrong*"])
    assert not (project.path / "executed" / "03_bad.ipynb").exists()
    times = [json.loads(line) for line in (project.path / "times.jsonl").read_text().splitlines()]
    assert times == [{**times[0], "notebook": "03_bad", "complete": False}]
