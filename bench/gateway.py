"""What the gateway costs: the same ``echo`` call direct to an upstream and through it.

Run: ``python bench/gateway.py [--calls 400] [--clients 32] [--per-client 25]``.

Three processes, as in production: the upstream (the ``mcp``-SDK test server
``tests/fixtures/servers/slow.py`` over streamable HTTP, stateless), the gateway
(``create_app`` under uvicorn, its own embedded PostgreSQL in a temporary directory, with
authentication, the PostgreSQL rate limiter, audit and metrics on), and this client
(the official MCP Python client at protocol 2026-07-28, one session per client). The
REST path (``POST /api/v1/mcp/{server}/tools/{tool}`` over httpx) is measured too.
Sequential: one client, ``--calls`` calls. Concurrent: ``--clients`` clients, each
``--per-client`` calls, all at once. Prints p50/p99 and calls/s for each path and the
gateway/direct ratios. Wall-clock on a shared 2-core machine: compare runs, not digits.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

REPO = Path(__file__).resolve().parents[1]
UPSTREAM = REPO / "tests" / "fixtures" / "servers" / "slow.py"
MODE = "2026-07-28"


@dataclass
class Result:
    label: str
    samples: list[float]
    wall: float
    cpu: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1e3

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall

    def row(self) -> str:
        return (f"{self.label:<40} p50 {self.p50:7.2f} ms   p99 {self.p99:7.2f} ms   "
                f"{self.rate:8.1f} calls/s   (n={len(self.samples)})\n"
                f"{'':<42}{self.cpu}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family_cpu(root: int) -> float:
    """CPU time of ``root`` and its children (PostgreSQL: postmaster and backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Meters:
    """CPU used per call by each process of a phase: where the cost of a path lands."""

    pids: dict[str, int]

    def read(self) -> dict[str, float]:
        readings = {"client": cpu_seconds(os.getpid())}
        for name, pid in self.pids.items():
            readings[name] = family_cpu(pid) if name == "postgres" else cpu_seconds(pid)
        return readings

    @staticmethod
    def per_call(before: dict[str, float], after: dict[str, float], calls: int) -> str:
        parts = [f"{name} {(after[name] - before[name]) / calls * 1e3:.2f}" for name in after]
        return "CPU ms/call: " + ", ".join(parts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {port}") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- gateway side


def serve_gateway(upstream: str, database_url: str, data_dir: str, port: int) -> None:
    """The gateway process: the real app, production settings, logs at warning."""
    import logging

    import uvicorn

    from runtime.gateway import GatewayConfig, create_app
    from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
    from runtime.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(database_url=database_url, data_dir=Path(data_dir),
                        catalog=REPO / "catalog")
    config = GatewayConfig(
        (ServerSpec("bench", (EndpointSpec("streamable-http", url=upstream),)),),
        PoolSettings(health_interval=60),
        requests_per_minute=10_000_000,
    )
    uvicorn.run(create_app(settings, config), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


async def make_token(database_url: str) -> str:
    from runtime.db import Database
    from runtime.store.tokens import TokenStore

    db = await Database.open(database_url, embedding_dim=384, run_migrations=True)
    try:
        return (await TokenStore(db).create("bench")).token
    finally:
        await db.close()


# --------------------------------------------------------------------------- client side


@asynccontextmanager
async def mcp_client(url: str, token: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=MODE, cache=None) as client,
    ):
        yield client


Call = Callable[[], Awaitable[object]]


async def sequential(label: str, call: Call, n: int, meters: Meters) -> Result:
    for _ in range(20):
        await call()
    samples = []
    before = meters.read()
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t)
    wall = time.perf_counter() - started
    return Result(label, samples, wall, Meters.per_call(before, meters.read(), n))


async def concurrent(label: str, calls: list[Call], per_client: int, meters: Meters) -> Result:
    for call in calls:
        await call()
    samples: list[float] = []

    async def client(call: Call) -> None:
        for _ in range(per_client):
            t = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - t)

    before = meters.read()
    started = time.perf_counter()
    await asyncio.gather(*(client(call) for call in calls))
    wall = time.perf_counter() - started
    cpu = Meters.per_call(before, meters.read(), len(samples))
    return Result(label, samples, wall, cpu)


async def mcp_calls(
    url: str, token: str | None, tool: str, count: int, stack: AsyncExitStack
) -> list[Call]:
    """``count`` connected clients (one session each), as calls of ``tool``."""
    calls: list[Call] = []
    for _ in range(count):
        client = await stack.enter_async_context(mcp_client(url, token))

        async def call(client: Client = client) -> object:
            result = await client.call_tool(tool, {"message": "ping"})
            assert not result.is_error
            return result

        calls.append(call)
    return calls


