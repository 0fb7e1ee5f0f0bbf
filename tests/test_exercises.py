"""Every notebook has at least four exercises, one of them auto-checked, each with
a difficulty and a time; the instructors' page lists them and is never stale."""
from pathlib import Path

import nbformat
import pytest
import yaml

from ganlib import checks
from ganlib.tools import exercises
from ganlib.tools.student import parse_exercises, read_exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_four_marked_exercises_one_auto_checked(path):
    found = read_exercises(path)
    assert len(found) >= 4, f"{path.name} has {len(found)} exercises; CONTRIBUTING asks for at least four"
    assert any(e.auto_checked for e in found), f"{path.name}: no auto-checked exercise"
    for e in found:
        assert e.label, f"{path.name}: the exercise '{e.title}' has no :label:"
        assert e.stars in (1, 2, 3) and e.minutes and e.minutes > 0, (
            f"{path.name}, {e.label}: start the exercise's body with its difficulty and time, "
            "e.g. '★★☆ · 15 min'")
        assert e.solution, f"{path.name}, {e.label}: no solution"
        if e.auto_checked:
            assert hasattr(checks, e.check_name), f"{path.name}, {e.label}: no ganlib.checks.{e.check_name}"


def test_parse_exercises_returns_stub_solution_and_check():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# Chapter 9: x"),
                md("```{exercise} Say why\n:label: a\n\n★☆☆ · 5 min\n\nWhy?\n```"),
                md("```{solution} a\n:class: dropdown\nBecause.\n```"),
                code("unrelated = 1"),
                md("```{exercise} Write f (auto-checked)\n:label: b\n\n★★★ · 40 min\n```"),
                code("def f(x):\n    return None"),
                md("```{solution-start} b\n:class: dropdown\n```"),
                code("def f(x):\n    return x"),
                md("```{solution-end}\n```"),
                code("ganlib.checks.check_f(f)")]
    a, b = parse_exercises(nb, "ch9")
    assert (a.label, a.title, a.stars, a.minutes, a.auto_checked, a.stub) == ("a", "Say why", 1, 5, False, [])
    assert [c.source for c in a.solution] == [nb.cells[2].source]
    assert (b.label, b.stars, b.minutes, b.difficulty, b.check_name) == ("b", 3, 40, "★★★", "check_f")
    assert [c.source for c in b.stub] == ["def f(x):\n    return None"]
    assert [c.source for c in b.solution][1] == "def f(x):\n    return x" and len(b.solution) == 3


def test_exercises_page_is_generated_and_up_to_date():
    page = ROOT / "book" / "exercises.md"
    assert page.read_text() == exercises.render(ROOT / "notebooks"), (
        "book/exercises.md is stale: run python -m ganlib.tools.exercises")
    text = page.read_text()
    for path in NOTEBOOKS:
        for e in read_exercises(path):
            assert f"<{e.label}>" in text and e.difficulty in text


def test_exercises_command_detects_a_stale_page(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book").mkdir()
    source = ROOT / "notebooks" / "02_minimax_objective.ipynb"
    (tmp_path / "notebooks" / source.name).write_text(source.read_text())
    assert exercises.main(["--root", str(tmp_path), "--check"]) == 1
    assert exercises.main(["--root", str(tmp_path)]) == 0
    assert exercises.main(["--root", str(tmp_path), "--check"]) == 0
    assert "Chapter 2" in (tmp_path / "book" / "exercises.md").read_text()


def test_exercises_page_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert "book/exercises" in str(toc)
