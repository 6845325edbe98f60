"""The fleet's error body: writing it (services), and reading it (every client).

The gateway and the router answer ``{"error": {"code", "reason", ...detail}}``; the
standalone triage service still answers the flat ``{"error": code, "reason": ...}``;
FastAPI's own validation errors are ``{"detail": "..." | [{"msg", "loc"}, ...]}``; a proxy
in between may answer anything at all. Triage's gateway client, the router's client and
the command line read all of them through :func:`read_error`, so a refusal always
surfaces with its reason (never ``None``, never a raw JSON dump).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ERROR_BODY", "ErrorAnswer", "error_response", "read_error"]

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "reason"],
            "properties": {"code": {"type": "string"}, "reason": {"type": "string"}},
        }
    },
}
"""The JSON Schema of ``{"error": {"code", "reason"}}``, for OpenAPI ``responses=`` entries."""


def error_response(status: int, reason: str, *, code: str | None = None) -> JSONResponse:
    """The fleet's error body; ``code`` defaults from the status (bad_request, not_found)."""
    code = code or {400: "bad_request", 404: "not_found"}.get(status, "error")
    return JSONResponse({"error": {"code": code, "reason": reason}}, status_code=status)

_MAX_TEXT = 300


@dataclass(frozen=True)
class ErrorAnswer:
    """An error status with the service's machine code (if any) and a readable reason."""

    status: int
    reason: str
    code: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    """The rest of the nested error object (e.g. the router's ``attempts``)."""

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"HTTP {self.status}{code}: {self.reason}"


def read_error(status: int, body: Any) -> ErrorAnswer:
    """The error in ``body`` (parsed JSON, or the raw text when it was not JSON)."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            rest = {k: v for k, v in error.items() if k not in ("code", "reason")}
            return ErrorAnswer(status, _text(error.get("reason")), _code(error.get("code")), rest)
        if "reason" in body or isinstance(error, str):
            return ErrorAnswer(status, _text(body.get("reason")), _code(error))
        if "detail" in body:
            return ErrorAnswer(status, _detail(body["detail"]))
    return ErrorAnswer(status, _text(body))


def _code(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and value != "" else None


def _text(value: Any) -> str:
    if value is None or value == "":
        return "no reason given"
    text = value if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def _detail(detail: Any) -> str:
    """FastAPI's ``detail``: a string, or validation errors as ``loc: msg`` pairs."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
            else:
                parts.append(str(item))
        return _text("; ".join(parts))
    return _text(detail)
