"""Write an nbgrader course (``source/<chapter>/<chapter>.ipynb``) from the chapter notebooks.

    python -m ganlib.nbgrader_edition notebooks --out nbgrader-course [--chapters 02 08]

A command for instructors, not imported by the notebooks. It reads the same
exercise markup as the student edition (:func:`ganlib.student.parse_exercises`)
and turns each exercise into nbgrader cells:

* an auto-checked exercise (stub, solution, ``ganlib.checks.check_*`` cell)
  becomes a *solution cell*: the stub's ``def`` line, then the solution's body
  between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, so that nbgrader's own
  ``generate_assignment`` writes the student's stub; code the solution runs
  after the function (a demonstration the exercise asks for) becomes a second
  solution cell. The check becomes a locked *autograded test cell* that runs
  the check in strict mode, so any failed case fails the cell;
* a text exercise becomes a *manually graded answer cell* holding the model
  answer, which nbgrader replaces with "YOUR ANSWER HERE";
* points follow the exercise's difficulty: one point per star (★☆☆ = 1,
  ★★☆ = 2, ★★★ = 3; an unmarked exercise gets 1).

Everything else in the chapter is kept as it is (outputs cleared), except
cells the student edition removes as well (tagged ``student-remove`` or
``solution``). The course folder also gets an ``nbgrader_config.py``; see the
instructors' page for ``nbgrader generate_assignment``, ``autograde`` and the
formgrader.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat

from .student import EXERCISE, STUDENT_REMOVE, Exercise, parse_exercises

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
DEF = re.compile(r"^(?:async\s+)?def\s+(\w+)\s*\(")
IMPORT = re.compile(r"^(?:import\s|from\s+\S+\s+import\s)")

CONFIG = '''\
# nbgrader configuration of the GAN course, written by `python -m ganlib.nbgrader_edition`.
# Grade with the quick profile (every chapter runs in seconds on a CPU) and strict checks:
#   GANLIB_PROFILE=quick nbgrader autograde <chapter>
c = get_config()  # noqa: F821
c.CourseDirectory.root = "."
c.CourseDirectory.course_id = "gan-course"
c.ExecutePreprocessor.timeout = 600  # seconds per cell: a chapter's longest cell, quick profile
c.Execute.interrupt_on_timeout = True
'''


def points_for(exercise: Exercise) -> int:
    """Points of an exercise: one per star of difficulty (1 when it is not marked)."""
    return exercise.stars or 1


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(source: str, cell_id: str, metadata: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    cell.id = cell_id
    return cell


def _markdown(source: str, cell_id: str, metadata: dict | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source, metadata=metadata or {})
    cell.id = cell_id
    return cell


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _strip_directive(source: str) -> str:
    """The inside of a ``{solution}`` / ``{exercise}`` directive: no fences, no options."""
    lines = source.strip("\n").splitlines()
    if lines and re.match(r"^\s*(```+|:::+)\s*\{", lines[0]):
        lines = lines[1:]
    if lines and re.match(r"^\s*(```+|:::+)\s*$", lines[-1]):
        lines = lines[:-1]
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def exercise_prompt(exercise: Exercise, source: str) -> str:
    """The exercise cell as plain Markdown (Jupyter does not render MyST directives)."""
    match = EXERCISE.search(source)
    before = source[:match.start()].strip("\n") if match else ""
    body = _strip_directive(source[match.start():]) if match else source
    points = points_for(exercise)
    title = exercise.title.replace("(auto-checked)", "").strip()
    kind = "autograded" if exercise.auto_checked else "graded by hand"
    head = f"### Exercise: {title}\n\n*{points} point{'s' if points > 1 else ''}, {kind}.*\n\n"
    return (before + "\n\n" if before else "") + head + body


def _function_parts(code: str, name: str):
    """Split solution code around ``def name(...)``: (preamble, header, body, rest), or None."""
    lines = code.splitlines()
    start = next((i for i, line in enumerate(lines) if (m := DEF.match(line)) and m.group(1) == name), None)
    if start is None:
        return None
    end = start
    while not lines[end].rstrip().endswith(":"):  # a signature over several lines
        end += 1
        if end == len(lines):
            return None
    stop = end + 1
    while stop < len(lines) and (not lines[stop].strip() or lines[stop].startswith((" ", "\t"))):
        stop += 1
    body = lines[end + 1:stop]
    while body and not body[-1].strip():
        body.pop()
    return lines[:start], lines[start:end + 1], body, lines[stop:]


def _docstring_lines(body: list[str]) -> int:
    """How many of the first lines of a function body are its docstring (0 if none)."""
    if not body or not body[0].strip().startswith(('"""', "'''")):
        return 0
    quote = body[0].strip()[:3]
    if body[0].strip().count(quote) >= 2 and len(body[0].strip()) > 3:
        return 1
    for i in range(1, len(body)):
        if quote in body[i]:
            return i + 1
    return 0


