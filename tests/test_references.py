"""The bibliography: every entry is cited, every citation has an entry, and the
references page lists what is cited (no ``:all:``), so an uncited entry cannot hide."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def bib_keys():
    return re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(), flags=re.M)


def cited_keys():
    texts = [path.read_text() for path in (ROOT / "book").glob("*.md")]
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        texts += ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
    return {key.strip() for text in texts for match in CITE.finditer(text) for key in match.group(1).split(",")}


def test_bib_keys_are_unique():
    keys = bib_keys()
    assert len(keys) == len(set(keys)), sorted(k for k in set(keys) if keys.count(k) > 1)


def test_every_citation_has_an_entry():
    assert not cited_keys() - set(bib_keys())


def test_every_entry_is_cited():
    assert not set(bib_keys()) - cited_keys()


def test_references_page_lists_only_what_is_cited():
    page = (ROOT / "book" / "references.md").read_text()
    assert "```{bibliography}" in page and ":all:" not in page
