"""The seed plan's words for server kinds, read by discovery and manual proposals alike."""

from __future__ import annotations

from catalog.model import ServerKind

__all__ = ["SEED_TYPES"]

SEED_TYPES: dict[str, ServerKind] = {
    "standard": ServerKind.HTTP,
    "kmcp": ServerKind.CLUSTER_API,
    "toolhive": ServerKind.STDIO,
}
"""The seed plan's ``<prefix>/type`` words (its ``mcp_servers.type``) → catalog kinds:
a Standard Docker HTTP container, a kmcp cluster-API server, a ToolHive-run stdio server.
Catalog kind names are accepted as they are."""
