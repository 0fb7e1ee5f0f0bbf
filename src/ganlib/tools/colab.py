"""Write the Colab and student editions of the chapter notebooks: plain Jupyter Markdown, no MyST.

    python -m ganlib.tools.colab notebooks --out colab              # solutions folded
    python -m ganlib.tools.colab notebooks --out student --edition student   # solutions removed

Jupyter and Colab render none of the book's MyST. One conversion, shared with the
student and nbgrader editions (:func:`convert_markdown`, :func:`exercise_markdown`):

* an ``{exercise}`` becomes a numbered heading ("Exercise 7.3: ...") with its
  difficulty, time and whether a check cell follows;
* a text ``{solution}`` is folded in ``<details>`` (Colab edition) or removed, with an
  answer cell in its place (student edition); a code solution
  (``{solution-start}`` ... ``{solution-end}``) gets a collapsed "Solution" section
  in Colab (its code hidden in Jupyter) or is removed;
* admonitions become block quotes, ``{include}`` is inlined;
* ``{cite}`` becomes "(Author et al., year)" linked to the book's references page,
  ``{ref}``, ``{numref}``, ``{doc}`` and ``{eq}`` links into the book;
* the book's math macros (``\\E``, ``\\JSD``, ... from ``_config.yml``) are expanded
  where they are used, so every Markdown renderer shows them;
* the setup cell installs the tagged release the edition was made for
  (``ganlib @ git+<repository>@v<version>``).

Anything MyST left over is an error: :func:`myst_left` lists it, and the tests run it
on every notebook of every edition.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import __version__
from .student import EXERCISE, SOLUTION, SOLUTION_END, SOLUTION_START, STUDENT_REMOVE, Exercise, parse_exercises

ROOT = Path(__file__).resolve().parents[3]
REPOSITORY = "https://github.com/gan-course/gan-course"
# The book's macros (`_config.yml`, sphinx: config: mathjax3_config), used when the config is not at hand.
MACROS = {"E": r"\mathbb{E}", "R": r"\mathbb{R}", "JSD": r"\operatorname{JSD}", "KL": r"\operatorname{KL}"}
INSTALL = re.compile(r"(ganlib @ git\+)(https://[^\"'@\s]+)")
FENCE = re.compile(r"^(?P<fence>```+|:::+)\s*\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>[^\n]*)$", re.M)
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
TARGET = re.compile(r"^\((?P<label>[\w-]+)\)=[ \t]*\n?", re.M)
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error",
               "seealso"}
EDITIONS = ("colab", "student")


def book_url(repository: str = REPOSITORY) -> str:
    """The published book: GitHub Pages of the repository (``https://owner.github.io/repo/``)."""
    owner, repo = repository.rstrip("/").split("/")[-2:]
    return f"https://{owner}.github.io/{repo}/"


def chapter_number(stem: str) -> str:
    """"07_wgan" -> "7", "07_wgan_keras" -> "7K" (a Keras companion)."""
    number = str(int(stem.split("_")[0])) if stem[:2].isdigit() else stem
    return number + ("K" if stem.endswith("_keras") else "")


def _read_config(root: Path) -> dict:
    path = root / "_config.yml"
    if not path.is_file():
        return {}
    import yaml
    return yaml.safe_load(path.read_text()) or {}


def _authors(field_text: str) -> str:
    names = [n.strip() for n in re.split(r"\s+and\s+", field_text.strip()) if n.strip()]
    last = [re.sub(r"[{}\\\"']", "", n.split(",")[0] if "," in n else n.split()[-1]).strip() for n in names]
    if not last:
        return "?"
    if len(last) == 1:
        return last[0]
    return f"{last[0]} and {last[1]}" if len(last) == 2 else f"{last[0]} et al."


def read_bibliography(path: Path) -> dict:
    """``{key: (authors, year)}`` of a BibTeX file, enough for "(Author et al., year)"."""
    entries = {}
    if not path.is_file():
        return entries
    for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", path.read_text(), re.S):
        key, body = match.groups()
        author = re.search(r"\bauthor\s*=\s*\{(.*?)\},?\s*\n", body, re.S)
        year = re.search(r"\byear\s*=\s*\{?(\d{4})", body)
        entries[key] = (_authors(author.group(1)) if author else key, year.group(1) if year else "n.d.")
    return entries


@dataclass
class Book:
    """What the conversion needs to know about the whole book: URLs, labels, citations, macros."""

    url: str = book_url()
    repository: str = REPOSITORY
    version: str = __version__
    notebooks_dir: Path = ROOT / "notebooks"
    macros: dict = field(default_factory=lambda: dict(MACROS))
    bibliography: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)   # label -> (page path without suffix, link text)
    numbers: dict = field(default_factory=dict)  # exercise label -> "7.3"

    @classmethod
    def from_root(cls, root: str | Path = ROOT, notebooks_dir: str | Path | None = None) -> "Book":
        root = Path(root)
        config = _read_config(root)
        repository = config.get("repository", {}).get("url", REPOSITORY)
        macros = (config.get("sphinx", {}).get("config", {}).get("mathjax3_config", {})
                  .get("tex", {}).get("macros")) or MACROS
        book = cls(url=book_url(repository), repository=repository,
                   notebooks_dir=Path(notebooks_dir) if notebooks_dir else root / "notebooks",
                   macros={k: v if isinstance(v, str) else v[0] for k, v in macros.items()},
                   bibliography=read_bibliography(root / "references.bib"))
        for path in sorted(book.notebooks_dir.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            page = f"notebooks/{path.stem}"
            for k, ex in enumerate(parse_exercises(nb, path.stem), 1):
                number = f"{chapter_number(path.stem)}.{k}"
                book.numbers[ex.label] = number
                book.labels[ex.label] = (page, number)  # the text reads "exercise {ref}`label`"
            for cell in nb.cells:
                if cell.cell_type == "markdown":
                    for target in TARGET.finditer(cell.source):
                        book.labels.setdefault(target.group("label"), (page, target.group("label")))
        return book

    def page_url(self, page: str, anchor: str = "") -> str:
        return f"{self.url}{page}.html" + (f"#{anchor}" if anchor else "")


def _split_role_text(text: str) -> tuple[str | None, str]:
    """``"title <target>"`` -> ("title", "target"); ``"target"`` -> (None, "target")."""
    match = re.match(r"^(.*?)\s*<([^<>]+)>$", text.strip(), re.S)
    return (match.group(1), match.group(2)) if match else (None, text.strip())


def _page_title(path: Path) -> str | None:
    if path.suffix == ".md" and path.is_file():
        heading = re.search(r"^#\s+(.+)$", path.read_text(), re.M)
        return heading.group(1).strip() if heading else None
    return None


def _role(match: re.Match, book: Book, page: str) -> str:
    role, text = match.group("role"), match.group("text")
    if role.startswith("cite"):
        refs = book.url + "book/references.html"
        keys = [k.strip() for k in text.split(",") if k.strip()]
        found = [(book.bibliography.get(k, (k, "n.d.")), k) for k in keys]
        if role in ("cite:t", "cite:ts"):
            return "; ".join(f"[{a} ({y})]({refs})" for (a, y), _ in found)
        return "(" + "; ".join(f"[{a}, {y}]({refs})" for (a, y), _ in found) + ")"
    if role == "math":
        return f"${text}$"
    if role in ("ref", "numref", "eq"):
        title, label = _split_role_text(text)
        where, default = book.labels.get(label, (page, label))
        anchor = f"equation-{label}" if role == "eq" else label
        shown = title or (f"({label})" if role == "eq" else default)
        return f"[{shown.replace('%s', default)}]({book.page_url(where, anchor)})"
    if role == "doc":
        title, target = _split_role_text(text)
        path = (Path(page).parent / target) if not target.startswith("/") else Path(target.lstrip("/"))
        parts = []
        for part in path.parts:  # resolve "..", without touching the file system
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        target_page = "/".join(parts)
        shown = title or _page_title(book.notebooks_dir.parent / f"{target_page}.md") or target_page
        return f"[{shown}]({book.page_url(target_page)})"
    return text  # any other role: its text (e.g. {sub}, {abbr})


def expand_macros(text: str, book: Book) -> str:
    for name, body in book.macros.items():
        text = re.sub(r"\\" + name + r"(?![A-Za-z])", lambda _m, body=body: body, text)
    return text


def _directive_body(block: str) -> tuple[str, dict]:
    """A directive's body without its fences, and its ``:option:`` lines as a dict."""
    lines = block.strip("\n").splitlines()
    if lines and FENCE.match(lines[0]):
        lines = lines[1:]
    if lines and re.match(r"^(```+|:::+)\s*$", lines[-1]):
        lines = lines[:-1]
    options = {}
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        options[key] = value.strip()
    return "\n".join(lines).strip("\n"), options


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def _directives(text: str, book: Book, page: str) -> str:
    """Admonitions as block quotes, includes inlined (outermost first, then their bodies)."""
    out, pos = [], 0
    while True:
        match = FENCE.search(text, pos)
        if match is None:
            out.append(text[pos:])
            return "".join(out)
        fence, name, arg = match.group("fence"), match.group("name"), match.group("arg").strip()
        close = re.compile(r"^" + re.escape(fence) + r"\s*$", re.M)
        end = close.search(text, match.end())
        stop = end.end() if end else len(text)
        block = text[match.start():stop]
        body, _ = _directive_body(block)
        out.append(text[pos:match.start()])
        if name in ADMONITIONS or name == "admonition":
            title = arg if name == "admonition" else (arg or name.capitalize())
            inner = _directives(body, book, page)
            out.append(_quote((f"**{title}**\n\n" if title else "") + inner))
        elif name == "include":
            path = book.notebooks_dir / arg
            out.append(_directives(path.read_text(), book, page).strip("\n") if path.is_file()
                       else f"(see the book: {book.page_url(page)})")
        else:  # an unknown directive is kept, so that myst_left reports it
            out.append(block)
        pos = stop


def convert_markdown(text: str, book: Book, page: str) -> str:
    """One Markdown cell of the book (not an exercise or solution) as plain Jupyter Markdown."""
    text = TARGET.sub(lambda m: f'<a id="{m.group("label")}"></a>\n', text)
    text = _directives(text, book, page)
    text = ROLE.sub(lambda m: _role(m, book, page), text)
    return expand_macros(text, book)


def exercise_markdown(exercise: Exercise, source: str, book: Book, page: str, extra: str = "") -> str:
    """An exercise cell as a numbered heading, its difficulty and time, then its text."""
    match = EXERCISE.search(source)
    before = convert_markdown(source[:match.start()].strip("\n"), book, page) if match else ""
    body, _ = _directive_body(source[match.start():]) if match else (source, {})
    body = re.sub(r"^\s*[★☆]{3}\s*·\s*\d+\s*min\b[^\n]*\n?", "", body, count=1).strip("\n")
    number = book.numbers.get(exercise.label, "")
    title = exercise.title.replace("(auto-checked)", "").strip()
    facts = [exercise.difficulty if exercise.stars else None,
             f"{exercise.minutes} min" if exercise.minutes else None,
             "auto-checked: run the check cell below" if exercise.auto_checked else None, extra or None]
    head = (f'<a id="{exercise.label}"></a>\n### Exercise {number}: {title}\n\n'
            + (f"*{' · '.join(f for f in facts if f)}*\n\n" if any(facts) else ""))
    return (before + "\n\n" if before else "") + head + convert_markdown(body, book, page)


def solution_markdown(cells: list, book: Book, page: str) -> str:
    """The text of a solution's Markdown cells, without fences."""
    parts = []
    for cell in cells:
        if cell.cell_type != "markdown" or SOLUTION_START.search(cell.source) or SOLUTION_END.search(cell.source):
            continue
        body, _ = _directive_body(cell.source)
        if body.strip():
            parts.append(convert_markdown(body, book, page))
    return "\n\n".join(parts)


def pin_install(source: str, book: Book) -> str:
    """The setup cell installing the tagged release ``v<version>`` of the repository."""
    return INSTALL.sub(lambda m: f"{m.group(1)}{book.repository}@v{book.version}", source)


def _markdown_cell(source: str, **metadata):
    cell = nbformat.v4.new_markdown_cell(source, metadata=metadata)
    return cell


def _clear(cell):
    cell = nbformat.from_dict(dict(cell))
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


ANSWER_PROMPT = "**Your answer** (double-click to write it here):\n\n"


def convert_notebook(nb: nbformat.NotebookNode, stem: str, book: Book, edition: str = "colab"):
    """The ``edition`` ("colab": solutions folded; "student": removed, answer cells) of one chapter."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    page = f"notebooks/{stem}"
    exercises = parse_exercises(nb, stem)
    role = {}
    for ex in exercises:
        role[id(nb.cells[ex.index])] = ("exercise", ex)
        role.update({id(c): ("solution", ex) for c in ex.solution})
        if ex.check is not None:
            role[id(ex.check)] = ("check", ex)
    cells, collapsed, inside = [], [], False
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        kind, ex = role.get(id(cell), (None, None))
        if edition == "student" and (STUDENT_REMOVE in tags or "solution" in tags):
            continue
        if kind == "exercise":
            cells.append(_markdown_cell(exercise_markdown(ex, cell.source, book, page)))
            if edition == "student" and not ex.auto_checked:
                cells.append(_markdown_cell(ANSWER_PROMPT + "...", tags=["answer"]))
            continue
        if kind == "solution":
            is_md = cell.cell_type == "markdown"
            if edition == "student":
                continue
            if is_md and SOLUTION_START.search(cell.source):
                inside = True
                heading = _markdown_cell(f"#### Solution to exercise {book.numbers.get(ex.label, '')}\n\n"
                                         "*Folded: open it after you have tried.*")
                heading.metadata["id"] = f"solution-{ex.label}"
                collapsed.append(heading.metadata["id"])
                cells.append(heading)
            elif is_md and SOLUTION_END.search(cell.source):
                inside = False
                if ex.check is not None:
                    cells.append(_markdown_cell("#### Check your function"))
            elif is_md and SOLUTION.search(cell.source):
                text = solution_markdown([cell], book, page)
                cells.append(_markdown_cell(f"<details>\n<summary>Solution (open it after you have tried)"
                                            f"</summary>\n\n{text}\n\n</details>"))
            elif inside and is_md:
                cells.append(_markdown_cell(convert_markdown(cell.source, book, page)))
            else:
                code = _clear(cell)
                code.metadata.setdefault("jupyter", {})["source_hidden"] = True
                cells.append(code)
            continue
        cell = _clear(cell)
        if cell.cell_type == "markdown":
            cell.source = convert_markdown(cell.source, book, page)
        elif INSTALL.search(cell.source):
            cell.source = pin_install(cell.source, book)
        cells.append(cell)
    out = nbformat.from_dict(dict(nb))
    out.cells = cells
    label = {"colab": "Colab edition (solutions folded)", "student": "student edition (no solutions)"}[edition]
    cells.insert(1, _markdown_cell(
        f"*The {label} of [this chapter]({book.page_url(page)}) of the book, made from ganlib "
        f"{book.version}: its setup cell installs that release.*"))
    for cell in out.cells:  # fresh ids where a cell was made or copied
        cell.pop("id", None)
    meta = out.metadata
    meta["ganlib"] = {"edition": edition, "version": book.version, "chapter": stem}
    meta["colab"] = {"provenance": [], "toc_visible": True, "collapsed_sections": collapsed}
    if stem[:2].isdigit() and int(stem[:2]) >= 4:  # chapters that train: ask Colab for a GPU
        meta["accelerator"] = "GPU"
        meta["colab"]["gpuType"] = "T4"
    out.nbformat, out.nbformat_minor = 4, 5
    _ensure_ids(out)
    return out


def _ensure_ids(nb) -> None:
    import uuid
    seen = set()
    for cell in nb.cells:
        ident = cell.metadata.get("id") or uuid.uuid5(uuid.NAMESPACE_URL, cell.source + str(len(seen))).hex[:8]
        while ident in seen:
            ident += "x"
        seen.add(ident)
        cell["id"] = ident


def myst_left(nb: nbformat.NotebookNode) -> list[str]:
    """Every piece of MyST syntax left in ``nb``'s Markdown cells (an empty list when none)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        for pattern, what in ((FENCE, "directive"), (ROLE, "role"), (TARGET, "target"),
                              (re.compile(r"^:(label|class|name|nonumber):", re.M), "option")):
            found += [f"cell {i}: {what} {m.group(0)[:60]!r}" for m in pattern.finditer(text)]
        for name in MACROS:
            found += [f"cell {i}: macro \\{name}" for _ in re.finditer(r"\\" + name + r"(?![A-Za-z])", text)]
    return found


def write_edition(src_dir: str | Path, out_dir: str | Path, edition: str = "colab",
                  root: str | Path = ROOT) -> list[Path]:
    """Convert every notebook under ``src_dir`` into ``out_dir``; returns the files written."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    notebooks = sorted(src_dir.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no .ipynb notebooks in {src_dir}")
    book = Book.from_root(root, src_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        converted = convert_notebook(nbformat.read(path, as_version=4), path.stem, book, edition)
        left = myst_left(converted)
        if left:
            raise ValueError(f"{path.name}: MyST left in the {edition} edition: {left[:5]}")
        target = out_dir / path.name
        nbformat.write(converted, target)
        written.append(target)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", help="folder of chapter notebooks")
    parser.add_argument("--out", default="colab", help="folder for the edition")
    parser.add_argument("--edition", choices=EDITIONS, default="colab")
    args = parser.parse_args(argv)
    for path in write_edition(args.notebooks, args.out, args.edition):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