def rest_call(http: httpx.AsyncClient) -> Call:
    async def call() -> object:
        response = await http.post("/api/v1/mcp/bench/tools/echo", json={"message": "ping"})
        assert response.status_code == 200, response.text
        return response

    return call


async def measure(
    upstream: str, gateway: str, token: str, args: argparse.Namespace, meters: Meters
) -> None:
    direct_url, gateway_url = upstream, f"{gateway}/mcp"
    auth = {"Authorization": f"Bearer {token}"}
    async with AsyncExitStack() as stack:
        (direct,) = await mcp_calls(direct_url, None, "echo", 1, stack)
        (through,) = await mcp_calls(gateway_url, token, "bench__echo", 1, stack)
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=gateway, headers=auth))
        seq = [
            await sequential("direct (MCP client → upstream)", direct, args.calls, meters),
            await sequential("gateway /mcp (MCP client → gateway)", through, args.calls, meters),
            await sequential("gateway REST (httpx → gateway)", rest_call(http), args.calls,
                             meters),
        ]
        direct_many = await mcp_calls(direct_url, None, "echo", args.clients, stack)
        gateway_many = await mcp_calls(gateway_url, token, "bench__echo", args.clients, stack)
        conc = [
            await concurrent(f"direct, {args.clients} clients", direct_many, args.per_client,
                             meters),
            await concurrent(f"gateway /mcp, {args.clients} clients", gateway_many,
                             args.per_client, meters),
        ]
    print()
    print("sequential")
    for result in seq:
        print("  " + result.row())
    print(f"  gateway adds at p50: {seq[1].p50 - seq[0].p50:+.2f} ms (/mcp), "
          f"{seq[2].p50 - seq[0].p50:+.2f} ms (REST);  throughput ratio "
          f"{seq[1].rate / seq[0].rate:.0%} (/mcp), {seq[2].rate / seq[0].rate:.0%} (REST)")
    print(f"concurrent ({args.clients} clients x {args.per_client} calls)")
    for result in conc:
        print("  " + result.row())
    print(f"  gateway adds at p50: {conc[1].p50 - conc[0].p50:+.2f} ms;  throughput ratio "
          f"{conc[1].rate / conc[0].rate:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--serve-gateway", nargs=4, metavar=("UPSTREAM", "DB", "DIR", "PORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_gateway:
        upstream, db, data_dir, port = args.serve_gateway
        serve_gateway(upstream, db, data_dir, int(port))
        return

    from runtime.db import EmbeddedPostgres

    try:
        import uvloop
    except ImportError:  # the bench still runs, slower: say so in the header
        uvloop = None

    root = Path(tempfile.mkdtemp(prefix="mcpfleet-bench-gateway-"))
    server = EmbeddedPostgres(root)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server.start()
        database_url = server.url()
        token = asyncio.run(make_token(database_url))
        up_port, gw_port = free_port(), free_port()
        upstream = subprocess.Popen(
            [sys.executable, str(UPSTREAM), "--transport", "streamable-http",
             "--port", str(up_port)], stderr=subprocess.DEVNULL)
        processes.append(upstream)
        wait_port(up_port, upstream)
        upstream_url = f"http://127.0.0.1:{up_port}/mcp"
        gateway = subprocess.Popen(
            [sys.executable, __file__, "--serve-gateway", upstream_url, database_url,
             str(root), str(gw_port)], env={**os.environ, "PYTHONPATH": str(REPO)})
        processes.append(gateway)
        wait_port(gw_port, gateway)
        print(f"upstream {upstream_url} (pid {upstream.pid}), gateway http://127.0.0.1:{gw_port}"
              f" (pid {gateway.pid}), {os.cpu_count()} CPUs")
        print(f"event loop: {'uvloop' if uvloop else 'asyncio'}; uvicorn HTTP parser: "
              f"{'httptools' if importlib.util.find_spec('httptools') else 'h11'}")
        run = uvloop.run if uvloop else asyncio.run
        postmaster = int((root / "postgres" / "postmaster.pid").read_text().split()[0])
        meters = Meters({"upstream": upstream.pid, "gateway": gateway.pid,
                         "postgres": postmaster})
        run(measure(upstream_url, f"http://127.0.0.1:{gw_port}", token, args, meters))
    finally:
        for process in reversed(processes):
            stop(process)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
