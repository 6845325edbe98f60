"""The gateway through a PostgreSQL outage: failed calls, audit rows, recovery time.

Run: ``python bench/outage.py [--clients 8] [--outage 20] [--write]``.

An embedded PostgreSQL of its own, the ``slow`` test upstream (streamable HTTP, its own
process) and the gateway (``create_app`` under uvicorn, in this process) with
authentication, the PostgreSQL rate limiter and audit on. ``--clients`` clients (REST,
MCP 2026-07-28 and MCP 2025-11-25 in turn), each with a token the gateway has verified,
call ``echo`` in a loop: ``--before`` seconds with the database up, ``--outage`` seconds
with it stopped (``pg_ctl stop -m fast``), ``--after`` seconds after it is started again.
Reported: calls and failures per phase, the time from the database answering again until
a token the gateway never saw is accepted (recovery), until the rate limiter counts in
the database again, and until the audit log holds one row per call. ``--write`` puts the
figures and the command into ``docs/benchmarks/outage.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from types import ModuleType

import httpx
import uvicorn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from runtime.db import Database, EmbeddedPostgres  # noqa: E402
from runtime.db.migrate import migrate  # noqa: E402
from runtime.gateway import GatewayConfig, create_app  # noqa: E402
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from runtime.store import TokenStore  # noqa: E402

UPSTREAM = REPO / "tests" / "fixtures" / "servers" / "slow.py"


def _gateway_bench() -> ModuleType:
    """``bench/gateway.py``'s process helpers (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_gateway", REPO / "bench" / "gateway.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_helpers = _gateway_bench()
free_port, mcp_client, stop, wait_port = (
    _helpers.free_port,
    _helpers.mcp_client,
    _helpers.stop,
    _helpers.wait_port,
)
DOC = REPO / "docs" / "benchmarks" / "outage.md"
Call = Callable[[], Awaitable[None]]
PHASES = ("before", "outage", "after")


class Tally:
    """Calls and failures, counted per phase."""

    def __init__(self) -> None:
        self.phase = "before"
        self.calls: dict[str, int] = {"before": 0, "outage": 0, "after": 0}
        self.failed: dict[str, int] = {"before": 0, "outage": 0, "after": 0}
        self.errors: list[str] = []
        self.running = True

    async def loop(self, call: Call) -> None:
        while self.running:
            phase = self.phase
            try:
                await call()
            except Exception as exc:  # every failure of a call is what is counted here
                self.failed[phase] += 1
                if len(self.errors) < 5:
                    self.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            self.calls[phase] += 1


async def open_client(kind: str, url: str, token: str, stack: AsyncExitStack) -> Call:
    if kind == "rest":
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"})
        )

        async def rest() -> None:
            answer = await http.post("/api/v1/mcp/slow/tools/echo", json={"message": "m"})
            if answer.status_code != 200 or answer.json()["isError"]:
                raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")

        return rest
    mode = "2026-07-28" if kind == "modern" else "legacy"
    client = await stack.enter_async_context(mcp_client(f"{url}/mcp", token, mode))

    async def mcp() -> None:
        result = await client.call_tool("slow__echo", {"message": "m"})
        if result.is_error:
            raise RuntimeError("tool error")

    return mcp


