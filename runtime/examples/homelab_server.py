"""A small, useful MCP server for one machine: name lookups, disks, uptime, load, ports.

Run it over stdio (``python -m runtime.examples.homelab_server``); the local fleet starts
it as a stdio upstream of the gateway. Every tool only reads, and says so in its
annotations, so the gateway may retry any of them on another endpoint.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp_types import ToolAnnotations

__all__ = ["build_server", "main"]

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
NETWORK = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=True)


def dns_lookup(name: str) -> dict[str, Any]:
    """Resolve a host name to its IPv4/IPv6 addresses with the system resolver."""
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        return {"name": name, "addresses": [], "error": exc.strerror}
    addresses = sorted({str(info[4][0]) for info in infos})
    return {"name": name, "addresses": addresses}


def disk_usage(path: str = "/") -> dict[str, Any]:
    """Total, used and free bytes of the filesystem holding ``path``."""
    usage = shutil.disk_usage(path)
    return {
        "path": path,
        "total_bytes": usage.total,
        "used_bytes": usage.used,
        "free_bytes": usage.free,
        "used_percent": round(100 * usage.used / usage.total, 1) if usage.total else 0.0,
    }


def uptime() -> dict[str, Any]:
    """How long this machine has been up, in seconds and as days/hours/minutes."""
    seconds = _uptime_seconds()
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return {"seconds": round(seconds, 1), "human": f"{days}d {hours}h {rest // 60}m"}


def load_average() -> dict[str, Any]:
    """The 1, 5 and 15 minute load averages and the number of CPUs."""
    one, five, fifteen = os.getloadavg()
    return {"load1": one, "load5": five, "load15": fifteen, "cpus": os.cpu_count() or 1}


def tcp_check(host: str, port: int, timeout_seconds: float = 2.0) -> dict[str, Any]:
    """Whether a TCP connection to ``host:port`` opens, and how long it took."""
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=min(timeout_seconds, 10.0)):
            pass
    except OSError as exc:
        return {"host": host, "port": port, "open": False, "error": exc.strerror or str(exc)}
    elapsed = (time.perf_counter() - started) * 1000
    return {"host": host, "port": port, "open": True, "ms": round(elapsed, 2)}


def listening_ports() -> list[int]:
    """TCP ports this machine listens on (from /proc/net/tcp and tcp6)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # 0A = LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def _uptime_seconds() -> float:
    proc = Path("/proc/uptime")
    if proc.exists():
        return float(proc.read_text().split()[0])
    return time.monotonic()


def build_server() -> MCPServer:
    """The server with its tools registered (built on demand, never at import)."""
    server = MCPServer(
        "homelab",
        instructions="Read-only facts about this machine and its network.",
        log_level="WARNING",
    )
    server.add_tool(dns_lookup, annotations=NETWORK)
    server.add_tool(tcp_check, annotations=NETWORK)
    server.add_tool(disk_usage, annotations=READ_ONLY)
    server.add_tool(uptime, annotations=READ_ONLY)
    server.add_tool(load_average, annotations=READ_ONLY)
    server.add_tool(listening_ports, annotations=READ_ONLY)
    return server


def main() -> None:
    build_server().run("stdio")


if __name__ == "__main__":
    main()
