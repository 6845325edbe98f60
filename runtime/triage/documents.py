"""The searchable text of a tool, built only from what MCP ``tools/list`` gives.

Name, title, description, parameter names/descriptions/enums and annotations become a few
weighted fields for keyword search and one short text to embed. The digest covers exactly
the inputs, so the index re-embeds a tool only when what it says about itself changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.types import Tool

from runtime.triage.terms import words

__all__ = ["DOCUMENT_VERSION", "ToolDocument", "build_document", "name_prefix", "summary"]

#: Bump when the document layout changes, so every stored embedding is recomputed.
DOCUMENT_VERSION = 2

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


@dataclass(frozen=True)
class ToolDocument:
    """One tool's fields for keyword search, its text to embed, and a digest of both."""

    server: str
    tool: str
    name_text: str
    title: str
    summary: str
    description: str
    parameters: str
    read_only: bool | None
    destructive: bool | None
    embed_text: str
    digest: str

    @property
    def key(self) -> str:
        return f"{self.server}/{self.tool}"


def summary(description: str, limit: int = 240) -> str:
    """The first sentence or two of a description: where tool authors say what it does."""
    text = description.strip()
    if not text:
        return ""
    parts = _SENTENCE_END.split(text)
    out = parts[0]
    for part in parts[1:]:
        if len(out) >= 80 or len(out) + len(part) > limit:
            break
        out = f"{out} {part}"
    return out[:limit].strip()


def _properties(schema: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    props = schema.get("properties")
    if isinstance(props, Mapping):
        for name, spec in props.items():
            if isinstance(spec, Mapping):
                yield str(name), spec


def _parameter_text(schema: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for name, spec in _properties(schema):
        parts.append(" ".join(words(name)))
        description = spec.get("description")
        if isinstance(description, str):
            parts.append(summary(description, 160))
        enum = spec.get("enum")
        if isinstance(enum, list):
            parts.append(" ".join(" ".join(words(str(v))) for v in enum[:20]))
    return ". ".join(p for p in parts if p)


def name_prefix(names: Sequence[str]) -> str:
    """The first word most of a server's tool names share (``opn_``, ``unifi_``), if any.

    Such a prefix names the server, not the tool, so it is left out of the tool's name text.
    """
    firsts = [words(n)[0] for n in names if words(n)]
    if len(firsts) < 3:
        return ""
    top = max(set(firsts), key=firsts.count)
    return top if firsts.count(top) >= 0.6 * len(firsts) else ""


def build_document(server: str, tool: Tool, prefix: str = "") -> ToolDocument:
    """Build the document of ``tool`` as served by ``server`` (``prefix``: see name_prefix)."""
    name_words = words(tool.name)
    if prefix and len(name_words) > 1 and name_words[0] == prefix:
        name_words = name_words[1:]
    name_text = " ".join(name_words)
    annotations = tool.annotations
    title = tool.title or (annotations.title if annotations and annotations.title else "")
    description = tool.description or ""
    first = summary(description)
    parameters = _parameter_text(tool.input_schema)
    read_only = annotations.read_only_hint if annotations else None
    destructive = annotations.destructive_hint if annotations else None
    embed_text = f"{name_text}: {first}" if first else name_text
    digest_source = json.dumps(
        {
            "v": DOCUMENT_VERSION,
            "server": server,
            "prefix": prefix,
            "tool": tool.model_dump(mode="json", by_alias=True, exclude_none=True),
        },
        sort_keys=True,
    )
    return ToolDocument(
        server=server,
        tool=tool.name,
        name_text=name_text,
        title=title,
        summary=first,
        description=description,
        parameters=parameters,
        read_only=read_only,
        destructive=destructive,
        embed_text=embed_text,
        digest=hashlib.sha256(digest_source.encode()).hexdigest(),
    )
