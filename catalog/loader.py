"""Read a catalog directory into a typed :class:`Catalog`, or list every problem in it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import ValidationError as SchemaError
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from catalog.checks import cross_check
from catalog.limits import MAX_CATALOG_BYTES, MAX_PROBLEMS_PER_FILE
from catalog.model import Catalog, ModelsFile, Platform, ServerFile
from catalog.problems import CatalogError, Problem
from catalog.schemas import FILE_KINDS, validator
from catalog.source import Document, read_document

__all__ = ["Loaded", "check_catalog", "load_catalog", "validate_document"]

_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Loaded:
    """A file's document beside the model built from it (for cross-file error locations)."""

    doc: Document
    model: Any


def load_catalog(directory: Path | str, *, server_dirs: Sequence[Path] = ()) -> Catalog:
    """Load and cross-check the catalog in ``directory``.

    ``server_dirs`` adds server files from elsewhere (the local overlay of ``mcpfleet up``).

    Raises:
        CatalogError: with every problem found, each naming file, line and field.
    """
    catalog, problems = check_catalog(directory, server_dirs=server_dirs)
    if catalog is None:
        raise CatalogError(problems)
    return catalog


def check_catalog(
    directory: Path | str, *, server_dirs: Sequence[Path] = ()
) -> tuple[Catalog | None, list[Problem]]:
    """Validate every file and every cross-file rule; never stop at the first problem."""
    root = Path(directory)
    problems: list[Problem] = []
    platform = _load_one(root / "platform.yaml", "platform", problems)
    models = _load_one(root / "models.yaml", "models", problems)
    servers: list[Loaded] = []
    own_files = sorted((root / "servers").glob("*.yaml"))
    server_files = list(own_files)
    for extra in server_dirs:
        server_files += sorted(Path(extra).glob("*.yaml"))
    if not server_files:
        problems.append(
            Problem(root / "servers", 1, 1, "", "file.missing", "no server files (*.yaml) found")
        )
    for file in server_files:
        loaded = _load_one(file, "server", problems)
        if loaded is not None:
            servers.append(loaded)
    problems += cross_check(platform, models, servers)
    problems += _deployed_size(root, [root / "platform.yaml", root / "models.yaml", *own_files])
    if problems or platform is None or models is None:
        return None, sorted(problems)
    catalog = Catalog(
        platform=platform.model,
        models=models.model,
        servers=tuple(s.model.server for s in sorted(servers, key=lambda s: s.model.server.name)),
    )
    return catalog, []


def _deployed_size(root: Path, files: Sequence[Path]) -> list[Problem]:
    """The deployed catalog is one ConfigMap: past 1 MiB the API server refuses it."""
    size = sum(file.stat().st_size for file in files if file.is_file())
    if size <= MAX_CATALOG_BYTES:
        return []
    return [
        Problem(
            root,
            1,
            1,
            "",
            "catalog.too-large",
            f"platform.yaml, models.yaml and servers/ hold {size} bytes; the catalog is "
            f"deployed as one ConfigMap, which Kubernetes limits to {MAX_CATALOG_BYTES} bytes",
        )
    ]


def _load_one(file: Path, kind: str, problems: list[Problem]) -> Loaded | None:
    if not file.is_file():
        problems.append(Problem(file, 1, 1, "", "file.missing", f"missing {kind} file"))
        return None
    doc = read_document(file)
    if isinstance(doc, Problem):
        problems.append(doc)
        return None
    model, found = validate_document(doc, kind)
    problems += found
    return Loaded(doc, model) if model is not None else None


def validate_document(
    doc: Document, kind: str
) -> tuple[Platform | ModelsFile | ServerFile | None, list[Problem]]:
    """Check one document against its JSON Schema, then build its typed model."""
    data = doc.data
    problems = [
        p for err in _leaf_errors(validator(kind).iter_errors(data)) for p in _from_schema(doc, err)
    ]
    if problems:
        return None, _capped(sorted(problems))
    model_type: type[BaseModel] = FILE_KINDS[kind]
    try:
        return model_type.model_validate(data), []  # type: ignore[return-value]
    except ModelError as exc:
        return None, [_from_model(doc, data, err) for err in exc.errors()]


