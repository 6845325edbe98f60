"""One ``McpServer`` component per catalog entry, its resources chosen by the entry's kind."""

from components.servers.server import McpServer, McpServerArgs

__all__ = ["McpServer", "McpServerArgs"]
