"""Real MCP peers for the gateway tests, each in its own process on 127.0.0.1.

* ``@modelcontextprotocol/server-everything`` (npm, TypeScript SDK 1.x: speaks the
  2025-11-25 revision with sessions), over streamable HTTP, SSE or stdio. It calls
  ``listen(port)`` without a host, so it is started with ``loopback.cjs`` preloaded,
  which makes it bind 127.0.0.1 only.
* The ``mcp``-SDK test servers in ``tests/fixtures/servers`` (2026-07-28 capable):
  ``slow``, ``flaky`` (fails on demand, can crash), ``many_tools``.

Processes (not in-process servers) so a test can kill one mid-run like a crash would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

from runtime.gateway.upstream.spec import EndpointSpec

__all__ = [
    "EVERYTHING",
    "Peer",
    "everything_peer",
    "everything_stdio",
    "free_port",
    "python_peer",
    "stdio_spec",
]

REPO = Path(__file__).resolve().parents[3]
SERVERS = REPO / "tests" / "fixtures" / "servers"
EVERYTHING = (
    REPO / ".ci" / "npm" / "node_modules" / "@modelcontextprotocol" / "server-everything"
    / "dist" / "index.js"
)
LOOPBACK = SERVERS / "loopback.cjs"
HttpTransport = Literal["streamable-http", "sse"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Peer:
    """A server process listening on a loopback port; restartable on the same port."""

    def __init__(
        self, argv: list[str], *, port: int, path: str, log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.argv, self.port, self.path, self.log = argv, port, path, log
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, within: float = 20.0) -> Peer:
        """Start (again) and wait, with a deadline, until the port accepts connections."""
        if self.process is not None:
            try:
                self.process.wait(5)  # reap the previous run; a restart follows a death
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"{self.argv} is still running") from None
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=REPO
            )
        deadline = time.monotonic() + within
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.argv} not listening on {self.port}") from None
                time.sleep(0.02)

    def kill(self) -> None:
        """Die at once, as a crashing server does (SIGKILL, no goodbye)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def python_peer(name: str, transport: HttpTransport, log_dir: Path) -> Peer:
    """One of the ``tests/fixtures/servers`` servers over HTTP on a free port."""
    port = free_port()
    argv = [sys.executable, str(SERVERS / f"{name}.py"), "--transport", transport,
            "--port", str(port)]
    path = "/sse" if transport == "sse" else "/mcp"
    return Peer(argv, port=port, path=path, log=log_dir / f"{name}-{port}.log")


def everything_peer(transport: HttpTransport, log_dir: Path) -> Peer:
    """server-everything over HTTP, bound to loopback."""
    _need_everything()
    port = free_port()
    mode = "sse" if transport == "sse" else "streamableHttp"
    argv = ["node", "--require", str(LOOPBACK), str(EVERYTHING), mode]
    path = "/sse" if transport == "sse" else "/mcp"
    return Peer(argv, port=port, path=path, log=log_dir / f"everything-{port}.log",
                env={"PORT": str(port)})


def stdio_spec(name: str, env: dict[str, str] | None = None) -> EndpointSpec:
    """A test server the gateway launches itself over stdio."""
    return EndpointSpec(
        transport="stdio", command=sys.executable, args=(str(SERVERS / f"{name}.py"),),
        env=env or {}, cwd=str(REPO),
    )


def everything_stdio() -> EndpointSpec:
    _need_everything()
    return EndpointSpec(transport="stdio", command="node", args=(str(EVERYTHING), "stdio"))


def _need_everything() -> None:
    if not EVERYTHING.exists():
        raise RuntimeError("server-everything is missing: run `npm ci --prefix .ci/npm` first")