def _capped(problems: list[Problem]) -> list[Problem]:
    """The first problems of one file, and a line counting the rest (a file with thousands
    of bad values should not bury the first one)."""
    if len(problems) <= MAX_PROBLEMS_PER_FILE:
        return problems
    shown, rest = problems[:MAX_PROBLEMS_PER_FILE], problems[MAX_PROBLEMS_PER_FILE:]
    first = rest[0]
    summary = Problem(
        first.file,
        first.line,
        first.column,
        first.field,
        "file.more-problems",
        f"{len(rest)} more problems in this file are not listed; fix the ones above first",
    )
    return [*shown, summary]


def _leaf_errors(errors: Iterable[SchemaError]) -> Iterator[SchemaError]:
    """Descend into ``oneOf`` errors along the branch that the object's ``kind`` selects."""
    for err in errors:
        if err.validator == "oneOf" and isinstance(err.instance, dict) and err.context:
            branches: dict[int, list[SchemaError]] = {}
            for sub in err.context:
                branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
            chosen = [
                subs
                for subs in branches.values()
                if not any(
                    list(s.relative_path) == ["kind"]
                    or (s.validator == "required" and "'kind'" in s.message)
                    for s in subs
                )
            ]
            if len(chosen) == 1:
                yield from _leaf_errors(chosen[0])
                continue
            kinds = sorted(
                str(b.get("properties", {}).get("kind", {}).get("const"))
                for b in _resolve_branches(err)
            )
            err.message = f"`kind` must be one of: {', '.join(kinds)}"
            err.path.append("kind")
        yield err


def _resolve_branches(err: SchemaError) -> list[dict[str, Any]]:
    defs = err.schema.get("$defs") or {}
    resolver_root = validator("server").schema
    out = []
    for branch in err.validator_value:
        ref = branch.get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        out.append(defs.get(name) or resolver_root.get("$defs", {}).get(name, branch))
    return out


def _from_schema(doc: Document, err: SchemaError) -> list[Problem]:
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        return [
            doc.problem(
                [*path, k],
                "schema.unknown-field",
                f"unknown field `{k}` (allowed: {', '.join(allowed)})",
            )
            for k in extra
        ]
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        problem = doc.problem(path, "schema.required", f"missing required field `{missing}`")
        return [
            Problem(
                problem.file,
                problem.line,
                problem.column,
                ".".join(x for x in (problem.field, missing) if x),
                problem.rule,
                problem.message,
            )
        ]
    return [doc.problem(path, f"schema.{err.validator}", _message(err))]


def _message(err: SchemaError) -> str:
    """jsonschema's message, without quoting a value that may be megabytes long."""
    limit, instance = err.validator_value, err.instance
    if err.validator == "maxLength" and isinstance(instance, str):
        return f"is {len(instance)} characters long; at most {limit} are allowed"
    if err.validator == "maxItems" and isinstance(instance, list):
        return f"has {len(instance)} items; at most {limit} are allowed"
    if err.validator == "maxProperties" and isinstance(instance, dict):
        return f"has {len(instance)} entries; at most {limit} are allowed"
    message = err.message
    return message if len(message) <= _MESSAGE_CHARS else message[: _MESSAGE_CHARS - 1] + "…"


def _from_model(doc: Document, data: Any, err: Any) -> Problem:
    """Map a pydantic error's location (which includes union tags) back onto the YAML."""
    parts: list[str | int] = []
    node = data
    for part in err["loc"]:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            node = node[part]
            parts.append(part)
        elif isinstance(node, dict) and part == node.get("kind"):
            continue  # the discriminated union's tag, not a YAML key
        else:
            parts.append(part)
            break
    message = str(err["msg"]).removeprefix("Value error, ")
    return doc.problem(parts, f"model.{err['type']}", message)
