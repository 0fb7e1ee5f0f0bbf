"""The term-planning page (python -m ganlib.tools.term_plan) is current, in the table of contents,
and its totals are the nbgrader edition's points."""
import re
from pathlib import Path

import yaml

import ganlib
from ganlib.tools import term_plan
from ganlib.tools.nbgrader_edition import points_for
from ganlib.tools.student import read_exercises

ROOT = Path(__file__).resolve().parents[1]


def test_page_is_current():
    assert term_plan.main(["--root", str(ROOT), "--check"]) == 0, "run python -m ganlib.tools.term_plan"


def test_page_is_in_the_table_of_contents():
    assert "book/term_plan" in yaml.safe_dump(yaml.safe_load((ROOT / "_toc.yml").read_text()))


def test_totals_are_the_nbgrader_points_and_every_chapter_is_planned():
    exercises = [e for p in sorted((ROOT / "notebooks").glob("*.ipynb")) for e in read_exercises(p)]
    auto = sum(points_for(e) for e in exercises if e.auto_checked)
    manual = sum(points_for(e) for e in exercises if not e.auto_checked)
    page = term_plan.render(ROOT / "notebooks")
    assert f"In all: {auto + manual} points, {auto} autograded and {manual} graded by hand." in page
    planned = {s for _, _, stems in term_plan.WEEKS for s in stems}
    assert planned == {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert len(term_plan.WEEKS) == 10
    assert all(f"{{ref}}`{e.label} <{e.label}>`" in page for e in exercises)  # every exercise is in some week


def test_long_training_runs_are_flagged_and_toy_games_are_not():
    page = term_plan.render(ROOT / "notebooks")
    gpu = page.split("## Exercises that need a GPU run", 1)[1].split("\n## ", 1)[0]
    flagged = set(re.findall(r"\{ref\}`([\w-]+) <[\w-]+>`", gpu))
    assert {"ch5-ablation", "ch11-ablation", "ch4-full-run"} <= flagged
    assert "ch3-ring-r1" not in flagged and "ch2-jsd-code" not in flagged


def test_version_is_one_number_everywhere():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == ganlib.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", ganlib.__version__)
    readme = (ROOT / "README.md").read_text()
    assert "## Releases" in readme and "git tag v" in readme