async def audit_rows(db: Database, names: list[str]) -> int:
    async with db.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM audit_log WHERE client = ANY(%s)", (names,))
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def until(probe: Callable[[], Awaitable[bool]], within: float) -> float | None:
    """Seconds until ``probe()`` is true (polled every 50 ms), or None after ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if await probe():
                return time.monotonic() - started
        except Exception:  # the database may still refuse: keep polling
            pass
        await asyncio.sleep(0.05)
    return None


async def run(args: argparse.Namespace, root: Path) -> dict[str, object]:
    server = EmbeddedPostgres(root)
    await server.astart()
    url = server.url()
    await migrate(url, embedding_dim=384)
    port = free_port()
    upstream = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, str(UPSTREAM), "--transport", "streamable-http", "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, upstream)
        settings = Settings(database_url=url, data_dir=root / "data", catalog=REPO / "catalog")
        config = GatewayConfig(
            (ServerSpec("slow", (EndpointSpec("streamable-http", url=f"http://127.0.0.1:{port}/mcp"),)),),
            PoolSettings(health_interval=60),
            requests_per_minute=10_000_000,
        )
        admin = await Database.open(url, embedding_dim=384, run_migrations=False)
        names = [f"outage-{i}" for i in range(args.clients)]
        store = TokenStore(admin)
        tokens = [(await store.create(name)).token for name in names]
        latecomer = (await store.create("latecomer")).token
        app = create_app(settings, config)
        web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
        serving = asyncio.create_task(web.serve())
        await until(lambda: _true(web.started), 60)
        base = f"http://127.0.0.1:{web.servers[0].sockets[0].getsockname()[1]}"
        tally = Tally()
        kinds = ("rest", "modern", "legacy")
        async with AsyncExitStack() as stack:
            calls = [
                await open_client(kinds[i % 3], base, token, stack)
                for i, token in enumerate(tokens)
            ]
            for call in calls:
                await call()  # every token verified before the outage
                tally.calls["before"] += 1
            workers = [asyncio.create_task(tally.loop(call)) for call in calls]
            await asyncio.sleep(args.before)
            tally.phase = "outage"
            await server.astop()
            await asyncio.sleep(args.outage)
            await server.astart()
            tally.phase = "after"
            back = time.monotonic()
            guard = app.state.guard

            async def latecomer_accepted() -> bool:
                async with httpx.AsyncClient(base_url=base) as http:
                    answer = await http.get(
                        "/api/v1/servers", headers={"Authorization": f"Bearer {latecomer}"}
                    )
                return answer.status_code == 200

            async def limiter_shared() -> bool:
                hits = guard.limiter.degraded_hits
                await asyncio.sleep(0.05)
                return guard.limiter.degraded_hits == hits

            recovery = await until(latecomer_accepted, 60)
            limiter = await until(limiter_shared, 60)
            limiter = None if limiter is None else time.monotonic() - back
            await asyncio.sleep(max(0.0, args.after - (time.monotonic() - back)))
            tally.running = False
            await asyncio.gather(*workers)
            stopped = time.monotonic()
        total = sum(tally.calls.values())

        async def audited() -> bool:
            return await audit_rows(admin, names) == total

        audit_time = await until(audited, 120)
        audit_time = None if audit_time is None else time.monotonic() - stopped
        rows = await audit_rows(admin, names)
        web.should_exit = True
        await serving
        await admin.close()
        await server.astop()
        return {
            "clients": args.clients,
            "outage": args.outage,
            "calls": dict(tally.calls),
            "failed": dict(tally.failed),
            "errors": tally.errors,
            "rows": rows,
            "total": total,
            "recovery": recovery,
            "limiter": limiter,
            "audit": audit_time,
            "load": os.getloadavg()[0],
        }
    finally:
        stop(upstream)


async def _true(value: bool) -> bool:
    return value


def seconds(value: object) -> str:
    return "not within 60 s" if value is None else f"{float(value):.2f} s"  # type: ignore[arg-type]


def report(figures: dict[str, object], command: str) -> str:
    calls, failed = figures["calls"], figures["failed"]
    assert isinstance(calls, dict) and isinstance(failed, dict)
    rate = {k: calls[k] for k in calls}
    lines = [
        "# Database outage figures",
        "",
        "What the gateway's clients see while its PostgreSQL is stopped and started again "
        "(issue 11, item 5). Written by the command below; the lead re-runs it on a quiet "
        "machine.",
        "",
        f"Command: `{command}`",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average "
        f"{figures['load']:.1f} at the end; {figures['clients']} clients (REST, MCP "
        f"2026-07-28, MCP 2025-11-25 in turn), each token verified before the outage; "
        f"PostgreSQL stopped for {figures['outage']} s.",
        "",
        "| phase | calls | failed calls |",
        "|---|---:|---:|",
        *(f"| {phase} | {rate[phase]} | {failed[phase]} |" for phase in PHASES),
        "",
        f"* Audit rows for these clients: **{figures['rows']}** for **{figures['total']}** calls.",
        f"* Recovery (PostgreSQL answering again → a token never seen before is accepted): "
        f"**{seconds(figures['recovery'])}**.",
        f"* Rate limits counted in the database again after: {seconds(figures['limiter'])}.",
        f"* Audit log complete (queued and spilled records written) "
        f"{seconds(figures['audit'])} after the load stopped.",
    ]
    if figures["errors"]:
        errors = figures["errors"]
        assert isinstance(errors, list)
        lines += ["", "First failures:", "", *(f"* `{e}`" for e in errors)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--before", type=float, default=5)
    parser.add_argument("--outage", type=float, default=20)
    parser.add_argument("--after", type=float, default=10)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks/outage.md")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mcpfleet-bench-outage-"))
    try:
        try:
            import uvloop

            runner: Callable[..., dict[str, object]] = uvloop.run
        except ImportError:
            runner = asyncio.run
        figures = runner(run(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = " ".join([".venv/bin/python bench/outage.py", *sys.argv[1:]])
    text = report(figures, command)
    print(text)
    if args.write:
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
