"""Write one server file the way an operator would: comments and key order kept."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from catalog.model import Server
from catalog.problems import CatalogError
from catalog.source import Document, read_document

__all__ = ["render_server", "write_server"]

_HEADER = "Proposed by mcpfleet discovery; review, then edit freely: comments are kept.\n"
_SERVER = TypeAdapter(Server)


def write_server(catalog_dir: Path | str, server: Server, *, header: str = _HEADER) -> Path:
    """Add ``servers/<name>.yaml`` or update it in place.

    Only the fields set on ``server`` are written; in an existing file they replace the
    operator's values at the same position, and everything else (comments, key order,
    fields not mentioned) stays as it was. The merged file is validated before it is
    written, and the write is atomic.

    Raises:
        CatalogError: the merged file would not validate; nothing was written.
    """
    file = Path(catalog_dir) / "servers" / f"{server.name}.yaml"
    text = render_server(server, existing=file if file.exists() else None, header=header)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, file)
    return file


def render_server(server: Server, *, existing: Path | None = None, header: str = _HEADER) -> str:
    """The text :func:`write_server` would write, validated.

    Raises:
        CatalogError: the result would not validate.
    """
    from catalog.loader import validate_document  # loader imports this module's package

    update = {"server": _SERVER.dump_python(server, mode="json", by_alias=True, exclude_unset=True)}
    update["server"].setdefault("kind", server.kind)
    yaml = _yaml()
    if existing is not None:
        doc = read_document(existing)
        if not isinstance(doc, Document):
            raise CatalogError([doc])
        tree = doc.tree
        _merge(tree, update)
        target = existing
    else:
        tree = CommentedMap(update)
        if header:
            tree.yaml_set_start_comment(header.rstrip("\n"))
        target = Path(f"servers/{server.name}.yaml")
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    text = buffer.getvalue()
    check = Document(target, yaml.load(text))
    _, problems = validate_document(check, "server")
    if problems:
        raise CatalogError(problems)
    return text


def _merge(target: CommentedMap, update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), CommentedMap):
            _merge(target[key], value)
        else:
            target[key] = value


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap the operator's long lines
    yaml.preserve_quotes = True
    return yaml