def solution_cells(exercise: Exercise) -> list[nbformat.NotebookNode]:
    """The nbgrader solution cell(s) of an auto-checked exercise."""
    code = "\n\n\n".join(c.source.strip("\n") for c in exercise.solution if c.cell_type == "code")
    stub = "\n".join(c.source for c in exercise.stub)
    name = next((m.group(1) for line in stub.splitlines() if (m := DEF.match(line))), None)
    parts = _function_parts(code, name) if name else None
    answer_id = f"{exercise.label}-answer"
    meta = _meta(answer_id, grade=False, solution=True, locked=False)
    if parts is None or any(line.strip() and not IMPORT.match(line) for line in parts[0]):
        # no function to keep the signature of: the whole solution is the region
        return [_code(f"{BEGIN}\n{code}\n{END}", answer_id, meta)]
    preamble, header, body, rest = parts
    stub_parts = _function_parts(stub, name)
    if stub_parts is None or [h.strip() for h in stub_parts[1]] != [h.strip() for h in header]:
        # the solution's signature differs from the stub's: name the stub's, keep the solution whole
        signature = " ".join(h.strip() for h in (stub_parts[1] if stub_parts else [f"def {name}(...):"]))
        return [_code(f"# Write: {signature}\n{BEGIN}\n{code}\n{END}", answer_id, meta)]
    shown = stub_parts[1] + stub_parts[2][:_docstring_lines(stub_parts[2])]
    body = body[_docstring_lines(body):] if _docstring_lines(stub_parts[2]) else body
    inner = _indent(next((line for line in body if line.strip()), "    "))
    imports = [inner + line for line in preamble if line.strip()]
    source = "\n".join(shown + [inner + BEGIN] + imports + body + [inner + END])
    cells = [_code(source, answer_id, meta)]
    rest = "\n".join(rest).strip("\n")
    if rest:
        rest_id = f"{exercise.label}-answer-2"
        cells.append(_code(f"{BEGIN}\n{rest}\n{END}", rest_id,
                           _meta(rest_id, grade=False, solution=True, locked=False)))
    return cells


def test_cell(exercise: Exercise) -> nbformat.NotebookNode:
    """The locked, autograded cell: the chapter's check, in strict mode (a miss raises)."""
    points = points_for(exercise)
    check = exercise.check.source.strip("\n")
    source = (f"# Autograded ({points} point{'s' if points > 1 else ''}): the chapter's check in strict\n"
              "# mode, so any failed case fails this cell. Run it to see what is checked.\n"
              "from unittest import mock\n\n"
              'with mock.patch.dict("os.environ", {"GANLIB_STRICT_CHECKS": "1"}):\n'
              + "\n".join("    " + line if line.strip() else "" for line in check.splitlines()))
    grade_id = f"{exercise.label}-check"
    return _code(source, grade_id, _meta(grade_id, grade=True, solution=False, locked=True, points=points))


