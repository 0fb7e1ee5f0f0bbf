"""The versions ganlib declares (pyproject.toml, read back from the installed
package's metadata) against the versions installed here.

    python -m ganlib.tools.versions                  # a table; exit 1 if one is below its bound
    python -m ganlib.tools.versions --oldest         # exit 1 unless each dependency IS its lower bound
    python -m ganlib.tools.versions --oldest keras metrics  # the same for those extras' packages

``make oldest`` runs the ``--oldest`` forms in the venv built from
requirements-oldest.txt and requirements-oldest-extras.txt, so those files cannot
drift from the declared bounds.
"""
from __future__ import annotations

import argparse
import sys
from importlib import metadata

# A declared name -> the distributions that provide it (tensorflow-cpu is TensorFlow's
# CPU-only build of the same release).
PROVIDERS = {"tensorflow": ("tensorflow", "tensorflow-cpu")}


def declared(extra: str | None = None) -> list:
    """ganlib's requirements (``packaging`` Requirement objects): the core ones, or one extra's."""
    from packaging.requirements import Requirement

    requirements = [Requirement(line) for line in metadata.requires("ganlib") or []]
    if extra is None:
        return [r for r in requirements if r.marker is None]
    return [r for r in requirements if r.marker is not None and r.marker.evaluate({"extra": extra})]


def installed_version(name: str) -> str | None:
    for distribution in PROVIDERS.get(name, (name,)):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def lower_bound(requirement) -> str | None:
    bounds = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==")]
    return bounds[0] if bounds else None


def compare(extra: str | None = None) -> list[tuple[str, str | None, str | None, str]]:
    """(name, lower bound, installed, verdict) for each declared requirement."""
    from packaging.version import Version

    rows = []
    for requirement in declared(extra):
        bound, have = lower_bound(requirement), installed_version(requirement.name)
        if have is None:
            verdict = "missing"
        elif bound is None:
            verdict = "ok"
        elif Version(have) < Version(bound):
            verdict = "below the bound"
        else:
            verdict = "the bound" if Version(have) == Version(bound) else "newer"
        rows.append((requirement.name, bound, have, verdict))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oldest", nargs="*", default=None, metavar="EXTRA",
                        help="require every dependency (or the named extras') to be exactly its lower bound")
    args = parser.parse_args(argv)
    rows = []
    for extra in args.oldest or [None]:
        found = compare(extra)
        if not found:
            print(f"ganlib declares no requirements{f' for the extra {extra!r}' if extra else ''}")
            return 1
        rows += found
    print(f"{'package':<14} {'lower bound':<12} {'installed':<12} verdict  (python {sys.version.split()[0]})")
    for name, bound, have, verdict in rows:
        print(f"{name:<14} {bound or '-':<12} {have or '-':<12} {verdict}")
    bad = [row for row in rows if row[3] in ("missing", "below the bound")
           or (args.oldest is not None and row[3] != "the bound")]
    if bad:
        what = "exactly their lower bounds" if args.oldest is not None else "installed at or above their bounds"
        print(f"not {what}: {', '.join(row[0] for row in bad)} (pyproject.toml and requirements-oldest*.txt "
              "must name the same versions)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
