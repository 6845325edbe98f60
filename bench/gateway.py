"""What the gateway costs: the same ``echo`` call direct to an upstream and through it.

Run: ``python bench/gateway.py [--calls 400] [--clients 32] [--per-client 25] [--write]``.

Three processes, as in production: the upstream (the ``mcp``-SDK test server
``tests/fixtures/servers/slow.py`` over streamable HTTP, stateless), the gateway
(``create_app`` under uvicorn, its own embedded PostgreSQL in a temporary directory, with
authentication, the PostgreSQL rate limiter, audit and metrics on), and this client. In
one run it measures, sequentially (one client, ``--calls`` calls) and concurrently
(``--clients`` clients x ``--per-client`` calls): direct calls at both protocol revisions
(the official MCP client, one session each), the gateway's ``/mcp`` at 2026-07-28 and at
2025-11-25, and its REST tool call (httpx). Each row has p50/p99, calls/s, the ratio to
the direct path of the same revision (REST: to direct 2026-07-28), CPU per call of each
process (client, upstream, gateway, PostgreSQL: postmaster and backends, from /proc) and
the load average while it ran. ``--write`` puts the table, the goals and the command into
``docs/benchmarks/gateway.md`` (between its ``bench:gateway`` markers); ``--profile
FILE`` samples the gateway with py-spy (if installed) into collapsed stacks.
Wall-clock on a shared 2-core machine: compare ratios and CPU, not single digits.
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
    # Keep-alive past the slowest warm-up: with uvicorn's 5 s default a loaded machine
    # closes idle client connections mid-run and httpx reports ReadError.
    uvicorn.run(create_app(settings, config), host="127.0.0.1", port=port,
                log_level="warning", access_log=False, timeout_keep_alive=120)


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
async def mcp_client(url: str, token: str | None, mode: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client,
    ):
        yield client


Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Path_:
    """One way to make the call: its label, how to open N callers, what it compares to."""

    label: str
    key: str
    direct: str | None  # key of the direct path it is compared with


PATHS = (
    Path_("direct, MCP 2026-07-28", "direct-modern", None),
    Path_("direct, MCP 2025-11-25", "direct-legacy", None),
    Path_("gateway /mcp, 2026-07-28", "gateway-modern", "direct-modern"),
    Path_("gateway /mcp, 2025-11-25", "gateway-legacy", "direct-legacy"),
    Path_("gateway REST", "gateway-rest", "direct-modern"),
)


async def open_calls(
    key: str, count: int, urls: dict[str, str], token: str, stack: AsyncExitStack
) -> list[Call]:
    """``count`` connected callers of one path (one MCP session or HTTP client each)."""
    calls: list[Call] = []
    for _ in range(count):
        if key == "gateway-rest":
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=urls["gateway"], headers={"Authorization": f"Bearer {token}"}
                )
            )
            calls.append(rest_call(http))
            continue
        direct = key.startswith("direct")
        mode = MODE if key.endswith("modern") else "legacy"
        client = await stack.enter_async_context(
            mcp_client(urls["upstream"] if direct else urls["gateway"] + "/mcp",
                       None if direct else token, mode)
        )
        tool = "echo" if direct else "bench__echo"

        async def call(client: Client = client, tool: str = tool) -> object:
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


@dataclass
class Row:
    path: Path_
    clients: int
    result: Result
    cpu: dict[str, float]
    load: tuple[float, float]


async def phase(
    path: Path_, calls: list[Call], per_client: int, meters: Meters
) -> Row:
    """Warm up each caller, then run them all at once, ``per_client`` calls each."""
    for call in calls:
        for _ in range(5 if len(calls) > 1 else 20):
            await call()
    samples: list[float] = []

    async def client(call: Call) -> None:
        for _ in range(per_client):
            t = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - t)

    load_before = os.getloadavg()[0]
    before = meters.read()
    started = time.perf_counter()
    await asyncio.gather(*(client(call) for call in calls))
    wall = time.perf_counter() - started
    after = meters.read()
    cpu = {name: (after[name] - before[name]) / len(samples) * 1e3 for name in after}
    result = Result(path.label, samples, wall)
    return Row(path, len(calls), result, cpu, (load_before, os.getloadavg()[0]))


async def measure(urls: dict[str, str], token: str, args: argparse.Namespace,
                  meters: Meters) -> list[Row]:
    rows: list[Row] = []
    for clients, per_client in ((1, args.calls), (args.clients, args.per_client)):
        for path in PATHS:
            async with AsyncExitStack() as stack:
                calls = await open_calls(path.key, clients, urls, token, stack)
                row = await phase(path, calls, per_client, meters)
            rows.append(row)
            print(f"  {row.path.label:<28} {clients:>3} clients  p50 {row.result.p50:7.2f} ms  "
                  f"{row.result.rate:7.1f} calls/s  gateway CPU {row.cpu['gateway']:.2f} ms/call"
                  f"  (load {row.load[0]:.1f})", flush=True)
    return rows


GOALS = (
    "throughput at 16-32 clients >= 0.85 of direct (both /mcp revisions and REST)",
    "sequential added p50 <= +1 ms (on a quiet machine)",
    "gateway CPU <= 0.6 ms per call and PostgreSQL <= 0.15 ms per call under load",
)


def report(rows: list[Row], args: argparse.Namespace, header: str) -> str:
    """The markdown the docs carry: command, machine, one table, where each goal stands."""
    by = {(r.path.key, r.clients): r for r in rows}
    lines = [
        f"Command: `{COMMAND}` (defaults: --calls {args.calls} --clients {args.clients} "
        f"--per-client {args.per_client})",
        "",
        header,
        "",
        "| path | clients | p50 | p99 | calls/s | vs direct | added p50 "
        "| CPU ms/call: client · upstream · gateway · postgres | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        direct = by.get((row.path.direct, row.clients)) if row.path.direct else None
        ratio = f"{row.result.rate / direct.result.rate:.2f}" if direct else "-"
        added = f"{row.result.p50 - direct.result.p50:+.2f} ms" if direct else "-"
        cpu = row.cpu
        gw = f"{cpu['gateway']:.2f}" if direct else "-"
        pg = f"{cpu['postgres']:.2f}" if direct else "-"
        lines.append(
            f"| {row.path.label} | {row.clients} | {row.result.p50:.2f} ms "
            f"| {row.result.p99:.2f} ms | {row.result.rate:.0f} | {ratio} | {added} "
            f"| {cpu['client']:.2f} · {cpu['upstream']:.2f} · {gw} · {pg} "
            f"| {row.load[0]:.1f}-{row.load[1]:.1f} |"
        )
    many = [r for r in rows if r.clients > 1 and r.path.direct]
    seq = [r for r in rows if r.clients == 1 and r.path.direct]
    ratios = ", ".join(
        f"{r.path.label.removeprefix('gateway ')} "
        f"{r.result.rate / by[(r.path.direct, r.clients)].result.rate:.2f}"  # type: ignore[index]
        for r in many
    )
    added = ", ".join(
        f"{r.path.label.removeprefix('gateway ')} "
        f"{r.result.p50 - by[(r.path.direct, 1)].result.p50:+.2f} ms"  # type: ignore[index]
        for r in seq
    )
    cpu = ", ".join(
        f"{r.path.label.removeprefix('gateway ')} {r.cpu['gateway']:.2f} · {r.cpu['postgres']:.2f}"
        for r in many
    )
    lines += [
        "",
        "Goals (issue 15) and where this run stands:",
        "",
        f"* {GOALS[0]}: {ratios}",
        f"* {GOALS[1]}: {added}",
        f"* {GOALS[2]} (gateway · postgres at {args.clients} clients): {cpu}",
    ]
    return "\n".join(lines) + "\n"


START, END = "<!-- bench:gateway:start -->", "<!-- bench:gateway:end -->"
COMMAND = " ".join([".venv/bin/python bench/gateway.py", *sys.argv[1:]])


def write_docs(text: str) -> None:
    doc = REPO / "docs" / "benchmarks" / "gateway.md"
    current = doc.read_text()
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        doc.write_text(f"{before}{START}\n{text}{END}{after}")
    else:
        doc.write_text(f"{current.rstrip()}\n\n{START}\n{text}{END}\n")
    print(f"wrote {doc.relative_to(REPO)}")


def start_profiler(pid: int, out: str) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: no profile (pip install py-spy)")
        return None
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "250", "--output", out, "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks/gateway.md")
    parser.add_argument("--profile", metavar="FILE", help="py-spy collapsed stacks of the gateway")
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
    profiler: subprocess.Popen[bytes] | None = None
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
        loop = "uvloop" if uvloop else "asyncio"
        parser_name = "httptools" if importlib.util.find_spec("httptools") else "h11"
        header = (f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, event loop "
                  f"{loop}, uvicorn HTTP parser {parser_name}; load average at start "
                  f"{os.getloadavg()[0]:.1f}.")
        print(f"upstream {upstream_url} (pid {upstream.pid}), gateway http://127.0.0.1:{gw_port}"
              f" (pid {gateway.pid})\n{header}")
        run = uvloop.run if uvloop else asyncio.run
        postmaster = int((root / "postgres" / "postmaster.pid").read_text().split()[0])
        meters = Meters({"upstream": upstream.pid, "gateway": gateway.pid,
                         "postgres": postmaster})
        if args.profile:
            profiler = start_profiler(gateway.pid, args.profile)
        urls = {"upstream": upstream_url, "gateway": f"http://127.0.0.1:{gw_port}"}
        rows = run(measure(urls, token, args, meters))
        text = report(rows, args, header)
        print()
        print(text)
        if args.write:
            write_docs(text)
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
        for process in reversed(processes):
            stop(process)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
