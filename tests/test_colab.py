"""What a student in Colab depends on: widgets that degrade to a static figure,
judgements of a run that do not crash an unlucky full run, and a setup cell that
installs from this repository."""
import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def code_cells(path):
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            # IPython magics and shell lines are not Python
            source = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                               for line in source.splitlines())
            yield i, ast.parse(source)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = [handler.type] if not isinstance(handler.type, ast.Tuple) else handler.type.elts
    return handler.type is None or any(isinstance(n, ast.Name) and n.id in
                                       {"ImportError", "ModuleNotFoundError", "Exception"} for n in names)


def _imports_ipywidgets(node) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "ipywidgets" for a in node.names)
    return isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ipywidgets"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_ipywidgets_import_is_guarded(path):
    for i, tree in code_cells(path):
        guarded = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
                guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if _imports_ipywidgets(node):
                assert id(node) in guarded, (
                    f"{path.name}, cell {i}: import ipywidgets inside try/except ImportError and "
                    "draw a static figure when it is missing (see chapter 2's slider cell)")


def _is_full_only(test: ast.expr) -> bool:
    text = ast.unparse(test).replace(" ", "")
    return text in {"notPROFILE.quick", "PROFILE.name=='full'"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_full_profile_judgements_use_expect_not_assert(path):
    for i, tree in code_cells(path):
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_full_only(node.test):
                for inner in (n for stmt in node.body for n in ast.walk(stmt)):
                    assert not isinstance(inner, ast.Assert), (
                        f"{path.name}, cell {i}: a full-profile-only assert crashes an unlucky "
                        "student's run: use ganlib.expect(condition, expected=..., got=..., advice=...)")


def test_the_judgements_the_issue_names_use_expect():
    wanted = {"03_nash_equilibrium_and_training_dynamics": 2, "05_dcgan": 1, "05_dcgan_keras": 1,
              "06_conditional_gan": 1, "06_conditional_gan_keras": 1, "07_wgan": 2, "07_wgan_keras": 2}
    for stem, n in wanted.items():
        text = (ROOT / "notebooks" / f"{stem}.ipynb").read_text()
        assert text.count("ganlib.expect(") >= n, f"{stem}: expected {n} ganlib.expect calls"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_installs_from_the_configured_repository(path):
    url = CONFIG["repository"]["url"]
    installs = re.findall(r"ganlib @ git\+([^\"'\\]+)", path.read_text())
    assert installs == [url], (f"{path.name} installs ganlib from {installs}, but _config.yml names {url}: "
                               "see README, 'Forking the course'")


def test_readme_tells_a_fork_what_to_change():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Forking the course", 1)
    assert len(section) == 2, "README needs a 'Forking the course' section"
    text = section[1].split("\n## ", 1)[0]
    assert "_config.yml" in text and "notebooks/*.ipynb" in text and CONFIG["repository"]["url"] in text
