"""The nbgrader edition: every chapter converts to valid nbgrader cells, and one
chapter goes through nbgrader's own generate_assignment and autograde.

The round trip (about 30 s: two notebook executions) generates chapter 2's
assignment into a temporary course folder, autogrades two submissions, the
solution (full marks on every autograded cell) and the unedited release (zero
on every autograded cell), reads the scores from nbgrader's gradebook, and
checks that the release shows no line of any solution.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ganlib.nbgrader_edition import BEGIN, END, chapter_notebooks, nbgrader_notebook, points_for, write_course
from ganlib.student import parse_exercises

nbgrader = pytest.importorskip("nbgrader", reason="nbgrader is in requirements.txt")
from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.nbgraderformat import MetadataValidator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "02_minimax_objective"


def graded(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


@pytest.mark.parametrize("path", chapter_notebooks(ROOT / "notebooks"), ids=lambda p: p.stem)
def test_every_exercise_becomes_nbgrader_cells(path):
    nb = nbformat.read(path, as_version=4)
    exercises = parse_exercises(nb, path.stem)
    out = nbgrader_notebook(nb, path.stem)
    MetadataValidator().validate_nb(out)  # nbgrader's own rules: ids, points, markdown answers graded
    cells = graded(out)
    for ex in exercises:
        if ex.auto_checked:
            answer, check = cells[f"{ex.label}-answer"], cells[f"{ex.label}-check"]
            assert answer.metadata["nbgrader"]["solution"] and BEGIN in answer.source and END in answer.source
            meta = check.metadata["nbgrader"]
            assert meta["grade"] and meta["locked"] and not meta["solution"]
            assert meta["points"] == points_for(ex) == (ex.stars or 1)
            assert f"ganlib.checks.{ex.check_name}(" in check.source and '"GANLIB_STRICT_CHECKS": "1"' in check.source
        else:
            meta = cells[f"{ex.label}-answer"].metadata["nbgrader"]
            assert meta["grade"] and meta["solution"] and meta["points"] == points_for(ex)
    text = "\n".join(c.source for c in out.cells)
    assert "{solution" not in text and "{exercise}" not in text  # MyST directives turned into plain cells
    assert all(c.get("outputs", []) == [] for c in out.cells)


def run_nbgrader(course, *args):
    env = {**os.environ, "GANLIB_PROFILE": "quick", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           # nbgrader runs its `alembic` script from PATH: the one beside this Python
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def public_lines(cells):
    return {line.strip() for c in cells for line in c.source.splitlines() if line.strip()}


def test_nbgrader_round_trip_full_marks_for_the_solution_zero_for_the_stub(tmp_path):
    course = tmp_path / "course"
    [source] = write_course([ROOT / "notebooks" / f"{CHAPTER}.ipynb"], course)
    run_nbgrader(course, "generate_assignment", CHAPTER)
    release = course / "release" / CHAPTER / f"{CHAPTER}.ipynb"

    # The release (what students get) holds no line of any solution: every line of the
    # chapter's solution cells that is not also in its public cells (a stub's def line).
    chapter = nbformat.read(ROOT / "notebooks" / f"{CHAPTER}.ipynb", as_version=4)
    exercises = parse_exercises(chapter, CHAPTER)
    solution_cells = [c for ex in exercises for c in ex.solution]
    hidden = {id(c) for c in solution_cells}
    secret = public_lines(solution_cells) - public_lines([c for c in chapter.cells if id(c) not in hidden])
    secret = {line for line in secret if not line.startswith(("```", ":class:")) and len(line) > 3}
    released = nbformat.read(release, as_version=4)
    assert secret and not secret & public_lines(released.cells), sorted(secret & public_lines(released.cells))
    assert "raise NotImplementedError()" in "\n".join(c.source for c in released.cells)

    for student, notebook in (("solution", source), ("stub", release)):
        target = course / "submitted" / student / CHAPTER
        target.mkdir(parents=True)
        shutil.copy(notebook, target)
    run_nbgrader(course, "autograde", CHAPTER)

    auto_checked = {f"{ex.label}-check": points_for(ex) for ex in exercises if ex.auto_checked}
    assert len(auto_checked) >= 2
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student, full in (("solution", True), ("stub", False)):
            [notebook] = gb.find_submission(CHAPTER, student).notebooks
            scores = {g.name: (g.auto_score, g.max_score) for g in notebook.grades if g.name in auto_checked}
            assert {name: s[1] for name, s in scores.items()} == auto_checked
            want = {name: (points if full else 0.0) for name, points in auto_checked.items()}
            assert {name: s[0] for name, s in scores.items()} == want, (student, scores)
