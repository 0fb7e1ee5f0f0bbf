"""Write an nbgrader course (``source/<chapter>/<chapter>.ipynb``) from the chapter notebooks.

    python -m ganlib.tools.nbgrader_edition notebooks --out nbgrader-course [--chapters 02 08]

A command for instructors, not imported by the notebooks. It reads the same
exercise markup as the student edition (:func:`ganlib.tools.student.parse_exercises`)
and turns each exercise into nbgrader cells:

* an auto-checked exercise (stub, solution, ``ganlib.checks.check_*`` cell)
  becomes a *solution cell*: the stub's ``def`` line, then the solution's body
  between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, so that nbgrader's own
  ``generate_assignment`` writes the student's stub; code the solution runs
  after the function (a demonstration the exercise asks for) becomes a second
  solution cell. The check becomes a locked *autograded test cell* that runs
  the check in graded mode (:class:`ganlib.checks.graded`): the cell outputs
  ``points x passed cases / cases``, which nbgrader records as partial credit, and
  its feedback says what is wrong without the answer;
* a text exercise becomes a *manually graded answer cell* holding the model
  answer, which nbgrader replaces with "YOUR ANSWER HERE", followed by a locked
  0-point cell whose hidden region holds the model answer and a short rubric: the
  release shows neither, and autograding restores both, so the formgrader shows
  them beside each student's answer;
* points follow the exercise's difficulty: one point per star (★☆☆ = 1,
  ★★☆ = 2, ★★★ = 3; an unmarked exercise gets 1).

Everything else goes through the Colab conversion (:mod:`ganlib.tools.colab`: no MyST,
citations and cross-references as links, the setup cell pinned to this release and
switching graded mode on), except cells the student edition removes as well (tagged
``student-remove`` or ``solution``). The course folder also gets an
``nbgrader_config.py`` (absolute root, exchange root, course id, the quick profile
and graded mode pinned, a cell timeout from measured quick times, and two checks:
a student-edition notebook submitted in place of the release, and a kernel that
dies, are reported instead of graded 0); see the instructors' page.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat

from . import colab
from .student import STUDENT_REMOVE, Exercise, parse_exercises

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
DEF = re.compile(r"^(?:async\s+)?def\s+(\w+)\s*\(")
IMPORT = re.compile(r"^(?:import\s|from\s+\S+\s+import\s)")

CONFIG = """\
# nbgrader configuration of the GAN course, written by `python -m ganlib.tools.nbgrader_edition`
# (ganlib {version}). Edit the three values marked EDIT; the rest follows the course.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}  # absolute: nbgrader warns on every command otherwise
c.CourseDirectory.course_id = os.environ.get("GANLIB_COURSE_ID", {course_id!r})  # EDIT (or set GANLIB_COURSE_ID)
# EDIT: the exchange folder shared by the hub's users (an absolute path every user can write to)
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
# EDIT (hub only): the group whose members may grade
# c.Exchange.path_includes_course = True

