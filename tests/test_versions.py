"""The declared lower bounds, the oldest-versions requirement files that CI tests
them with (make oldest), and the check that compares them with what is installed."""
import re
from pathlib import Path

import pytest
import tomllib

from ganlib.tools import versions

ROOT = Path(__file__).resolve().parents[1]


def pins(path: Path) -> dict:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s#]+)", line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def bounds(requirements: list) -> dict:
    found = {}
    for line in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^\s,;]+)", line)
        assert match, f"{line!r}: every dependency needs a lower bound (>=)"
        found[match[1].lower()] = match[2]
    return found


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_requirements_oldest_pins_exactly_the_declared_lower_bounds():
    declared, oldest = bounds(PROJECT["dependencies"]), pins(ROOT / "requirements-oldest.txt")
    assert {name: oldest.get(name) for name in declared} == declared


def test_requirements_oldest_extras_pins_every_extras_lower_bounds():
    declared = bounds(sum(PROJECT["optional-dependencies"].values(), []))
    oldest = pins(ROOT / "requirements-oldest-extras.txt")
    oldest["tensorflow"] = oldest.pop("tensorflow-cpu")  # the same release, CPU only
    assert {name: oldest.get(name) for name in declared} == declared


def test_no_upper_bounds():
    for line in [*PROJECT["dependencies"], *sum(PROJECT["optional-dependencies"].values(), [])]:
        assert not re.search(r"<|==|~=", line), f"{line!r}: lower bounds only (Colab's packages stay as they are)"


def test_this_venv_is_at_or_above_every_bound_and_the_check_says_so(capsys):
    rows = versions.compare()
    assert {name for name, *_ in rows} == set(bounds(PROJECT["dependencies"]))
    assert all(verdict in ("the bound", "newer") for *_, verdict in rows), rows
    assert versions.main([]) == 0
    # numpy 1.23.2 is not what this venv has: --oldest says which package is off
    assert versions.main(["--oldest"]) == 1
    assert "numpy" in capsys.readouterr().err
    assert versions.main(["--oldest", "no-such-extra"]) == 1


@pytest.mark.parametrize("extra", ["keras", "metrics", "widgets"])
def test_each_extra_is_read_from_the_installed_metadata(extra):
    assert {name for name, *_ in versions.compare(extra)} == set(
        bounds(PROJECT["optional-dependencies"][extra]))
