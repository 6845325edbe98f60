"""Real MCP peers for the gateway tests, each in its own process on 127.0.0.1.

* ``@modelcontextprotocol/server-everything`` (npm, TypeScript SDK 1.x: speaks the
  2025-11-25 revision with sessions), over streamable HTTP, SSE or stdio. It calls
  ``listen(port)`` without a host, so it is started with ``loopback.cjs`` preloaded,
  which makes it bind 127.0.0.1 only.
* The ``mcp``-SDK test servers in ``tests/fixtures/servers`` (2026-07-28 capable):
  ``slow``, ``flaky`` (fails on demand, can crash), ``many_tools``.

Processes (not in-process servers) so a test can kill one mid-run like a crash would.
Each binds a port of its own choosing and reports it (see :mod:`tests.ports`).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from runtime.gateway.upstream.spec import EndpointSpec
from tests.ports import LISTENING, announced_port, log_reader

__all__ = [
    "EVERYTHING",
    "Peer",
    "everything_peer",
    "everything_stdio",
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
Command = Callable[[int], tuple[list[str], dict[str, str]]]
"""The command line and extra environment that start a server on a port (0: any)."""


class Peer:
    """A server process on a loopback port it picked itself; restartable on that port.

    The first start asks for port 0 and reads the port from the server's "listening on"
    line, so no port is guessed; a restart asks for the port it had before (a server
    coming back on its old address is what the restart tests check).
    """

    def __init__(self, command: Command, *, path: str, log: Path) -> None:
        self.command, self.path, self.log = command, path, log
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.port, "start the peer first"
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, within: float = 60.0) -> Peer:
        """Start (again) and wait, with a deadline, until it says it listens."""
        if self.process is not None:
            try:
                self.process.wait(5)  # reap the previous run; a restart follows a death
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"{self.log.name}: still running") from None
        read = log_reader(self.log)
        earlier = len(LISTENING.findall(read()))
        argv, env = self.command(self.port)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=REPO
            )
        try:
            self.port = announced_port(read, self.process, within=within, skip=earlier)
        except AssertionError:
            self.kill()
            raise
        return self

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


_logs = itertools.count()


def python_peer(name: str, transport: HttpTransport, log_dir: Path) -> Peer:
    """One of the ``tests/fixtures/servers`` servers over HTTP."""

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        script = str(SERVERS / f"{name}.py")
        return [sys.executable, script, "--transport", transport, "--port", str(port)], {}

    path = "/sse" if transport == "sse" else "/mcp"
    return Peer(command, path=path, log=log_dir / f"{name}-{next(_logs)}.log")


def everything_peer(transport: HttpTransport, log_dir: Path) -> Peer:
    """server-everything over HTTP, bound to loopback."""
    _need_everything()
    mode = "sse" if transport == "sse" else "streamableHttp"

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        return ["node", "--require", str(LOOPBACK), str(EVERYTHING), mode], {"PORT": str(port)}

    path = "/sse" if transport == "sse" else "/mcp"
    return Peer(command, path=path, log=log_dir / f"everything-{next(_logs)}.log")


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
