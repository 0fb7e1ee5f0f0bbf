"""The nbgrader edition: every chapter converts to valid nbgrader cells, and three
chapters go through nbgrader's own generate_assignment and autograde.

The round trip generates chapters 1-3 into a temporary course folder (its generated
nbgrader_config.py, quick profile and graded mode pinned), autogrades nine
submissions (each chapter's solution; for chapter 2 the unedited release, a partly
right answer, one that times out, one whose kernel dies and a student-edition
notebook; for chapter 3 an answer that calls the forbidden ganlib.games), reads the
scores from nbgrader's gradebook, and checks that the release shows no line of any
solution, model answer or rubric.
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import ganlib
from ganlib.tools.colab import myst_left
from ganlib.tools.nbgrader_edition import BEGIN, END, chapter_notebooks, nbgrader_notebook, points_for, write_course
from ganlib.tools.student import parse_exercises

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
            assert f"ganlib.checks.{ex.check_name}(" in check.source
            assert f"ganlib.checks.graded(points={points_for(ex)})" in check.source  # partial credit per case
            assert check.source.rstrip().endswith("grade.score")
        else:
            meta = cells[f"{ex.label}-answer"].metadata["nbgrader"]
            assert meta["grade"] and meta["solution"] and meta["points"] == points_for(ex)
            rubric = cells[f"{ex.label}-rubric"]  # model answer and rubric, for the formgrader only
            assert rubric.metadata["nbgrader"]["locked"] and rubric.metadata["nbgrader"]["points"] == 0
            assert "### BEGIN HIDDEN TESTS" in rubric.source and "RUBRIC" in rubric.source
    text = "\n".join(c.source for c in out.cells)
    assert "{solution" not in text and "{exercise}" not in text  # MyST directives turned into plain cells
    assert myst_left(out) == []
    assert all(c.get("outputs", []) == [] for c in out.cells)


def run_nbgrader(course, *args, check=True):
    env = {**os.environ, "GANLIB_PROFILE": "quick", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           # nbgrader runs its `alembic` script from PATH: the one beside this Python
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("GANLIB_STRICT_CHECKS", None)
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course, env=env,
                            capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, output[-3000:]
    return result.returncode, output


def public_lines(cells):
    return {line.strip() for c in cells for line in c.source.splitlines() if line.strip()}


def submit(course, student, chapter, nb):
    target = course / "submitted" / student / chapter
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{chapter}.ipynb")


def answered(release, answers):
    """The release with some answer cells (by grade_id) filled in, as a student would."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


CHAPTERS = ["01_generative_models_and_the_gan_idea", CHAPTER, "03_nash_equilibrium_and_training_dynamics"]
TIMEOUT = 25  # seconds per cell in this test's course: long enough for any quick cell here, short to wait for


