"""Build the book from the notebooks the tests already executed.

``make test`` executes every chapter once (``pytest --executed DIR``, see the
repository's ``conftest.py``) and writes each executed notebook to ``DIR``,
stamped with what produced it: the run profile and a hash of ganlib's files.
Before ``make book``, this command puts those executed notebooks into
jupyter-book's execution cache (``execute_notebooks: cache`` in
``_config.yml``), so the book build executes only what the tests did not:

    python -m ganlib.tools.bookcache --profile quick --executed _build/executed/quick

A notebook enters the cache only when its stamp matches the current profile
and ganlib, and jupyter-cache matches it to the chapter's current code cells;
anything else is executed by the book build as before. A cache filled under
another profile or another ganlib is emptied first, so the book never shows
stale outputs. A step-capped run (``GANLIB_MAX_STEPS``) is never cached.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path

from ..profile import MAX_STEPS_ENV

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # all of ganlib
STAMP_KEY = "ganlib_build"  # notebook metadata key holding the stamp
DEFAULT_CACHE = Path("_build") / ".jupyter_cache"


def source_hash() -> str:
    """A hash of every file of ganlib (code, model cards, weights): what a chapter's outputs depend on."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_stamp(profile: str | None = None) -> dict | None:
    """What the outputs of a run here depend on, or None for a step-capped run (never cached)."""
    if os.environ.get(MAX_STEPS_ENV, "").strip():
        return None
    return {"profile": profile or os.environ.get("GANLIB_PROFILE", "full"), "ganlib": source_hash()}


def fill_cache(executed: Path, cache_path: Path = DEFAULT_CACHE, profile: str = "quick") -> list[str]:
    """Cache every executed notebook in ``executed`` whose stamp matches; return their names."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    stamp = build_stamp(profile)
    stamp_file = cache_path.parent / (cache_path.name + ".stamp.json")
    if stamp is None:
        raise SystemExit(f"{MAX_STEPS_ENV} is set: a step-capped run never fills the book's cache")
    if cache_path.exists() and (not stamp_file.exists() or json.loads(stamp_file.read_text()) != stamp):
        shutil.rmtree(cache_path)  # outputs of another profile or another ganlib
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(cache_path))
    stamp_file.write_text(json.dumps(stamp))
    cached = []
    for path in sorted(Path(executed).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if nb.metadata.get(STAMP_KEY) != stamp:
            continue
        del nb.metadata[STAMP_KEY]
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(Path("notebooks", path.name).resolve())),
                                    check_validity=False, overwrite=True)
        cached.append(path.name)
    return cached


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    p.add_argument("--profile", default=os.environ.get("GANLIB_PROFILE", "full"))
    p.add_argument("--executed", type=Path, required=True, help="the folder pytest --executed wrote")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = p.parse_args(argv)
    cached = fill_cache(args.executed, args.cache, args.profile)
    print(f"book cache: {len(cached)} executed notebook(s) from {args.executed} "
          f"({args.profile} profile); the book build executes the rest")


if __name__ == "__main__":
    main()
