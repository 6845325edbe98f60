"""MCP endpoints as seen from outside: where one is, what a probe of it found, and how it
differs from the catalog.

Discovery finds and watches endpoints; proposals turn them into catalog entries. Both
read these types, so they live below both (discovery imports proposals, never the
reverse; an import-linter contract keeps it so).
"""

__all__: list[str] = []
