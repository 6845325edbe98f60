"""The upstream pool against real MCP servers: transports, balancing, retries, timeouts,
and stdio children that come and go without leaking processes or memory.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession

from runtime.gateway.errors import UpstreamFailed, UpstreamTimeout
from runtime.gateway.upstream import (
    Endpoint,
    EndpointSpec,
    PoolSettings,
    ServerSpec,
    UpstreamPool,
)
from tests.ports import refusing_port
from tests.runtime.gateway.peers import Peer, everything_stdio, stdio_spec
from tests.runtime.gateway.running import text_of
from tests.waiting import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUIET = PoolSettings(health_interval=3600, call_timeout=10)


def http(peer: Peer) -> EndpointSpec:
    return EndpointSpec("streamable-http", url=peer.url)


def children() -> set[int]:
    """Live (or zombie) child processes of this test process, from /proc."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def test_every_transport_reaches_its_server_at_its_own_revision(
    peer_factory: Callable[..., Peer],
) -> None:
    everything_sse = peer_factory("everything", "sse")
    slow = peer_factory("slow")
    specs = [
        ServerSpec("ev-stdio", (everything_stdio(),)),
        ServerSpec("ev-sse", (EndpointSpec("sse", url=everything_sse.url),)),
        ServerSpec("slow", (http(slow),)),
        ServerSpec("flaky", (stdio_spec("flaky"),)),
    ]
    async with UpstreamPool(specs, QUIET) as pool:
        await pool.wait_checked()
        assert all(u.up for u in pool.upstreams())
        versions = {u.name: u.endpoints[0].protocol_version for u in pool.upstreams()}
        echoes = [await pool.call_tool(s, "echo", {"message": s}) for s in ("ev-stdio", "ev-sse")]
        assert text_of(await pool.call_tool("slow", "echo", {"message": "m"})) == "m"
        assert text_of(await pool.call_tool("flaky", "ping", {})) == "pong"
    assert versions == {"ev-stdio": "2025-11-25", "ev-sse": "2025-11-25",
                        "slow": "2026-07-28", "flaky": "2026-07-28"}
    assert [text_of(e) for e in echoes] == ["Echo: ev-stdio", "Echo: ev-sse"]


async def test_sequential_calls_are_shared_between_idle_endpoints(
    slow_pair: tuple[Peer, Peer],
) -> None:
    """Rotation among idle endpoints: a bound, not an exact split (a health verdict that a
    loaded machine delays may briefly prefer one endpoint)."""
    async with UpstreamPool([ServerSpec("slow", tuple(map(http, slow_pair)))], QUIET) as pool:
        pids = [text_of(await pool.call_tool("slow", "whoami", {})) for _ in range(10)]
    counts = [pids.count(str(peer.pid)) for peer in slow_pair]
    assert sum(counts) == 10 and min(counts) >= 3, counts


async def test_least_in_flight_sends_new_calls_to_the_idle_endpoint(
    slow_pair: tuple[Peer, Peer],
) -> None:
    async with UpstreamPool([ServerSpec("slow", tuple(map(http, slow_pair)))], QUIET) as pool:
        await pool.wait_checked()
        upstream = pool.get("slow")
        async with anyio.create_task_group() as tg:
            tg.start_soon(pool.call_tool, "slow", "sleep", {"seconds": 1.5})
            await anyio.wait_all_tasks_blocked()
            busy = next(e for e in upstream.endpoints if e.in_flight == 1)
            idle = next(e for e in upstream.endpoints if e is not busy)
            before = busy.calls
            pids = {text_of(await pool.call_tool("slow", "whoami", {})) for _ in range(6)}
            assert busy.calls == before, "the busy endpoint got none of the quick calls"
            assert len(pids) == 1 and idle.calls >= 6


async def test_concurrent_calls_spread_over_both_endpoints(slow_pair: tuple[Peer, Peer]) -> None:
    """Least in flight: a bound, not an exact 4/4 (a call that ends before the last ones
    start, on a loaded machine, frees its endpoint early)."""
    async with UpstreamPool([ServerSpec("slow", tuple(map(http, slow_pair)))], QUIET) as pool:
        await pool.wait_checked()
        endpoints = pool.get("slow").endpoints
        before = [e.calls for e in endpoints]
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(pool.call_tool, "slow", "sleep", {"seconds": 0.3})
        split = [e.calls - b for e, b in zip(endpoints, before, strict=True)]
        assert sum(split) == 8 and min(split) >= 3, split


async def test_a_read_only_call_is_retried_once_on_another_endpoint(
    peer_factory: Callable[..., Peer],
) -> None:
    first, second = peer_factory("flaky"), peer_factory("flaky")
    async with UpstreamPool([ServerSpec("flaky", (http(first), http(second)))], QUIET) as pool:
        await pool.wait_checked()
        first.kill()  # still looks healthy to the pool: no check has run since
        results = [await pool.call_tool("flaky", "ping", {}) for _ in range(4)]
        dead = pool.get("flaky").endpoints[0]
    assert all(text_of(r) == "pong" for r in results)
    assert dead.calls >= 1 and dead.healthy is False, "the dead endpoint was tried, then dropped"


async def test_a_write_is_never_retried(peer_factory: Callable[..., Peer]) -> None:
    first, second = peer_factory("flaky"), peer_factory("flaky")
    async with UpstreamPool([ServerSpec("flaky", (http(first), http(second)))], QUIET) as pool:
        await pool.wait_checked()
        first.kill()
        failures, successes = 0, 0
        for i in range(4):
            try:
                await pool.call_tool("flaky", "write", {"value": str(i)})
                successes += 1
            except UpstreamFailed:
                failures += 1
        count = await pool.call_tool("flaky", "count", {})
    assert failures == 1, "the write that met the dead endpoint failed, and was not resent"
    assert count.structured_content == {"result": successes}