def text_answer_cells(exercise: Exercise) -> list[nbformat.NotebookNode]:
    """A text exercise's model answer as a manually graded cell (Markdown, or code if it is code)."""
    points = points_for(exercise)
    answer_id = f"{exercise.label}-answer"
    markdown = "\n\n".join(t for t in (_strip_directive(c.source) for c in exercise.solution
                                       if c.cell_type == "markdown") if t.strip())
    code = "\n\n\n".join(c.source.strip("\n") for c in exercise.solution if c.cell_type == "code")
    cells = []
    if markdown:
        cells.append(_markdown(markdown, answer_id,
                               _meta(answer_id, grade=True, solution=True, locked=False, points=points)))
    if code:
        code_id = f"{exercise.label}-code"
        graded = not markdown  # a code-only answer carries the points itself
        cells.append(_code(f"{BEGIN}\n{code}\n{END}", code_id,
                           _meta(code_id, grade=graded, solution=True, locked=False,
                                 points=points if graded else None)))
    if not cells:  # an exercise without a written solution still gets an answer cell
        cells.append(_markdown("(No model answer in the book: grade by the exercise's text.)", answer_id,
                               _meta(answer_id, grade=True, solution=True, locked=False, points=points)))
    return cells


def nbgrader_notebook(nb: nbformat.NotebookNode, name: str = "") -> nbformat.NotebookNode:
    """The nbgrader source version of one chapter notebook."""
    exercises = parse_exercises(nb, name)
    role = {}
    for ex in exercises:
        role[id(nb.cells[ex.index])] = ("exercise", ex)
        role.update({id(c): ("stub", ex) for c in ex.stub})
        role.update({id(c): ("solution", ex) for c in ex.solution})
        if ex.check is not None:
            role[id(ex.check)] = ("check", ex)
    cells, done = [], set()
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if STUDENT_REMOVE in tags or "solution" in tags:
            continue
        kind, ex = role.get(id(cell), (None, None))
        if kind is None:
            cell = nbformat.from_dict(dict(cell))
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            cells.append(cell)
        elif kind == "exercise":
            cells.append(_markdown(exercise_prompt(ex, cell.source), f"{ex.label}-prompt"))
        elif kind == "stub" and not (ex.auto_checked and any(c.cell_type == "code" for c in ex.solution)):
            cells.append(nbformat.from_dict({**dict(cell), "outputs": [], "execution_count": None}))
        elif kind == "solution" and ex.label not in done:
            done.add(ex.label)
            cells.extend(solution_cells(ex) if ex.auto_checked else text_answer_cells(ex))
        elif kind == "check":
            cells.append(test_cell(ex))
    out = nbformat.from_dict(dict(nb))
    out.cells = cells
    out.metadata.pop("celltoolbar", None)
    return out


def write_course(notebooks: list[str | Path], course_dir: str | Path) -> list[Path]:
    """Write ``source/<stem>/<stem>.ipynb`` for each notebook, and ``nbgrader_config.py``."""
    course_dir = Path(course_dir)
    if not notebooks:
        raise FileNotFoundError("no chapter notebooks given")
    written = []
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        target = course_dir / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbgrader_notebook(nb, path.stem), target)
        written.append(target)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG)
    return written


def chapter_notebooks(notebooks_dir: str | Path, chapters=None) -> list[Path]:
    """Chapter notebooks with at least one exercise; ``chapters``: number prefixes ("02") or stems."""
    paths = sorted(Path(notebooks_dir).glob("*.ipynb"))
    if chapters:
        paths = [p for p in paths if any(p.stem == c or p.stem.split("_")[0] == c for c in chapters)]
    paths = [p for p in paths if parse_exercises(nbformat.read(p, as_version=4), p.stem)]
    if not paths:
        raise FileNotFoundError(f"no chapter notebooks with exercises in {notebooks_dir}"
                                + (f" matching {list(chapters)}" if chapters else ""))
    return paths


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", help="folder of chapter notebooks")
    parser.add_argument("--out", default="nbgrader-course", help="the nbgrader course folder")
    parser.add_argument("--chapters", nargs="*", help="chapter numbers (02 08) or notebook names; default: all")
    args = parser.parse_args(argv)
    for path in write_course(chapter_notebooks(args.notebooks, args.chapters), args.out):
        print(f"wrote {path}")
    print(f"next: cd {args.out} && GANLIB_PROFILE=quick nbgrader generate_assignment <chapter>")


if __name__ == "__main__":
    main()
