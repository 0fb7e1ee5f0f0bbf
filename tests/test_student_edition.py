"""The student edition removes every solution and keeps everything else."""
import re
from pathlib import Path

import nbformat
import pytest

from ganlib.tools.student import strip_solutions, write_student_edition

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
        # every exercise survives, as a numbered heading (the Colab conversion)
        assert student_text.count("### Exercise ") == \
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


def test_reference_implementations_are_not_shown_before_their_exercise(tmp_path):
    """The student edition drops cells tagged student-remove (a show_source of what an
    exercise asks for); nothing before an exercise prints its answer."""
    asked = {"05_dcgan": ("show_source(slerp)", "ch5-slerp"),
             "07_wgan": ("show_source(losses.gradient_penalty)", "ch7-gradient-penalty"),
             "09_evaluating_gans": ("show_source(metrics.frechet_distance)", "ch9-frechet"),
             "10_beyond_the_basics": ("show_source(AdaIN)", "ch10-adain")}
    write_student_edition(ROOT / "notebooks", tmp_path)
    for stem, (shown, label) in asked.items():
        original = (ROOT / "notebooks" / f"{stem}.ipynb").read_text()
        assert shown in original and "student-remove" in original, f"{stem}: the book itself still shows it"
        cells = [c.source for c in nbformat.read(tmp_path / f"{stem}.ipynb", as_version=4).cells]
        exercise = next(i for i, s in enumerate(cells) if f'<a id="{label}"></a>' in s)
        assert not any(shown in s for s in cells[:exercise]), f"{stem}: {shown} comes before {label}"


def test_student_remove_tag_drops_a_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [code("ganlib.show_source(answer)", tags=["student-remove"]), code("x = 1")]
    student, removed = strip_solutions(nb)
    assert removed == 1 and [c.source for c in student.cells] == ["x = 1"]


BLOCK_WIDGETS = ("import sys\n"
                 "sys.modules['ipywidgets'] = None  # as where ipywidgets is missing: the static figures run")


def _run_notebook(path: Path) -> str | None:
    """Run one student notebook to its end; None if it got there, else what stopped it."""
    import time

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(BLOCK_WIDGETS))
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        text = str(err)
        return f"{path.name} stops with:\n{text[-1500:]}"
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    return None


def test_every_student_notebook_runs_to_its_end(tmp_path, monkeypatch):
    """The student edition as a student gets it (stubs unanswered, quick profile, no
    strict checks, no ipywidgets) runs every notebook to its last cell: a check or
    an expectation prints feedback, it never stops the notebook. Slow (minutes):
    notebooks run in parallel, GANLIB_STUDENT_WORKERS at a time (default 2)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("GANLIB_PROFILE", "quick")
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    written = write_student_edition(ROOT / "notebooks", tmp_path / "student")
    workers = int(os.environ.get("GANLIB_STUDENT_WORKERS", "2"))
    # the Keras notebooks are the slowest (TensorFlow's import): start them first
    order = sorted(written, key=lambda p: (not p.stem.endswith("_keras"), p.name))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        problems = [p for p in pool.map(_run_notebook, order) if p]
    assert not problems, ("student notebooks that do not run to their end (a check or cell must "
                          "print feedback on an unanswered stub, never raise):\n\n" + "\n\n".join(problems))
