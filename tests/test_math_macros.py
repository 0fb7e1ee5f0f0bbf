"""Math that renders outside the book: Colab and Jupyter do not read _config.yml.

The book's MathJax gets the macros of ``_config.yml`` (``\\E``, ``\\JSD``, ...),
but a notebook opened in Colab or Jupyter renders its markdown on its own, where
an undefined macro shows raw or red. So a notebook may use such a macro only if
it defines it itself (``\\newcommand``, ``\\renewcommand``, ``\\def`` or
``\\DeclareMathOperator`` in one of its markdown cells); the chapters write the
commands out instead.
"""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
BOOK_MACROS = sorted(CONFIG["sphinx"]["config"].get("mathjax3_config", {})
                     .get("tex", {}).get("macros", {}))
DEFINITION = re.compile(r"\\(?:(?:re)?newcommand\*?\s*\{?|def\s*|DeclareMathOperator\*?\s*\{)\\([A-Za-z]+)")


def uses(text: str, macro: str) -> bool:
    return re.search(r"\\" + macro + r"(?![A-Za-z])", text) is not None


def undefined_macros(markdown: str, macros) -> list:
    """The macros of ``macros`` that ``markdown`` uses without defining them."""
    defined = set(DEFINITION.findall(markdown))
    return [m for m in macros if m not in defined and uses(markdown, m)]


def test_the_book_defines_macros_the_test_knows():
    assert {"E", "JSD", "KL", "R"} <= set(BOOK_MACROS)


def test_the_check_finds_an_undefined_macro_and_accepts_a_defined_one():
    assert undefined_macros(r"$\E[x]$ and $\KL(p \| q)$", BOOK_MACROS) == ["E", "KL"]
    assert undefined_macros(r"$\Rightarrow \mathbb{E}$, $\operatorname{JSD}$", BOOK_MACROS) == []
    assert undefined_macros(r"$\newcommand{\E}{\mathbb{E}}$ $\E[x]$", BOOK_MACROS) == []
    assert undefined_macros(r"$\def\KL{\operatorname{KL}}$ $\KL$", BOOK_MACROS) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_defines_every_book_macro_it_uses(path):
    cells = json.loads(path.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    missing = undefined_macros(markdown, BOOK_MACROS)
    assert not missing, (f"{path.name} uses {', '.join(chr(92) + m for m in missing)}, defined only in "
                         "_config.yml: Colab and Jupyter show them raw. Write the command out "
                         r"(\mathbb{E}, \operatorname{JSD}, ...) or define it in the notebook.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_display_math_stands_on_its_own_lines(path):
    """``$$`` sharing a line with text (in a paragraph or a list item) renders garbled in
    the book: a display block opens and closes on lines of its own."""
    cells = json.loads(path.read_text())["cells"]
    bad = [line.strip() for c in cells if c["cell_type"] == "markdown"
           for line in "".join(c["source"]).split("\n") if "$$" in line and line.strip() != "$$"]
    assert not bad, f"{path.name}: display math on a line with other text: {bad[:3]}"
