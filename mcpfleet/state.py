"""Where local state lives, shared by ``mcpfleet up`` and the commands that find it."""

from __future__ import annotations

from pathlib import Path

__all__ = ["token_file"]


def token_file(data_dir: Path) -> Path:
    """Where the local fleet leaves its token for ``mcpfleet query`` and scripts (mode 0600)."""
    return data_dir / "token"
