"""Discovery: find MCP servers (Kubernetes Services, an endpoints directory), probe them
with a real MCP handshake, keep the registry current, and report catalog drift.
"""

__all__: list[str] = []
