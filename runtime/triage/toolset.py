"""The tools triage chooses from: each server's MCP tool list plus what the server is for.

Tools are the MCP SDK's own ``mcp.types.Tool``; a file in the ``mcp-tools`` format
(``{"server", "tools": [...], ...}``, as captured from real servers) loads into the same
shape a live ``tools/list`` gives, so the eval fleet and the live registry index alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mcp.types import Tool
from pydantic import ValidationError

__all__ = ["ServerTools", "ToolFileError", "load_tool_dir", "load_tool_file"]


class ToolFileError(ValueError):
    """A tool-list file is missing, not JSON, or not in the expected shape."""


@dataclass(frozen=True)
class ServerTools:
    """One server's tools and a sentence on its role, which helps rank servers before tools."""

    name: str
    tools: tuple[Tool, ...]
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: Tools the catalog declares read-only (``readOnlyTools``) beyond their annotations.
    read_only_tools: frozenset[str] = frozenset()

    def tool(self, name: str) -> Tool:
        """Return the tool called ``name``.

        Raises:
            KeyError: the server has no such tool.
        """
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise KeyError(f"{self.name}/{name}")


def load_tool_file(path: Path, *, description: str = "") -> ServerTools:
    """Read one ``<server>.json`` in the mcp-tools format.

    Raises:
        ToolFileError: naming the file and what is wrong with it.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ToolFileError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tools"), list):
        raise ToolFileError(f"{path}: expected an object with a `tools` list")
    server = data.get("server") or path.stem
    tools: list[Tool] = []
    for position, raw in enumerate(data["tools"]):
        try:
            tools.append(Tool.model_validate(raw))
        except ValidationError as exc:
            raise ToolFileError(f"{path}: tools[{position}]: {exc.errors()[0]['msg']}") from exc
    names = [t.name for t in tools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ToolFileError(f"{path}: duplicate tool names: {', '.join(duplicates)}")
    return ServerTools(name=str(server), tools=tuple(tools), description=description)


def load_tool_dir(
    directory: Path,
    servers: Iterable[str] | None = None,
    descriptions: dict[str, str] | None = None,
) -> list[ServerTools]:
    """Load every ``*.json`` in ``directory``, or exactly the named ``servers`` from it.

    Raises:
        ToolFileError: the directory is missing, a named server has no file, or a file is bad.
    """
    if not directory.is_dir():
        raise ToolFileError(f"{directory}: not a directory of tool lists")
    descriptions = descriptions or {}
    wanted: Sequence[str]
    if servers is None:
        wanted = sorted(p.stem for p in directory.glob("*.json"))
    else:
        wanted = list(servers)
        missing = [s for s in wanted if not (directory / f"{s}.json").is_file()]
        if missing:
            raise ToolFileError(f"{directory}: no tool list for {', '.join(missing)}")
    return [
        load_tool_file(directory / f"{name}.json", description=descriptions.get(name, ""))
        for name in wanted
    ]
