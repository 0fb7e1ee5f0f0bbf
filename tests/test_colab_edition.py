"""The Colab and student editions (python -m ganlib.tools.colab): plain Jupyter Markdown with no
MyST left, exercises as numbered headings, solutions folded or removed, citations and
cross-references as links into the book, the math macros expanded, the setup cell pinned."""
import re
from pathlib import Path

import nbformat
import pytest

import ganlib
from ganlib.tools.colab import Book, convert_markdown, convert_notebook, myst_left, write_edition
from ganlib.tools.student import parse_exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def book():
    return Book.from_root(ROOT)


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    return {edition: write_edition(ROOT / "notebooks", out / edition, edition) for edition in ("colab", "student")}


def text_of(nb):
    return "\n".join(c.source for c in nb.cells)


@pytest.mark.parametrize("edition", ["colab", "student"])
def test_no_myst_left_in_any_notebook(editions, edition):
    assert len(editions[edition]) == len(NOTEBOOKS)
    for path in editions[edition]:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert myst_left(nb) == [], path.name
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not re.search(r"\{(exercise|solution|cite|ref|doc|admonition|include)", markdown), path.name
        assert nb.metadata["ganlib"] == {"edition": edition, "version": ganlib.__version__, "chapter": path.stem}


@pytest.mark.parametrize("edition", ["colab", "student"])
def test_setup_cell_installs_the_tagged_release(editions, edition, book):
    for path in editions[edition]:
        installs = re.findall(r"ganlib @ git\+([^\"'\\]+)", path.read_text())
        assert installs == [f"{book.repository}@v{ganlib.__version__}"], path.name


def test_exercises_are_numbered_headings_with_difficulty_and_time(editions):
    for path in editions["colab"]:
        exercises = parse_exercises(nbformat.read(ROOT / "notebooks" / path.name, as_version=4), path.stem)
        text = text_of(nbformat.read(path, as_version=4))
        headings = re.findall(r"^### Exercise (\S+): (.+)$", text, re.M)
        assert [h[1] for h in headings] == [e.title.replace("(auto-checked)", "").strip() for e in exercises]
        assert [h[0] for h in headings] == [f"{headings[0][0].split('.')[0]}.{k}" for k in
                                            range(1, len(exercises) + 1)], path.name
        for ex in exercises:
            if ex.stars:
                assert f"*{ex.difficulty} · {ex.minutes} min" in text, (path.name, ex.label)


def test_colab_folds_solutions_and_student_removes_them(editions):
    for colab_path, student_path in zip(editions["colab"], editions["student"]):
        original = nbformat.read(ROOT / "notebooks" / colab_path.name, as_version=4)
        exercises = parse_exercises(original, colab_path.stem)
        colab, student = (nbformat.read(p, as_version=4) for p in (colab_path, student_path))
        written = [e for e in exercises if not any(c.cell_type == "code" for c in e.solution) or not e.auto_checked]
        text_solutions = [e for e in exercises if any(c.cell_type == "markdown" and "{solution}" in c.source
                                                      for c in e.solution)]
        assert text_of(colab).count("<details>") == len(text_solutions), colab_path.name
        gated = [e for e in exercises if any("{solution-start}" in c.source for c in e.solution)]
        assert len(colab.metadata["colab"]["collapsed_sections"]) == len(gated)
        for cell in colab.cells:  # a code solution's cells are hidden in Jupyter
            if cell.cell_type == "code" and any(cell.source == s.source for e in gated for s in e.solution):
                assert cell.metadata["jupyter"]["source_hidden"] is True
        # the student edition: an answer cell under every written exercise, no solution line
        answers = [c for c in student.cells if c.cell_type == "markdown" and "answer" in c.metadata.get("tags", [])]
        assert len(answers) == len([e for e in exercises if not e.auto_checked]), student_path.name
        assert len(written) >= len(answers)
        student_text = text_of(student)
        hidden = {id(c) for e in exercises for c in e.solution}
        public = text_of(nbformat.from_dict({**original, "cells": [c for c in original.cells if id(c) not in hidden]}))
        for ex in exercises:
            for cell in ex.solution:
                for line in cell.source.splitlines():
                    if len(line.strip()) > 30 and "def " not in line and not line.strip().startswith(("#", "```")):
                        if line.strip() not in public:
                            assert line.strip() not in student_text, f"{student_path.name} leaks: {line}"


def test_citations_become_author_year_links_to_the_references_page(book):
    out = convert_markdown("As shown {cite:p}`goodfellow2014gan,mirza2014cgan`; see {cite}`radford2016dcgan`.",
                           book, "notebooks/02_minimax_objective")
    refs = book.url + "book/references.html"
    assert out == (f"As shown ([Goodfellow et al., 2014]({refs}); [Mirza and Osindero, 2014]({refs})); "
                   f"see ([Radford et al., 2016]({refs})).")


def test_cross_references_link_into_the_book(book):
    out = convert_markdown("exercise {ref}`ch7-gp-local-minimum`, {ref}`this one <ch2-dstar>`, "
                           "{doc}`../book/instructors`, {eq}`eq-v`", book, "notebooks/04_mlp_gan")
    assert "[7.5](https://gan-course.github.io/gan-course/notebooks/07_wgan.html#ch7-gp-local-minimum)" in out
    assert "[this one](https://gan-course.github.io/gan-course/notebooks/02_minimax_objective.html#ch2-dstar)" in out
    assert "[For instructors" in out or "](https://gan-course.github.io/gan-course/book/instructors.html)" in out
    assert "#equation-eq-v)" in out


def test_admonitions_become_quotes_and_macros_are_expanded(book):
    out = convert_markdown("```{admonition} Careful\n:class: note\nIt is $\\JSD(p \\| q) \\le \\log 2$ "
                           "and $\\E_x$.\n```", book, "notebooks/02_minimax_objective")
    assert out.startswith("> **Careful**\n>\n> It is $\\operatorname{JSD}(p")
    assert "\\mathbb{E}_x" in out
    assert myst_left(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(out)])) == []


def test_an_unknown_directive_is_reported_not_shipped(book):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{figure} x.png\n```")])
    converted = convert_notebook(nb, "99_test", book)
    assert myst_left(converted)


def test_the_command_writes_an_edition(tmp_path):
    from ganlib.tools.colab import main
    main([str(ROOT / "notebooks"), "--out", str(tmp_path)])
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
