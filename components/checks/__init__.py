"""Checks on rendered objects: API schemas (core and CRDs) and the restricted pod standard.

Pure functions over manifests (no Pulumi), used by the tests and by ``mcpfleet plan``.
"""

from components.checks.findings import Finding, check_objects
from components.checks.pod_security import pod_specs, restricted_violations
from components.checks.schemas import SchemaValidator

__all__ = ["Finding", "SchemaValidator", "check_objects", "pod_specs", "restricted_violations"]
