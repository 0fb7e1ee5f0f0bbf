"""The student edition removes every solution and keeps everything else."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from ganlib.student import strip_solutions, write_student_edition

ROOT = Path(__file__).resolve().parents[1]


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text, tags=()):
    return nbformat.v4.new_code_cell(text, metadata={"tags": list(tags)})


def test_strip_removes_all_three_kinds_of_solution():
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("```{exercise} A\n:label: a\nDo it.\n```"),
                md("```{solution} a\n:class: dropdown\nSECRET-TEXT\n```"),
                md("```{exercise} B\n:label: b\n```"),
                code("def f(x):\n    return None"),
                md("```{solution-start} b\n:class: dropdown\n```"),
                code("def f(x):\n    return SECRET_CODE"),
                md("```{solution-end}\n```"),
                code("check(f)"),
                code("SECRET_TAGGED = 1", tags=["solution"])]
    student, removed = strip_solutions(nb)
    text = "\n".join(c.source for c in student.cells)
    assert removed == 5
    assert "SECRET" not in text and "{solution" not in text
    assert text.count("{exercise}") == 2 and "check(f)" in text and "return None" in text


def test_unclosed_gated_solution_is_an_error():
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("```{solution-start} x\n```"), code("secret = 1")]
    with pytest.raises(ValueError, match="never closed"):
        strip_solutions(nb)


def test_no_solution_leaks_from_any_chapter(tmp_path):
    written = write_student_edition(ROOT / "notebooks", tmp_path)
    assert len(written) == len(list((ROOT / "notebooks").glob("*.ipynb")))
    for path in written:
        original = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
        student = nbformat.read(path, as_version=4)
        kept = {c.source for c in student.cells}
        student_text = "\n".join(kept)
        assert not re.search(r"\{solution(-start|-end)?\}", student_text), path.name
        # every exercise survives
        assert student_text.count("{exercise}") == \
            "\n".join(c.source for c in original.cells).count("{exercise}")
        # no line of a removed solution cell appears in the student edition
        inside = False
        for cell in original.cells:
            if "{solution-start}" in cell.source:
                inside = True
            if inside and cell.cell_type == "code":
                for line in cell.source.splitlines():
                    if len(line.strip()) > 25 and "def " not in line and not line.strip().startswith("#"):
                        assert line not in student_text, f"{path.name} leaks: {line}"
            if "{solution-end}" in cell.source:
                inside = False
