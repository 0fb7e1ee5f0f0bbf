"""Show the real source of a ganlib function in the page, so the reader reads
the code that actually runs instead of a second copy that could drift."""
from __future__ import annotations

import inspect
from pathlib import Path


class Source:
    """Source code that renders as a highlighted block in Jupyter and the book."""

    def __init__(self, obj, start: str | None = None, end: str | None = None):
        lines, self.first_line = inspect.getsourcelines(obj)
        if start is not None or end is not None:
            lines, offset = _excerpt(lines, start, end, obj)
            self.first_line += offset
        self.code = "".join(lines).rstrip()
        path = Path(inspect.getsourcefile(obj))
        parts = path.parts
        self.where = "/".join(parts[parts.index("ganlib"):]) if "ganlib" in parts else path.name
        self.name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))

    def _repr_markdown_(self) -> str:
        return (f"`{self.name}` from `{self.where}`, line {self.first_line}:\n\n"
                f"```python\n{self.code}\n```")

    def __repr__(self) -> str:
        return f"# {self.name} ({self.where}, line {self.first_line})\n{self.code}"


def _excerpt(lines, start, end, obj):
    """The lines from the first containing ``start`` to the next containing ``end`` (inclusive)."""
    first = 0
    if start is not None:
        hits = [i for i, line in enumerate(lines) if start in line]
        if not hits:
            raise ValueError(f"{start!r} does not occur in the source of {obj.__qualname__}")
        first = hits[0]
    last = len(lines) - 1
    if end is not None:
        hits = [i for i, line in enumerate(lines) if end in line and i >= first]
        if not hits:
            raise ValueError(f"{end!r} does not occur after {start!r} in the source of {obj.__qualname__}")
        last = hits[0]
    excerpt = lines[first:last + 1]
    indent = min(len(x) - len(x.lstrip()) for x in excerpt if x.strip())
    return [x[indent:] if x.strip() else x for x in excerpt], first


def show_source(obj, start: str | None = None, end: str | None = None) -> Source:
    """Display the source of a function or class (last expression of a cell).

    ``start`` / ``end``: show only the lines from the first one containing
    ``start`` to the next one containing ``end`` (the part a chapter discusses).
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)
            or inspect.ismodule(obj)):
        raise TypeError(f"show_source needs a function, class or module, got {type(obj).__name__}")
    return Source(obj, start, end)