def test_nbgrader_round_trip(tmp_path):
    """Three chapters through generate_assignment and autograde: full marks for the solutions, zero
    for the unedited release, partial credit, a forbidden helper, a submission that times out, one
    whose kernel dies and a student-edition notebook (both reported, not graded 0); model answers
    and rubrics reach the graded notebooks but not the release."""
    from ganlib.tools.colab import write_edition

    course = tmp_path / "course"
    sources = write_course([ROOT / "notebooks" / f"{c}.ipynb" for c in CHAPTERS], course, course_id="gan-test",
                           timeout=TIMEOUT)
    config = (course / "nbgrader_config.py").read_text()
    assert f"c.CourseDirectory.root = {str(course.resolve())!r}" in config and "gan-test" in config
    assert 'os.environ["GANLIB_PROFILE"] = "quick"' in config and "c.Exchange.root" in config
    for chapter in CHAPTERS:
        run_nbgrader(course, "generate_assignment", chapter)
    release = {c: course / "release" / c / f"{c}.ipynb" for c in CHAPTERS}

    # The release (what students get) holds no line of any solution, no model answer, no rubric.
    chapter = nbformat.read(ROOT / "notebooks" / f"{CHAPTER}.ipynb", as_version=4)
    exercises = parse_exercises(chapter, CHAPTER)
    solution_cells = [c for ex in exercises for c in ex.solution]
    hidden = {id(c) for c in solution_cells}
    secret = public_lines(solution_cells) - public_lines([c for c in chapter.cells if id(c) not in hidden])
    secret = {line for line in secret if not line.startswith(("```", ":class:")) and len(line) > 3}
    released = nbformat.read(release[CHAPTER], as_version=4)
    assert secret and not secret & public_lines(released.cells), sorted(secret & public_lines(released.cells))
    released_text = "\n".join(c.source for c in released.cells)
    assert "raise NotImplementedError()" in released_text
    assert "MODEL ANSWER" not in released_text and "RUBRIC" not in released_text
    assert f"@v{ganlib.__version__}" in released_text and 'os.environ["GANLIB_GRADED"] = "1"' in released_text

    for chapter_name, source in zip(CHAPTERS, sources):
        submit(course, "solution", chapter_name, nbformat.read(source, as_version=4))
    submit(course, "stub", CHAPTER, nbformat.read(release[CHAPTER], as_version=4))
    # right only where the two densities are the same: 1 of the 4 cases of check_jsd
    submit(course, "partial", CHAPTER, answered(release[CHAPTER], {
        "ch2-jsd-code-answer": "def jsd(p, q, dx):\n    return 0.0", "ch2-jsd-code-answer-2": "pass"}))
    submit(course, "slow", CHAPTER, answered(release[CHAPTER], {
        "ch2-dstar-answer": graded(nbformat.read(sources[1], as_version=4))["ch2-dstar-answer"].source,  # right
        "ch2-jsd-code-answer": "def jsd(p, q, dx):\n    import time\n    time.sleep(3600)",
        "ch2-jsd-code-answer-2": "pass"}))
    submit(course, "crash", CHAPTER, answered(release[CHAPTER], {
        "ch2-dstar-answer": "import os\nos._exit(1)"}))
    write_edition(ROOT / "notebooks", tmp_path / "student-edition", "student")
    submit(course, "colab", CHAPTER, nbformat.read(tmp_path / "student-edition" / f"{CHAPTER}.ipynb", as_version=4))
    submit(course, "forbidden", CHAPTERS[2], answered(release[CHAPTERS[2]], {
        "ch3-extragradient-answer": "def extragradient_step(x, y, lr):\n"
                                    "    return ganlib.games.extragradient_step(x, y, lr)"}))

    outputs = []
    for chapter_name in CHAPTERS:
        outputs.append(run_nbgrader(course, "autograde", chapter_name, check=False))
    code, output = outputs[1]
    assert code != 0  # two submissions of chapter 2 are not graded, and the command says so
    assert "NOT GRADED (student colab" in output and "not the nbgrader release" in output, output[-3000:]
    assert "KERNEL DIED (student crash" in output, output[-3000:]
    problems = (course / "autograde_problems.txt").read_text()
    assert "student colab" in problems and "student crash" in problems
    assert outputs[0][0] == 0 and outputs[2][0] == 0, (outputs[0][1][-2000:], outputs[2][1][-2000:])

    def scores(gb, chapter_name, student):
        [notebook] = gb.find_submission(chapter_name, student).notebooks
        return {g.name: (g.auto_score, g.max_score) for g in notebook.grades}

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for chapter_name in CHAPTERS:
            exercises = parse_exercises(nbformat.read(ROOT / "notebooks" / f"{chapter_name}.ipynb", as_version=4))
            auto = {f"{ex.label}-check": points_for(ex) for ex in exercises if ex.auto_checked}
            got = scores(gb, chapter_name, "solution")
            assert {k: got[k] for k in auto} == {k: (p, p) for k, p in auto.items()}, (chapter_name, got)
            written = [ex for ex in exercises if not ex.auto_checked]
            assert all(got[f"{ex.label}-answer"][1] == points_for(ex) for ex in written)
        stub = scores(gb, CHAPTER, "stub")
        assert stub["ch2-dstar-check"][0] == 0 and stub["ch2-jsd-code-check"][0] == 0
        partial = scores(gb, CHAPTER, "partial")
        assert partial["ch2-jsd-code-check"] == (0.5, 2.0), partial  # 2 points x 1 of 4 cases
        slow = scores(gb, CHAPTER, "slow")
        assert slow["ch2-jsd-code-check"][0] == 0 and slow["ch2-dstar-check"] == (1.0, 1.0), slow
        forbidden = scores(gb, CHAPTERS[2], "forbidden")
        assert forbidden["ch3-extragradient-check"][0] == 0, forbidden

    graded_nb = nbformat.read(course / "autograded" / "partial" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    check = next(c for c in graded_nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch2-jsd-code-check")
    feedback = "".join(o.get("text", "") for o in check.outputs)
    assert "1 of 4 checks passed" in feedback and "expected" not in feedback and "hint" not in feedback
    rubric = next(c for c in graded_nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch2-far-away-rubric")
    assert "MODEL ANSWER" in rubric.source and "RUBRIC" in rubric.source  # what the formgrader shows
    slow_nb = nbformat.read(course / "autograded" / "slow" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    assert "Timeout" in str(slow_nb) or "KeyboardInterrupt" in str(slow_nb) or "CellTimeoutError" in str(slow_nb)