# Grade in the quick profile, in graded mode: chapters run in seconds on a CPU, and the
# checks score partial credit without printing answers. The kernels inherit these.
os.environ["GANLIB_PROFILE"] = "quick"
os.environ["GANLIB_GRADED"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# Seconds per cell: {factor} x the longest quick-profile cell measured in any chapter
# (benchmarks/quick_cell_times.json). A cell that runs longer is interrupted and scores 0.
c.ExecutePreprocessor.timeout = {timeout}
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True

# A student-edition (Colab) notebook submitted in place of the release, and a kernel that dies,
# stop that submission's autograding with a message instead of a silent 0.
try:
    from ganlib.tools.nbgrader_edition import KernelDeathReport, RequireRelease
    from nbgrader.converters.autograde import Autograde

    defaults = Autograde.class_traits()
    c.Autograde.sanitize_preprocessors = [RequireRelease] + defaults["sanitize_preprocessors"].default()
    c.Autograde.autograde_preprocessors = [KernelDeathReport if p.__name__ == "Execute" else p
                                           for p in defaults["autograde_preprocessors"].default()]
except ImportError:  # ganlib or nbgrader missing here: plain nbgrader behaviour
    pass
"""


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


def exercise_prompt(exercise: Exercise, source: str, book: colab.Book | None = None, page: str = "") -> str:
    """The exercise cell as the Colab edition shows it, with its points and how it is graded."""
    book = book or colab.Book()
    points = points_for(exercise)
    kind = "autograded, partial credit per case" if exercise.auto_checked else "graded by hand"
    return colab.exercise_markdown(exercise, source, book, page or f"notebooks/{exercise.notebook}",
                                   extra=f"{points} point{'s' if points > 1 else ''}, {kind}")


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
    """The locked, autograded cell: the chapter's check in graded mode, scored per case."""
    points = points_for(exercise)
    check = exercise.check.source.strip("\n")
    source = (f"# Autograded ({points} point{'s' if points > 1 else ''}, partial credit: points x cases passed / "
              "cases).\n# Run it: it says which cases fail and what came back, not the answers.\n"
              f"with ganlib.checks.graded(points={points}) as grade:\n"
              + "\n".join("    " + line if line.strip() else "" for line in check.splitlines())
              + "\ngrade.score")
    grade_id = f"{exercise.label}-check"
    return _code(source, grade_id, _meta(grade_id, grade=True, solution=False, locked=True, points=points))


def rubric(exercise: Exercise) -> str:
    """A short rubric for a written exercise, from its points."""
    points = points_for(exercise)
    lines = [f"{points}: the model answer's key steps, each correct and justified"]
    if points >= 2:
        lines.append(f"{points / 2:g}: the right idea, with one gap or one error in the argument")
    lines.append("0: missing, or the wrong idea")
    return "\n".join(f"- {line}" for line in lines)


def model_answer_cell(exercise: Exercise, answer: str, code: str = "") -> nbformat.NotebookNode:
    """A locked 0-point cell whose hidden region holds the model answer and rubric: not in the
    release, restored by autograding, so the formgrader shows it beside the student's answer."""
    text = (f"MODEL ANSWER ({exercise.label})\n\n{answer.strip()}"
            + (f"\n\nCode of the model answer:\n\n{code.strip()}" if code.strip() else "")
            + f"\n\nRUBRIC ({points_for(exercise)} points)\n{rubric(exercise)}")
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    cell_id = f"{exercise.label}-rubric"
    source = ("# For the grader: the model answer and rubric, shown in the formgrader (hidden in the release).\n"
              f'### BEGIN HIDDEN TESTS\n_model_answer = """\n{text}\n"""\n### END HIDDEN TESTS')
    return _code(source, cell_id, _meta(cell_id, grade=True, solution=False, locked=True, points=0))


def text_answer_cells(exercise: Exercise, book: colab.Book | None = None) -> list[nbformat.NotebookNode]:
    """A text exercise: a manually graded answer cell, then the model answer and rubric for the grader."""
    book = book or colab.Book()
    points = points_for(exercise)
    answer_id = f"{exercise.label}-answer"
    markdown = colab.solution_markdown(exercise.solution, book, f"notebooks/{exercise.notebook}")
    code = "\n\n\n".join(c.source.strip("\n") for c in exercise.solution if c.cell_type == "code")
    cells = [_markdown(markdown or "(No model answer in the book: grade by the exercise's text.)", answer_id,
                       _meta(answer_id, grade=True, solution=True, locked=False, points=points))]
    if code:
        code_id = f"{exercise.label}-code"
        cells.append(_code(f"{BEGIN}\n{code}\n{END}", code_id,
                           _meta(code_id, grade=False, solution=True, locked=False)))
    cells.append(model_answer_cell(exercise, markdown or "(none in the book)", code))
    return cells


GRADED_SWITCH = 'import os\nos.environ["GANLIB_GRADED"] = "1"  # nbgrader edition: checks score, and print no answers\n'


def nbgrader_notebook(nb: nbformat.NotebookNode, name: str = "",
                      book: colab.Book | None = None) -> nbformat.NotebookNode:
    """The nbgrader source version of one chapter notebook."""
    book = book or colab.Book.from_root()
    page = f"notebooks/{name}"
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
                if colab.INSTALL.search(cell.source):  # the setup cell: this release, graded mode
                    cell.source = GRADED_SWITCH + colab.pin_install(cell.source, book)
            else:
                cell.source = colab.convert_markdown(cell.source, book, page)
            cells.append(cell)
        elif kind == "exercise":
            cells.append(_markdown(exercise_prompt(ex, cell.source, book, page), f"{ex.label}-prompt"))
        elif kind == "stub" and not (ex.auto_checked and any(c.cell_type == "code" for c in ex.solution)):
            cells.append(nbformat.from_dict({**dict(cell), "outputs": [], "execution_count": None}))
        elif kind == "solution" and ex.label not in done:
            done.add(ex.label)
            cells.extend(solution_cells(ex) if ex.auto_checked else text_answer_cells(ex, book))
        elif kind == "check":
            cells.append(test_cell(ex))
    out = nbformat.from_dict(dict(nb))
    out.cells = cells
    out.metadata.pop("celltoolbar", None)
    out.metadata["ganlib"] = {"edition": "nbgrader", "version": book.version, "chapter": name}
    return out


def course_config(course_dir: str | Path, course_id: str = "gan-course", timeout: int | None = None) -> str:
    """The text of the course's ``nbgrader_config.py``."""
    from .. import __version__
    return CONFIG.format(version=__version__, root=str(Path(course_dir).resolve()), course_id=course_id,
                         factor=TIMEOUT_FACTOR, timeout=timeout or cell_timeout())


def write_course(notebooks: list[str | Path], course_dir: str | Path, course_id: str = "gan-course",
                 timeout: int | None = None) -> list[Path]:
    """Write ``source/<stem>/<stem>.ipynb`` for each notebook, and ``nbgrader_config.py``
    (kept when it exists: the instructor's edits win)."""
    course_dir = Path(course_dir)
    if not notebooks:
        raise FileNotFoundError("no chapter notebooks given")
    notebooks = [Path(p) for p in notebooks]
    book = colab.Book.from_root(notebooks_dir=notebooks[0].parent)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        target = course_dir / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbgrader_notebook(nb, path.stem, book), target)
        written.append(target)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(course_config(course_dir, course_id, timeout))
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
    parser.add_argument("--course-id", default="gan-course", help="nbgrader's course_id (the hub's course name)")
    parser.add_argument("--measure", action="store_true",
                        help=f"run every chapter's nbgrader source in the quick profile and write {TIMES}")
    args = parser.parse_args(argv)
    if args.measure:
        measure_quick_times(chapter_notebooks(args.notebooks, args.chapters))
        return
    for path in write_course(chapter_notebooks(args.notebooks, args.chapters), args.out, args.course_id):
        print(f"wrote {path}")
    print(f"next: cd {args.out} && nbgrader generate_assignment <chapter>")


