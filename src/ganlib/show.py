"""Show the real source of a ganlib function in the page, so the reader reads
the code that actually runs instead of a second copy that could drift."""
from __future__ import annotations

import inspect
from pathlib import Path


class Source:
    """Source code that renders as a highlighted block in Jupyter and the book."""

    def __init__(self, obj):
        self.code = inspect.getsource(obj).rstrip()
        lines, self.first_line = inspect.getsourcelines(obj)
        path = Path(inspect.getsourcefile(obj))
        parts = path.parts
        self.where = "/".join(parts[parts.index("ganlib"):]) if "ganlib" in parts else path.name
        self.name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))

    def _repr_markdown_(self) -> str:
        return (f"`{self.name}` from `{self.where}`, line {self.first_line}:\n\n"
                f"```python\n{self.code}\n```")

    def __repr__(self) -> str:
        return f"# {self.name} ({self.where}, line {self.first_line})\n{self.code}"


def show_source(obj) -> Source:
    """Display the source of a function or class (last expression of a cell)."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)
            or inspect.ismodule(obj)):
        raise TypeError(f"show_source needs a function, class or module, got {type(obj).__name__}")
    return Source(obj)
