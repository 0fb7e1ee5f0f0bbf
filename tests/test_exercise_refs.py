"""References to exercises carry their own text.

sphinx-exercise turns a bare {ref}`label` to an exercise into "Exercise N", N counted
across the whole book (chapter 1 starts past 1), so "exercise {ref}`label`" rendered
as "exercise Exercise 17". Per-chapter numbers would need a numbered table of
contents, which would also number every chapter heading. So a reference to an
exercise names it: {ref}`Title <label>`.
"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "notebooks").glob("*.ipynb"))
BOOK_PAGES = sorted((ROOT / "book").glob("*.md"))


def markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


EXERCISE_LABELS = {label for path in PAGES
                   for label in re.findall(r"\{exercise\}[^\n]*\n:label:\s*(\S+)", markdown(path))}


def bare_exercise_refs(text: str) -> list:
    return [label for label in re.findall(r"(?<!`` )\{ref\}`([^`<>]+)`", text) if label.strip() in EXERCISE_LABELS]


def test_the_check_tells_bare_from_named_references():
    label = next(iter(sorted(EXERCISE_LABELS)))
    assert bare_exercise_refs(f"see exercise {{ref}}`{label}`") == [label]
    assert bare_exercise_refs(f'see exercise "{{ref}}`A title <{label}>`"') == []


def test_references_to_exercises_name_them():
    bare = {path.name: bare_exercise_refs(markdown(path)) for path in PAGES + BOOK_PAGES}
    bare = {name: labels for name, labels in bare.items() if labels}
    assert not bare, f"bare references to exercises (rendered 'Exercise N', N counted book-wide): {bare}"
