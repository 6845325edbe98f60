"""Run every check over a rendering: one list of findings, each naming its object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from components.checks.pod_security import pod_specs, restricted_violations
from components.checks.schemas import SchemaValidator

__all__ = ["Finding", "check_objects"]


@dataclass(frozen=True)
class Finding:
    """A problem with one rendered object: which check, where, and what."""

    check: str
    kind: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}: [{self.check}] {self.message}"


def check_objects(
    manifests: Iterable[dict[str, Any]], validator: SchemaValidator | None
) -> list[Finding]:
    """Schema problems (when a validator is given) and restricted-PSS violations."""
    findings: list[Finding] = []
    for manifest in manifests:
        kind = str(manifest.get("kind", "?"))
        name = str((manifest.get("metadata") or {}).get("name", "?"))
        if validator is not None:
            findings += [Finding("schema", kind, name, p) for p in validator.problems(manifest)]
        for where, spec in pod_specs(manifest):
            findings += [
                Finding("pod-security", kind, name, f"{where}: {v}")
                for v in restricted_violations(spec)
            ]
    return findings
