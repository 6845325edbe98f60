"""Small MCP servers that ship with mcpfleet, for the local fleet and for demos."""

__all__: list[str] = []
