"""The one command shape behind every generated page (exercises, term plan): write the page,
or with ``--check`` only say whether the committed copy is stale."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def page_command(doc: str, page: str, render, module: str, argv=None) -> int:
    """``render(notebooks_folder) -> text`` for ``page`` (relative to the repository root)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--root", default=str(ROOT), help="the repository root")
    parser.add_argument("--check", action="store_true", help="only report whether the page is stale")
    args = parser.parse_args(argv)
    root = Path(args.root)
    text, path = render(root / "notebooks"), root / page
    if args.check:
        if not path.is_file() or path.read_text() != text:
            print(f"{path} is stale: run python -m {module}", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0
