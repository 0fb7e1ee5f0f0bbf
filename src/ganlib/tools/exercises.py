"""Write the instructors' list of exercises, ``book/exercises.md``, from the notebooks.

    python -m ganlib.tools.exercises            # rewrite book/exercises.md
    python -m ganlib.tools.exercises --check    # exit 1 if the committed page is stale

Each exercise's difficulty and time come from the first line of its body
(``★★☆ · 15 min``); an exercise is auto-checked when a ``ganlib.checks.check_*``
cell follows its solution. The page is generated: edit the notebooks, then run
the command (a test fails while the page is stale).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .pages import page_command
from .student import Exercise, read_exercises

ROOT = Path(__file__).resolve().parents[3]
PAGE = Path("book") / "exercises.md"

HEADER = """# Exercises at a glance

*Generated from the notebooks by `python -m ganlib.tools.exercises`; do not edit by hand.*

Every exercise of the book, chapter by chapter, with its difficulty
(★☆☆ a direct application, ★★☆ a derivation or a function to write, ★★★ an
open question or a long run), an estimated time for a student who has read the
chapter, and whether a cell checks the answer automatically (see
{doc}`instructors`). The time of the long runs (★★★) assumes a GPU.
"""


def _chapter_title(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0] if cells else path.stem
    return first.lstrip("# ").strip()


def _row(ex: Exercise) -> str:
    title = ex.title.replace("|", "\\|").replace("(auto-checked)", "").strip()
    time = f"{ex.minutes} min" if ex.minutes is not None else "?"
    auto = f"yes (`{ex.check_name}`)" if ex.auto_checked else "no"
    return f"| {{ref}}`{title} <{ex.label}>` | {ex.difficulty} | {time} | {auto} |"


def render(notebooks_dir: str | Path = ROOT / "notebooks") -> str:
    """The page's Markdown for every notebook under ``notebooks_dir``."""
    parts, total, total_minutes, total_auto = [HEADER], 0, 0, 0
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        exercises = read_exercises(path)
        if not exercises:
            continue
        minutes = sum(e.minutes or 0 for e in exercises)
        auto = sum(e.auto_checked for e in exercises)
        total, total_minutes, total_auto = total + len(exercises), total_minutes + minutes, total_auto + auto
        parts.append(f"## {_chapter_title(path)}\n\n"
                     f"{len(exercises)} exercises, {auto} auto-checked, about {minutes} minutes in all.\n\n"
                     "| Exercise | Difficulty | Time | Auto-checked |\n|:---|:---:|---:|:---|\n"
                     + "\n".join(_row(e) for e in exercises) + "\n")
    parts.append(f"In all: {total} exercises, {total_auto} auto-checked, "
                 f"about {total_minutes / 60:.0f} hours of work.\n")
    return "\n".join(parts)


def main(argv=None) -> int:
    return page_command(__doc__, PAGE, render, "ganlib.tools.exercises", argv)


if __name__ == "__main__":
    sys.exit(main())
