"""The committed JSON Schemas match the typed model and accept the shipped files."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from catalog.schemas import FILE_KINDS, SCHEMA_DIR, generate_schema

from .conftest import SHIPPED


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_committed_schema_is_in_step_with_the_model(kind: str) -> None:
    committed = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
    assert committed == generate_schema(kind), (
        "run `mcpfleet catalog schema --write` after changing catalog/model.py"
    )


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_schema_is_a_valid_draft_2020_12_schema(kind: str) -> None:
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_shipped_file_validates_with_a_plain_schema_validator() -> None:
    """What an editor or another tool sees, without mcpfleet's Python."""
    yaml = YAML(typ="safe")
    files = [("platform", SHIPPED / "platform.yaml"), ("models", SHIPPED / "models.yaml")]
    files += [("server", f) for f in sorted((SHIPPED / "servers").glob("*.yaml"))]
    for kind, file in files:
        schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
        errors = list(Draft202012Validator(schema).iter_errors(yaml.load(file.read_text())))
        assert errors == [], f"{file}: {errors[0].message}"


def test_unknown_fields_are_rejected_everywhere() -> None:
    """`additionalProperties: false` on every object, so typos never pass silently."""
    schema = generate_schema("server")
    objects = [d for d in schema["$defs"].values() if d.get("type") == "object"]
    assert objects
    assert all(d.get("additionalProperties") is False for d in objects)
