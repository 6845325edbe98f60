"""CLI tests reuse the catalog fixtures (shipped catalog, broken overlays)."""

from ..catalog.conftest import broken_catalog, catalog_copy

__all__ = ["broken_catalog", "catalog_copy"]