# --- the cell timeout, from measured quick-profile times -------------------------------------
TIMES = Path("benchmarks") / "quick_cell_times.json"
TIMEOUT_FACTOR, TIMEOUT_MIN = 10, 60  # headroom for a busy shared hub; never below a minute


def _cell_seconds(cell) -> float | None:
    from datetime import datetime
    meta = cell.get("metadata", {}).get("execution", {})
    start, end = meta.get("iopub.execute_input"), meta.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def measure_quick_times(notebooks: list[Path], out: str | Path = TIMES) -> dict:
    """Run each chapter's nbgrader source in the quick profile (strict checks, so the
    solutions run as a full-marks submission would) and write its longest cell and total."""
    import json
    import os
    import platform
    import time

    from nbclient import NotebookClient

    env = dict(os.environ, GANLIB_PROFILE="quick", MPLBACKEND="Agg", OMP_NUM_THREADS="1", GANLIB_STRICT_CHECKS="1")
    chapters = {}
    for path in notebooks:
        nb = nbgrader_notebook(nbformat.read(path, as_version=4), path.stem)
        start = time.perf_counter()
        NotebookClient(nb, timeout=1200, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute(env=env)
        seconds = [s for s in map(_cell_seconds, nb.cells) if s is not None]
        chapters[path.stem] = {"longest_cell_s": round(max(seconds), 2),
                               "total_s": round(time.perf_counter() - start, 1)}
        print(f"{path.stem}: longest cell {max(seconds):.1f} s, {chapters[path.stem]['total_s']} s in all")
    record = {"what": "the nbgrader source of each chapter run in the quick profile (python -m "
                      "ganlib.tools.nbgrader_edition notebooks --measure): longest cell and whole notebook",
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, one torch thread", "chapters": chapters}
    Path(out).write_text(json.dumps(record, indent=1) + "\n")
    return record


def cell_timeout(times: str | Path = TIMES) -> int:
    """Seconds per cell for autograding: TIMEOUT_FACTOR x the longest measured quick cell."""
    import json
    import math

    path = Path(times) if Path(times).is_absolute() else Path(__file__).resolve().parents[3] / times
    if not path.is_file():
        return 600
    longest = max(c["longest_cell_s"] for c in json.loads(path.read_text())["chapters"].values())
    return max(TIMEOUT_MIN, int(math.ceil(TIMEOUT_FACTOR * longest / 30.0)) * 30)


# --- nbgrader preprocessors the course's config installs ------------------------------------
PROBLEMS = "autograde_problems.txt"  # in the folder nbgrader runs in (the course root)


def _who(resources: dict) -> str:
    info = resources.get("nbgrader", {})
    return f"student {info.get('student', '?')}, assignment {info.get('assignment', '?')}, " \
           f"notebook {info.get('notebook', '?')}"


def _report(message: str) -> None:
    with open(PROBLEMS, "a") as log:
        log.write(message.replace("\n", " ") + "\n")


def release_problem(nb: nbformat.NotebookNode) -> str | None:
    """Why ``nb`` cannot be autograded as a release of this course (None when it can)."""
    edition = nb.metadata.get("ganlib", {}).get("edition")
    graded_cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    if edition in colab.EDITIONS or (not graded_cells and edition != "nbgrader"):
        return (f"this is the {edition or 'book'} edition of the chapter, not the nbgrader release: it has no "
                "graded cells, so autograding would score it 0. Ask the student to fetch the assignment "
                "(nbgrader's Assignments tab or `nbgrader fetch_assignment`), copy their answers into it "
                "and submit that; or grade this notebook by hand")
    return None


try:
    from nbclient.exceptions import DeadKernelError
    from nbgrader.preprocessors import Execute, NbGraderPreprocessor
except ImportError:  # nbgrader is an instructor's tool, not a dependency of ganlib
    pass
else:
    class RequireRelease(NbGraderPreprocessor):
        """Stop autograding, with a message, when a submission is not the nbgrader release."""

        def preprocess(self, nb, resources):
            problem = release_problem(nb)
            if problem:
                message = f"NOT GRADED ({_who(resources)}): {problem}"
                _report(message)
                raise ValueError(message)
            return nb, resources

    class KernelDeathReport(Execute):
        """nbgrader's Execute, except that a kernel that dies stops the submission with a report
        (which cell, what to do) instead of a notebook exported as 0 with no flag."""

        def preprocess_cell(self, cell, resources, index):
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError as err:
                where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
                message = (f"KERNEL DIED ({_who(resources)}) while running {where}: the student's code crashed "
                           "the Python process (os._exit, a segfault, or out of memory). The submission is NOT "
                           "graded; run it by hand, or grade it manually in the formgrader")
                _report(message)
                raise RuntimeError(message) from err


if __name__ == "__main__":
    main()
