"""The schema validator, built once (building is the slow part)."""

from __future__ import annotations

import pytest

from components.checks import SchemaValidator


@pytest.fixture(scope="session")
def validator() -> SchemaValidator:
    return SchemaValidator("1.33")
