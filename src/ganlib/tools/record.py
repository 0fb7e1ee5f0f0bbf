"""Run one of a chapter's recorded experiments at full size and ship its record.

    python -m ganlib.tools.record 08_other_losses_and_infogan ch08-losses-mnist [--threads 1]
    python -m ganlib.tools.record --list

Executes the notebook's setup cell and the cells tagged ``record:<name>``, unchanged,
in a fresh kernel in the full profile, where the last of them calls
``ganlib.records.record_experiment``; then writes ``src/ganlib/records/<name>.json`` and
``.npz`` with what ran: the notebook, the SHA-256 of those cells' code (a test compares it
with the notebook's current cells), the hardware, the minutes and the date.
A record is made in one go (minutes to tens of minutes on a CPU): an interrupted
recording leaves the shipped record as it was.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ..records import RECORD_TO_ENV, RECORDS_DIR, cells_sha256, experiment_cells, load, tagged_experiments, today

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


def notebook_path(stem: str, folder: Path = NOTEBOOKS) -> Path:
    path = folder / f"{Path(stem).stem}.ipynb"
    if not path.exists():
        raise SystemExit(f"no notebook {path}: give a chapter's file name, e.g. 08_other_losses_and_infogan")
    return path


def all_experiments(folder: Path = NOTEBOOKS) -> dict:
    """``{experiment: notebook stem}`` over every chapter."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        for name in tagged_experiments(json.loads(path.read_text())):
            found[name] = path.stem
    return found


def record(stem: str, name: str, threads: int | None = None, out: Path = RECORDS_DIR,
           folder: Path = NOTEBOOKS) -> Path:
    import nbformat
    from nbclient import NotebookClient

    path = notebook_path(stem, folder)
    notebook = json.loads(path.read_text())
    sources = experiment_cells(notebook, name)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    if threads:
        nb.cells.insert(1, nbformat.v4.new_code_cell(f"import torch\ntorch.set_num_threads({threads})"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"GANLIB_PROFILE": "full", RECORD_TO_ENV: tmp, "GANLIB_NOTEBOOK": path.stem,
                           "MPLBACKEND": "Agg"})
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=None, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                print(f"[{time.perf_counter() - start:7.0f} s] cell {index + 1}/{len(nb.cells)}: "
                      f"{cell.source.splitlines()[0][:70]}", flush=True)
                client.execute_cell(cell, index)
                for output in cell.get("outputs", []):
                    if output.get("name") == "stdout":
                        print("    " + output["text"].rstrip()[-600:].replace("\n", "\n    "), flush=True)
        minutes = (time.perf_counter() - start) / 60
        if not (Path(tmp) / f"{name}.json").exists():
            raise SystemExit(f"the cells tagged record:{name} ran but did not call "
                             f"ganlib.records.record_experiment({name!r}, ...)")
        result = load(name, tmp)
    result.facts.update({"notebook": path.stem, "cells_sha256": cells_sha256(notebook, name),
                         "minutes": round(minutes, 1), "recorded": today(),
                         "reproduce": f"python -m ganlib.tools.record {path.stem} {name}"})
    written = result.save(out)
    print(f"wrote {written} ({minutes:.1f} min)")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", nargs="?", help="the chapter's notebook, e.g. 07_wgan")
    parser.add_argument("name", nargs="?", help="the experiment (its cells' tag without 'record:')")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the kernel (CPU runs)")
    parser.add_argument("--list", action="store_true", help="list every chapter's recorded experiments")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for name, stem in all_experiments().items():
            state = "recorded" if (RECORDS_DIR / f"{name}.json").exists() else "not recorded yet"
            print(f"{stem} {name} ({state})")
        return 0
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    record(args.notebook, args.name, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
