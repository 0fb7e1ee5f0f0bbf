"""Write the student edition of the chapter notebooks: the same notebooks with
every solution removed.

    python -m ganlib.student notebooks/ --out student/

Removed: markdown cells holding a ``{solution}`` directive, everything from a
``{solution-start}`` cell to its ``{solution-end}`` cell (inclusive), and code
cells tagged ``solution``. Outputs are cleared too.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat

SOLUTION = re.compile(r"^\s*(```+|:::+)\s*\{solution\}", re.M)
SOLUTION_START = re.compile(r"^\s*(```+|:::+)\s*\{solution-start\}", re.M)
SOLUTION_END = re.compile(r"^\s*(```+|:::+)\s*\{solution-end\}", re.M)


def strip_solutions(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return (student notebook, number of cells removed)."""
    kept, removed, inside = [], 0, False
    for cell in nb.cells:
        src = cell.source
        is_md = cell.cell_type == "markdown"
        if is_md and SOLUTION_START.search(src):
            if inside:
                raise ValueError("a {solution-start} opens before the previous one was closed")
            inside = True
        if inside or (is_md and SOLUTION.search(src)) or "solution" in cell.metadata.get("tags", []):
            removed += 1
            if is_md and SOLUTION_END.search(src):
                inside = False
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        kept.append(cell)
    if inside:
        raise ValueError("a {solution-start} is never closed by {solution-end}")
    student = nbformat.from_dict(dict(nb))
    student.cells = kept
    return student, removed


def write_student_edition(src_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Strip every notebook under ``src_dir`` into ``out_dir``; returns the files written."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    notebooks = sorted(p for p in src_dir.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no .ipynb notebooks in {src_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        student, _ = strip_solutions(nb)
        target = out_dir / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", help="folder of chapter notebooks")
    parser.add_argument("--out", default="student", help="folder for the student edition")
    args = parser.parse_args(argv)
    for path in write_student_edition(args.notebooks, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
