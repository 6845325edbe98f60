"""The probe: a real MCP handshake and tools/list against real SDK servers, and the
split between failures worth retrying and failures that wait for a change."""

from __future__ import annotations

import asyncio
import sys

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import PermanentProbeError, Prober, RetryableProbeError
from tests.runtime.discovery.mcp_peers import STDIO_COMMAND, serve_http, tool_server


def http(url: str, transport: str = "streamable-http") -> Endpoint:
    return Endpoint(name="weather", source="test", origin="test", url=url, transport=transport)  # type: ignore[arg-type]


def stdio(*command: str) -> Endpoint:
    return Endpoint(name="tools", source="test", origin="test", transport="stdio", command=command)


def answering(status: int, body: str = "", content_type: str = "text/plain") -> Starlette:
    async def reply(request: Request) -> Response:
        return PlainTextResponse(body, status_code=status, media_type=content_type)

    return Starlette(routes=[Route("/mcp", reply, methods=["GET", "POST", "DELETE"])])


async def test_streamable_http_probe_returns_the_servers_real_tools_and_identity() -> None:
    async with serve_http(tool_server("weather", ["forecast", "alerts"])) as url:
        result = await Prober().probe(http(url))
    assert result.tool_names == ["alerts", "forecast"]
    forecast = next(t for t in result.tools if t["name"] == "forecast")
    assert forecast["description"] == "The forecast tool."
    assert forecast["inputSchema"]["properties"]["text"]["type"] == "string"
    assert result.server_name == "weather"
    assert result.instructions == "weather tools for the house"
    assert result.protocol_version


async def test_sse_probe_lists_tools_too() -> None:
    async with serve_http(tool_server("legacy", ["old"]), "sse") as url:
        result = await Prober().probe(http(url, "sse"))
    assert result.tool_names == ["old"]


async def test_stdio_probe_starts_the_command_and_lists_its_tools() -> None:
    result = await Prober().probe(stdio(*STDIO_COMMAND, "ping", "uptime"))
    assert result.tool_names == ["ping", "uptime"]
    assert result.server_name == "stdio-weather"


async def test_nothing_listening_is_retryable() -> None:
    async with serve_http(tool_server()) as url:
        pass  # the port is free again: nothing listens there now
    with pytest.raises(RetryableProbeError, match="cannot reach"):
        await Prober().probe(http(url))


async def test_a_wrong_path_is_permanent_and_says_to_check_the_path() -> None:
    async with serve_http(tool_server()) as url:
        with pytest.raises(PermanentProbeError, match=r"HTTP 404 .*check the path"):
            await Prober().probe(http(url.replace("/mcp", "/nope")))


async def test_a_server_error_is_retryable() -> None:
    async with serve_http(answering(503, "overloaded")) as url:
        with pytest.raises(RetryableProbeError, match="HTTP 503"):
            await Prober().probe(http(url))


async def test_an_http_server_that_does_not_speak_mcp_is_permanent() -> None:
    async with serve_http(answering(200, "<html>hello</html>", "text/html")) as url:
        with pytest.raises(PermanentProbeError, match="not a usable MCP server"):
            await Prober().probe(http(url))


async def test_a_server_that_never_answers_times_out_as_retryable() -> None:
    never = asyncio.Event()

    async def hang(request: Request) -> Response:
        await never.wait()
        return Response()

    app = Starlette(routes=[Route("/mcp", hang, methods=["GET", "POST", "DELETE"])])
    async with serve_http(app) as url:
        with pytest.raises(RetryableProbeError, match=r"within 0\.3s"):
            await Prober(timeout=0.3).probe(http(url))
        never.set()


async def test_a_command_that_does_not_exist_is_permanent() -> None:
    with pytest.raises(PermanentProbeError, match="cannot start /nonexistent/mcp-server"):
        await Prober().probe(stdio("/nonexistent/mcp-server"))


async def test_a_command_that_exits_is_retryable_and_quotes_its_last_words() -> None:
    command = (sys.executable, "-c", "import sys; print('missing API_KEY', file=sys.stderr)")
    with pytest.raises(RetryableProbeError, match=r"it wrote: missing API_KEY"):
        await Prober().probe(stdio(*command))


async def test_an_endpoint_with_a_broken_description_is_not_contacted() -> None:
    broken = Endpoint(name="x", source="test", origin="test", problem="port is not a number")
    with pytest.raises(PermanentProbeError, match="port is not a number"):
        await Prober().probe(broken)


async def test_cancelling_a_probe_cancels_it_rather_than_reporting_a_failure() -> None:
    never = asyncio.Event()

    async def hang(request: Request) -> Response:
        await never.wait()
        return Response()

    app = Starlette(routes=[Route("/mcp", hang, methods=["GET", "POST", "DELETE"])])
    async with serve_http(app) as url:
        task = asyncio.create_task(Prober(timeout=30).probe(http(url)))
        await asyncio.sleep(0)  # let it start connecting
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        never.set()
