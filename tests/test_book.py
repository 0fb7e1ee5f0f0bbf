"""The book's structure: table of contents, notebooks, setup cell, exercises."""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("chapters", "sections", "parts"):
            yield from toc_files(entry.get(key, []))


def all_toc_files():
    return [TOC["root"], *toc_files(TOC.get("parts", [])), *toc_files(TOC.get("chapters", []))]


def load(path):
    return json.loads(path.read_text())


def setup_cell(url: str) -> str:
    return f'''# Setup, the same in every chapter: install ganlib where it is missing (Colab),
# then read the run profile (GANLIB_PROFILE=quick or full; full by default).
import importlib.util, subprocess, sys
if importlib.util.find_spec("ganlib") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "ganlib @ git+{url}"], check=True)
import ganlib
PROFILE = ganlib.run_profile()
print(PROFILE)'''


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 2


def test_toc_and_notebooks_list_the_same_chapters():
    listed = {f for f in all_toc_files() if f.startswith("notebooks/")}
    present = {f"notebooks/{p.stem}" for p in NOTEBOOKS}
    assert listed == present, f"only in _toc.yml: {listed - present}; only on disk: {present - listed}"


def test_every_toc_entry_exists():
    for entry in all_toc_files():
        candidates = [ROOT / f"{entry}{ext}" for ext in ("", ".md", ".ipynb")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


def test_chapters_are_numbered_in_order():
    numbers = [int(re.match(r"(\d\d)[a-z]?_", p.name).group(1)) for p in NOTEBOOKS]  # 07b: a chapter between 07 and 08
    assert numbers == sorted(numbers) and numbers[0] == 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    """Except the cells nbval checks (# NBVAL_CHECK_OUTPUT): their committed output is what the
    run must print (written by pytest --refresh-checked)."""
    import nbformat
    from nbval.plugin import find_comment_markers

    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        if ("check", True) in find_comment_markers("".join(cell["source"])):
            assert cell["outputs"] and cell["execution_count"] is not None, \
                f"{path.name}: a # NBVAL_CHECK_OUTPUT cell without its expected output (pytest --refresh-checked)"
            assert all(o["output_type"] == "stream" or "text/plain" in o.get("data", {})
                       for o in cell["outputs"]), f"{path.name}: a checked cell's outputs must be text"
        else:
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name} has saved outputs: clear them before committing"
    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


def test_some_printed_numbers_are_checked_by_nbval():
    """Theory values and numbers read from shipped records: nbval fails when they drift."""
    from nbval.plugin import find_comment_markers

    checked = [p.name for p in NOTEBOOKS for c in load(p)["cells"] if c["cell_type"] == "code"
               and ("check", True) in find_comment_markers("".join(c["source"]))]
    assert len(checked) >= 4 and len(set(checked)) >= 3, checked


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_the_setup_cell(path):
    nb = load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == setup_cell(CONFIG["repository"]["url"]), \
        f"{path.name}: the first code cell must be the shared setup cell, verbatim"
    assert "hide-input" in code[0].get("metadata", {}).get("tags", [])
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_asks_colab_for_a_gpu(path):
    meta = load(path)["metadata"]
    assert meta.get("accelerator") == "GPU" and meta["kernelspec"]["name"] == "python3"


def test_repository_url_is_the_one_in_the_config():
    url = CONFIG["repository"]["url"]
    assert url.startswith("https://github.com/")
    readme = (ROOT / "README.md").read_text()
    assert url in readme


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_has_exercises_each_with_a_solution(path):
    text = "\n".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    labels = re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", text)
    solved = set(re.findall(r"\{solution(?:-start)?\} (\S+)", text))
    assert len(labels) >= 4, f"{path.name} has {len(labels)} exercises; CONTRIBUTING asks for at least four"
    assert set(labels) <= solved, f"{path.name}: exercises without a solution: {set(labels) - solved}"
    assert ":class: dropdown" in text  # solutions are folded


def test_exercise_labels_are_unique_across_the_book():
    labels = []
    for path in NOTEBOOKS:
        text = "\n".join("".join(c["source"]) for c in load(path)["cells"])
        labels += re.findall(r":label: (\S+)", text)
    duplicates = {label for label in labels if labels.count(label) > 1}
    assert not duplicates, f"labels used twice: {duplicates}"


def test_book_config_has_what_readers_need():
    assert CONFIG["execute"]["execute_notebooks"] in {"force", "cache", "auto"}
    assert CONFIG["execute"]["timeout"] > 0
    assert {"dollarmath", "amsmath"} <= set(CONFIG["parse"]["myst_enable_extensions"])
    assert "sphinx_exercise" in CONFIG["sphinx"]["extra_extensions"]
    assert CONFIG["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")


def test_markdown_that_cells_display_is_parsed_with_tables():
    # Model cards and results tables are displayed as markdown: plain CommonMark (MyST-NB's
    # default) has no tables and renders them as lines of pipes.
    assert CONFIG["sphinx"]["config"].get("nb_render_markdown_format") in ("gfm", "myst")