async def test_catalog_read_only_tools_are_retried_even_without_the_hint(
    peer_factory: Callable[..., Peer],
) -> None:
    first, second = peer_factory("flaky"), peer_factory("flaky")
    spec = ServerSpec("flaky", (http(first), http(second)), read_only_tools=frozenset({"write"}))
    async with UpstreamPool([spec], QUIET) as pool:
        await pool.wait_checked()
        first.kill()
        results = [await pool.call_tool("flaky", "write", {"value": "v"}) for _ in range(3)]
    assert all(text_of(r) == "wrote v" for r in results)


async def test_a_call_outliving_the_timeout_fails_and_counts_against_the_endpoint(
    slow_pair: tuple[Peer, Peer],
) -> None:
    # 5 s against a 60 s sleep: the timeout is certain, and the echo after it has 5 s too
    settings = PoolSettings(health_interval=3600, call_timeout=5, breaker_threshold=5)
    async with UpstreamPool([ServerSpec("slow", (http(slow_pair[0]),))], settings) as pool:
        await pool.wait_checked()
        with pytest.raises(UpstreamTimeout, match=r"within 5s"):
            await pool.call_tool("slow", "sleep", {"seconds": 60})
        (endpoint,) = pool.get("slow").endpoints
        assert endpoint.breaker.failures == 1
        assert text_of(await pool.call_tool("slow", "echo", {"message": "after"})) == "after"
        assert endpoint.breaker.failures == 0


async def test_what_a_stdio_server_writes_to_stderr_is_logged_with_its_name(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Not onto the gateway's own stderr (the terminal of `mcpfleet up`, a pod's JSON log)."""
    caplog.set_level(logging.INFO, logger="runtime.gateway.upstream.stderr")

    def banner() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "Starting default (STDIO) server" in r.getMessage()]

    async with UpstreamPool([ServerSpec("ev", (everything_stdio(),))], QUIET) as pool:
        await pool.wait_checked()
        (record,) = await eventually(banner, what="server-everything's stderr banner")
    assert record.name == "runtime.gateway.upstream.stderr"
    assert (record.server, record.stream) == ("ev", "stderr")  # type: ignore[attr-defined]
    assert "Starting default" not in capfd.readouterr().err


async def test_an_unreachable_endpoint_is_unhealthy_and_the_server_not_up() -> None:
    settings = PoolSettings(health_interval=3600, connect_timeout=2)
    with refusing_port() as port:
        dead = EndpointSpec("streamable-http", url=f"http://127.0.0.1:{port}/mcp")
        async with UpstreamPool([ServerSpec("dead", (dead,))], settings) as pool:
            await pool.wait_checked()
            upstream = pool.get("dead")
            assert not upstream.up and upstream.health == "unhealthy"
            assert "connect failed" in (upstream.endpoints[0].last_error or "")


async def test_stdio_upstreams_start_and_stop_many_times_without_leaking() -> None:
    spec = ServerSpec("slow", (stdio_spec("slow"),))
    baseline = children()

    async def cycle() -> int:
        async with UpstreamPool([spec], QUIET) as pool:
            pid = int(text_of(await pool.call_tool("slow", "whoami", {})))
            assert alive(pid)
        assert not alive(pid), "the child is stopped and reaped when the pool closes"
        return pid

    def sessions() -> int:
        gc.collect()
        return sum(isinstance(o, Endpoint | ClientSession) for o in gc.get_objects())

    await cycle()  # warm-up: imports, caches
    held = sessions()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pids = {await cycle() for _ in range(6)}
    gc.collect()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(pids) == 6
    assert children() <= baseline, "no child process outlives its pool"
    assert sessions() == held, "endpoints or client sessions outlived their pool"
    assert rss_after - rss_before < 20_000, "peak RSS (KiB) grew: something is kept per cycle"


async def test_a_stdio_upstream_that_keeps_crashing_is_restarted_each_time_and_reaped() -> None:
    spec = ServerSpec("flaky", (stdio_spec("flaky"),))
    baseline = children()
    settings = PoolSettings(health_interval=3600, breaker_threshold=100)
    async with UpstreamPool([spec], settings) as pool:
        endpoint = pool.get("flaky").endpoints[0]
        for _ in range(3):
            assert text_of(await pool.call_tool("flaky", "ping", {})) == "pong"
            with pytest.raises(UpstreamFailed, match="connection lost"):
                await pool.call_tool("flaky", "crash", {})
        assert text_of(await pool.call_tool("flaky", "count", {})) == "0", "a fresh process"
        assert endpoint.connects == 4
        assert len(children() - baseline) == 1, "crashed children were reaped"
    assert children() <= baseline


async def test_a_served_call_brings_an_endpoint_back_without_waiting_for_a_check(
    peer_factory: Callable[..., Peer],
) -> None:
    flaky = peer_factory("flaky")
    async with UpstreamPool([ServerSpec("flaky", (http(flaky),))], QUIET) as pool:
        await pool.wait_checked()
        upstream = pool.get("flaky")
        flaky.kill()
        with pytest.raises(UpstreamFailed):
            await pool.call_tool("flaky", "ping", {})
        assert not upstream.up
        flaky.start()
        assert text_of(await pool.call_tool("flaky", "ping", {})) == "pong"
        assert upstream.up and upstream.health == "healthy"
