"""Write the student edition of the chapter notebooks: the same notebooks with
every solution removed.

    python -m ganlib.tools.student notebooks/ --out student/

The edition is the Colab conversion (:mod:`ganlib.tools.colab`: no MyST left, exercises as
numbered headings, an answer cell under every written exercise, the setup cell
pinned to this release) with the solutions removed as below.

Removed: markdown cells holding a ``{solution}`` directive, everything from a
``{solution-start}`` cell to its ``{solution-end}`` cell (inclusive), code
cells tagged ``solution``, and cells tagged ``student-remove`` (a reference
implementation the text shows before the exercise that asks for it, e.g.
``ganlib.show_source(slerp)`` ahead of "Implement slerp"). Outputs are
cleared too.

:func:`parse_exercises` reads the same markup into one record per exercise
(label, title, difficulty, time, stub, solution and check cells); the exercise
list for instructors (``python -m ganlib.tools.exercises``) and other editions are
built from it.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SOLUTION = re.compile(r"^\s*(```+|:::+)\s*\{solution\}", re.M)
SOLUTION_START = re.compile(r"^\s*(```+|:::+)\s*\{solution-start\}", re.M)
SOLUTION_END = re.compile(r"^\s*(```+|:::+)\s*\{solution-end\}", re.M)
EXERCISE = re.compile(r"^\s*(```+|:::+)\s*\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?P<body>.*)", re.M | re.S)
LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
SOLUTION_LABEL = re.compile(r"\{solution(?:-start)?\}\s+(\S+)")
# The first line of an exercise's body: its difficulty (one to three stars) and time.
DIFFICULTY = re.compile(r"^\s*(?P<stars>[★☆]{3})\s*·\s*(?P<minutes>\d+)\s*min\b", re.M)
CHECK_CALL = re.compile(r"\bganlib\.checks\.(check_\w+)\(")
STUDENT_REMOVE = "student-remove"


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def strip_solutions(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return (student notebook, number of cells removed)."""
    kept, removed, inside = [], 0, False
    for cell in nb.cells:
        src = cell.source
        is_md = cell.cell_type == "markdown"
        if is_md and SOLUTION_START.search(src):
            if inside:
                raise ValueError("a {solution-start} opens before the previous one was closed")
            inside = True
        if (inside or (is_md and SOLUTION.search(src)) or "solution" in _tags(cell)
                or STUDENT_REMOVE in _tags(cell)):
            removed += 1
            if is_md and SOLUTION_END.search(src):
                inside = False
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        kept.append(cell)
    if inside:
        raise ValueError("a {solution-start} is never closed by {solution-end}")
    student = nbformat.from_dict(dict(nb))
    student.cells = kept
    return student, removed


@dataclass
class Exercise:
    """One exercise of a notebook, as the markup describes it."""

    notebook: str
    label: str
    title: str
    stars: int | None          # difficulty, 1 to 3 (None: not marked)
    minutes: int | None        # estimated time (None: not marked)
    index: int                 # position of the exercise cell in the notebook
    stub: list = field(default_factory=list)       # code cells between exercise and solution
    solution: list = field(default_factory=list)   # the solution's cells (markdown and code)
    check: object | None = None                    # the check cell (code), if auto-checked

    @property
    def auto_checked(self) -> bool:
        return self.check is not None

    @property
    def check_name(self) -> str | None:
        match = CHECK_CALL.search(self.check.source) if self.check is not None else None
        return match.group(1) if match else None

    @property
    def difficulty(self) -> str:
        return "★" * self.stars + "☆" * (3 - self.stars) if self.stars else "?"


def parse_exercises(nb: nbformat.NotebookNode, notebook: str = "") -> list[Exercise]:
    """Every exercise of ``nb`` in order, with its stub, solution and check cells.

    An exercise runs from its ``{exercise}`` cell to the next exercise (or the end):
    code cells before its solution are the stub; its ``{solution}`` cell or the
    cells from ``{solution-start}`` to ``{solution-end}`` are the solution; a code
    cell after the solution that calls ``ganlib.checks.check_*`` is the check.
    """
    exercises: list[Exercise] = []
    current, inside = None, False
    for i, cell in enumerate(nb.cells):
        src, is_md = cell.source, cell.cell_type == "markdown"
        match = EXERCISE.search(src) if is_md else None
        if match and not inside:
            label = LABEL.search(match.group("body"))
            diff = DIFFICULTY.search(match.group("body"))
            current = Exercise(notebook=notebook, label=label.group(1) if label else "",
                               title=match.group("title").strip(),
                               stars=diff.group("stars").count("★") if diff else None,
                               minutes=int(diff.group("minutes")) if diff else None, index=i)
            exercises.append(current)
            continue
        if current is None:
            continue
        if is_md and SOLUTION_START.search(src):
            inside = True
        if inside or (is_md and SOLUTION.search(src)):
            current.solution.append(cell)
            if is_md and SOLUTION_END.search(src):
                inside = False
            continue
        if cell.cell_type == "code":
            if CHECK_CALL.search(src) and current.check is None:
                current.check = cell
            elif not current.solution and current.check is None:
                current.stub.append(cell)
    return exercises


def read_exercises(path: str | Path) -> list[Exercise]:
    """:func:`parse_exercises` of the notebook at ``path``."""
    path = Path(path)
    return parse_exercises(nbformat.read(path, as_version=4), notebook=path.stem)


def write_student_edition(src_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """The student edition of every notebook under ``src_dir``, written to ``out_dir``
    (:func:`ganlib.tools.colab.write_edition` with ``edition="student"``); returns the files written."""
    from .colab import write_edition  # the colab module builds on this one's parser

    return write_edition(src_dir, out_dir, edition="student")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", help="folder of chapter notebooks")
    parser.add_argument("--out", default="student", help="folder for the student edition")
    args = parser.parse_args(argv)
    for path in write_student_edition(args.notebooks, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
