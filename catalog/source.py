"""YAML documents that remember where each value came from, for errors with line numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from catalog.limits import MAX_FILE_BYTES
from catalog.problems import PathPart, Problem, field_path
from catalog.shape import shape_problem

__all__ = ["Document", "field_path", "read_document", "to_plain"]


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: its plain data plus the round-trip tree that knows positions."""

    file: Path
    tree: Any

    @property
    def data(self) -> Any:
        return to_plain(self.tree)

    def locate(self, parts: Sequence[PathPart]) -> tuple[int, int]:
        """1-based line and column of the deepest node along ``parts`` that exists."""
        node, line, col = self.tree, 1, 1
        for part in parts:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part)
                line, col = line + 1, col + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, col = node.lc.item(part)
                line, col = line + 1, col + 1
                node = node[part]
            else:
                break
        return line, col

    def problem(self, parts: Sequence[PathPart], rule: str, message: str) -> Problem:
        line, col = self.locate(parts)
        return Problem(self.file, line, col, field_path(parts), rule, message)


def to_plain(node: Any) -> Any:
    """Strip ruamel's comment-carrying containers down to dicts and lists."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node


def read_document(file: Path) -> Document | Problem:
    """Parse one YAML file, or say exactly where its syntax breaks or it grows too big.

    The size, nesting and alias expansion bounds of :mod:`catalog.limits` are checked
    before the tree is built, so no file can exhaust memory or the stack here.
    """
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(file, 1, 1, "", "file.unreadable", f"cannot read file: {exc}")
    if len(raw) > MAX_FILE_BYTES:
        return Problem(
            file,
            1,
            1,
            "",
            "file.too-large",
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB, the most a catalog file "
            "may hold",
        )
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True  # so a round-trip write keeps the operator's quoting
    try:
        problem = shape_problem(file, yaml.parse(text))
        if problem is not None:
            return problem
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        return Problem(file, line, col, "", "yaml.syntax", f"invalid YAML: {reason}")
    if tree is None:
        tree = CommentedMap()
    return Document(file, tree)
