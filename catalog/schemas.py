"""The JSON Schemas of the catalog's three file kinds, generated from the typed model."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import BaseModel

from catalog.model import ModelsFile, Platform, ServerFile

__all__ = ["FILE_KINDS", "SCHEMA_DIR", "generate_schema", "validator", "write_schemas"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
FILE_KINDS: dict[str, type[BaseModel]] = {
    "platform": Platform,
    "models": ModelsFile,
    "server": ServerFile,
}


def generate_schema(kind: str) -> dict[str, Any]:
    """Draft 2020-12 schema for one file kind, exactly as committed under ``schemas/``."""
    schema = FILE_KINDS[kind].model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://mcpfleet.dev/schemas/{kind}.schema.json",
        **schema,
    }


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Regenerate the committed schema files after a model change."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in FILE_KINDS:
        path = directory / f"{kind}.schema.json"
        path.write_text(json.dumps(generate_schema(kind), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator over the committed schema file (what editors and CI see too)."""
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
