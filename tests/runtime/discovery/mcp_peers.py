"""Real MCP servers for discovery tests, built with the ``mcp`` SDK.

HTTP peers run in-process under uvicorn on 127.0.0.1 (streamable HTTP or SSE); the
stdio peer is this module run as a script. Each peer's tool list can be changed while it
runs, so tests can watch discovery notice new tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Literal

import uvicorn
from mcp.server import MCPServer
from starlette.applications import Starlette

__all__ = ["STDIO_COMMAND", "serve_http", "tool_server"]

STDIO_COMMAND = (sys.executable, "-m", "tests.runtime.discovery.mcp_peers")


def tool_server(name: str = "weather", tools: Sequence[str] = ("forecast", "alerts")) -> MCPServer:
    """An MCP server with one echo-like tool per name, described so descriptions show."""
    server = MCPServer(name, instructions=f"{name} tools for the house", log_level="WARNING")
    for tool in tools:
        add_tool(server, tool)
    return server


def add_tool(server: MCPServer, tool: str) -> None:
    def run(text: str = "") -> str:
        return f"{tool}: {text}"

    server.add_tool(run, name=tool, description=f"The {tool} tool.")


@contextlib.asynccontextmanager
async def serve_http(
    app: Starlette | MCPServer,
    transport: Literal["streamable-http", "sse"] = "streamable-http",
    *,
    port: int = 0,
    path: str = "/mcp",
) -> AsyncIterator[str]:
    """Serve on 127.0.0.1 (``port`` 0: any free one) for the block; yields the URL."""
    if isinstance(app, MCPServer):
        if transport == "sse":
            asgi: Starlette = app.sse_app(host="127.0.0.1")
            path = "/sse"
        else:
            asgi = app.streamable_http_app(host="127.0.0.1", stateless_http=True)
            path = "/mcp"
    else:
        asgi = app
    config = uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{bound}{path}"
    finally:
        server.should_exit = True
        await task


if __name__ == "__main__":
    tools = sys.argv[1:] or ["forecast", "alerts"]
    tool_server("stdio-weather", tools).run("stdio")
