"""Catalog problems as data, so every one of them can be collected and shown together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CatalogError", "PathPart", "Problem", "field_path"]

PathPart = str | int


def field_path(parts: Sequence[PathPart]) -> str:
    """Render ``("server", "secrets", 0, "path")`` as ``server.secrets[0].path``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the catalog, located precisely enough to fix without searching."""

    file: Path
    line: int
    column: int
    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message} [{self.rule}]"


class CatalogError(Exception):
    """The catalog cannot be used; ``problems`` lists every reason found in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the catalog:\n{lines}")
