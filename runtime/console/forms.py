"""A tool's try-it form, made from its ``inputSchema``, and the arguments read back from it.

Scalars get real controls (text, number, a select for enums and booleans); arrays,
objects and unions get a JSON text area. What the browser sends is converted by the
schema's types, then the whole object is checked with ``jsonschema`` against the tool's
own schema, so the tool receives what it declared — and a mistake comes back as a
message beside its field, with everything typed kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jsonschema import exceptions as schema_errors
from jsonschema import validators

__all__ = [
    "ARGUMENT_PREFIX",
    "WHOLE_OBJECT",
    "FormField",
    "ToolForm",
    "read_arguments",
    "schema_problems",
]

ARGUMENT_PREFIX = "arg."
WHOLE_OBJECT = "arguments"
"""The field holding the whole arguments object when the schema names no properties."""

Kind = Literal["text", "textarea", "integer", "number", "boolean", "select", "json"]


@dataclass
class FormField:
    """One control: ``name`` is the form field, ``prop`` the schema property it fills."""

    prop: str
    name: str
    kind: Kind
    label: str
    required: bool = False
    description: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    value: str = ""
    error: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    placeholder: str = ""


@dataclass
class ToolForm:
    fields: list[FormField]
    errors: list[str] = field(default_factory=list)
    """Problems that belong to no single field (e.g. an extra property)."""

    @classmethod
    def of(
        cls,
        schema: Mapping[str, Any] | None,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
    ) -> ToolForm:
        """The controls for ``schema``, filled with ``values`` (or the schema's defaults)."""
        schema = schema or {}
        values = values or {}
        errors = dict(errors or {})
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            whole = FormField(
                prop=WHOLE_OBJECT,
                name=WHOLE_OBJECT,
                kind="json",
                label="Arguments (JSON object)",
                value=values.get(WHOLE_OBJECT, "{}"),
                error=errors.pop(WHOLE_OBJECT, None),
            )
            return cls([whole], list(errors.values()))
        required = set(schema.get("required") or [])
        fields = []
        for prop, spec in properties.items():
            spec = spec if isinstance(spec, dict) else {}
            control = _control(str(prop), spec, prop in required)
            given = values.get(control.name)
            control.value = given if given is not None else _default(control, spec)
            control.error = errors.pop(str(prop), None)
            fields.append(control)
        return cls(fields, list(errors.values()))


def read_arguments(
    schema: Mapping[str, Any] | None, form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments the form describes, and the problems by property (empty: valid)."""
    schema = schema or {}
    properties = schema.get("properties")
    problems: dict[str, str] = {}
    arguments: dict[str, Any] = {}
    if not isinstance(properties, dict) or not properties:
        text = str(form.get(WHOLE_OBJECT) or "{}").strip() or "{}"
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            return {}, {WHOLE_OBJECT: f"not valid JSON: {exc.msg} (line {exc.lineno})"}
        if not isinstance(parsed, dict):
            return {}, {WHOLE_OBJECT: "must be a JSON object"}
        arguments = parsed
    else:
        required = set(schema.get("required") or [])
        for prop, spec in properties.items():
            spec = spec if isinstance(spec, dict) else {}
            control = _control(str(prop), spec, prop in required)
            raw = form.get(control.name)
            text = raw if isinstance(raw, str) else ""
            if not text.strip() and control.kind != "text":
                if control.required:
                    problems[str(prop)] = "required"
                continue
            if control.kind == "text" and text == "":
                if control.required:
                    problems[str(prop)] = "required"
                continue
            try:
                arguments[str(prop)] = _convert(control, text)
            except ValueError as exc:
                problems[str(prop)] = str(exc)
    if not problems:
        problems = schema_problems(schema, arguments)
    return arguments, problems


# ----------------------------------------------------------------------------- controls


def _control(prop: str, spec: Mapping[str, Any], required: bool) -> FormField:
    kind = _kind(spec)
    control = FormField(
        prop=prop,
        name=ARGUMENT_PREFIX + prop,
        kind=kind,
        label=str(spec.get("title") or prop),
        required=required,
        description=str(spec.get("description") or ""),
    )
    if kind == "select":
        choices = spec.get("enum") or []
        control.options = [(json.dumps(c), str(c)) for c in choices]
        if not required:
            control.options.insert(0, ("", "— not set —"))
    elif kind == "boolean":
        control.options = [("true", "true"), ("false", "false")]
        if not required:
            control.options.insert(0, ("", "— not set —"))
    elif kind in ("integer", "number"):
        control.minimum = _number(spec.get("minimum"))
        control.maximum = _number(spec.get("maximum"))
    elif kind == "json":
        control.placeholder = "JSON, e.g. " + ("[]" if _types(spec) == {"array"} else "{}")
    return control


def _kind(spec: Mapping[str, Any]) -> Kind:
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        return "select"
    types = _types(spec)
    if types == {"string"}:
        long = spec.get("maxLength") is None or int(spec.get("maxLength") or 0) > 200
        return "textarea" if long and spec.get("format") is None and _multiline(spec) else "text"
    if types == {"integer"}:
        return "integer"
    if types == {"number"}:
        return "number"
    if types == {"boolean"}:
        return "boolean"
    return "json"


def _multiline(spec: Mapping[str, Any]) -> bool:
    """Free text the description calls long (a query, a script, a body) gets a text area."""
    words = str(spec.get("description") or "").lower()
    return any(w in words for w in ("query", "script", "body", "content", "sql", "yaml"))


def _types(spec: Mapping[str, Any]) -> set[str]:
    kind = spec.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind if k != "null"}
    return set()


def _default(control: FormField, spec: Mapping[str, Any]) -> str:
    if "default" not in spec:
        return ""
    value = spec["default"]
    if control.kind == "select":
        return json.dumps(value)
    if control.kind == "boolean":
        return "true" if value is True else "false" if value is False else ""
    if control.kind == "json":
        return json.dumps(value)
    return "" if value is None else str(value)


def _convert(control: FormField, text: str) -> Any:
    """Raises: ValueError with a message for the field."""
    if control.kind in ("text", "textarea"):
        return text
    if control.kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
    if control.kind == "number":
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError("must be a number") from None
        return int(number) if number.is_integer() and "." not in text else number
    if control.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("choose true or false")
        return text == "true"
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None


def schema_problems(schema: Mapping[str, Any], arguments: dict[str, Any]) -> dict[str, str]:
    """The schema's own verdict, by property; a schema the library cannot read is the
    tool's business (it answers for itself)."""
    try:
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
    except schema_errors.SchemaError:
        return {}
    problems: dict[str, str] = {}
    for error in cls(schema).iter_errors(arguments):
        where = str(error.path[0]) if error.path else _property_of(error)
        problems.setdefault(where, error.message)
    return problems


def _property_of(error: schema_errors.ValidationError) -> str:
    """``required`` and ``additionalProperties`` errors name their property in the message."""
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [p for p in error.validator_value if p in error.message]
        if missing:
            return str(missing[0])
    return WHOLE_OBJECT


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
