"""``mcpfleet triage …``: measure the triage decision on a labelled file."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from fastapi import FastAPI

    from runtime.settings import Settings
    from runtime.triage.evaluation import EvalReport

__all__ = ["app", "report_table", "standalone_triage_app"]

app = typer.Typer(help="Measure and inspect the triage layer.", no_args_is_help=True)


@app.command("eval")
def eval_(
    file: Path = typer.Argument(
        ...,
        help="Labelled questions, JSON Lines: one object per line with id, query, route "
        "(tool, direct, escalate or context), tool (server/tool, for route tool) and "
        "optional alternatives. Format: eval/FORMAT.md.",
    ),
    tools: Path | None = typer.Option(
        None,
        "--tools",
        help="Directory of tool lists (<server>.json, the tools/list answer); loads exactly "
        "the servers in it. Default: the eval fleet from mcp-tools/ beside the file's "
        "directory or above it (eval/mcp-tools for every set under eval/).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    predictions: Path | None = typer.Option(
        None,
        "--predictions",
        help="Write per question: id, route, ranked candidates, confidence, would_execute.",
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        min=0.5,
        max=1.0,
        help="Execution threshold to score at. Default: the shipped catalog's.",
    ),
    curve: bool = typer.Option(
        False,
        "--learning-curve",
        help="Also replay 0/25/50/75 % of the tool questions as confirmed history and score "
        "a fixed remaining quarter (memory of what worked).",
    ),
) -> None:
    """Train on the fleet's tool schemas, decide every question (local embedding model, no
    LLM) and score: routes, tool top-k, calibration and would-be executions.

    FILE is JSON Lines, one labelled question per line, e.g. eval/dev/triage-dev.jsonl:

    {"id": "d001", "query": "show the dhcp leases", "route": "tool",
    "tool": "opnsense/opn_list_dhcp_leases", "alternatives": []}

    id, query and route (tool, direct, escalate or context) are required; tool
    (server/tool name) is required when the route is tool; alternatives lists other
    tools that count as right; arguments and note are read but not scored. The full
    description is in eval/FORMAT.md.
    """
    from runtime.triage.embedding import EmbeddingError, MiniLMEmbedder
    from runtime.triage.eval_run import (
        default_tools_dir,
        learning_curve,
        load_fleet,
        predict,
        triage_for,
    )
    from runtime.triage.evaluation import EvalFileError, load_cases, score
    from runtime.triage.toolset import ToolFileError

    err = Console(stderr=True)
    try:
        cases = load_cases(file)
        tools_dir = tools if tools is not None else default_tools_dir(file)
        servers = load_fleet(tools_dir, only_eval_fleet=tools is None)
        embedder = MiniLMEmbedder().load()
        triage = asyncio.run(triage_for(servers, embedder, threshold=threshold))
    except (EvalFileError, ToolFileError, EmbeddingError) as exc:
        err.print(f"[red]✗[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    predicted = predict(triage, embedder, cases)
    if predictions is not None:
        predictions.write_text("".join(p.to_json() + "\n" for p in predicted), encoding="utf-8")
    report = score(cases, predicted, threshold=triage.policy.threshold)
    learning = learning_curve(triage, embedder, cases) if curve else None
    if as_json:
        figures = report.as_dict()
        figures["servers"] = len(servers)
        figures["tools"] = len(triage.index)
        figures["training"] = triage.model.report.as_dict()
        if learning is not None:
            figures["learningCurve"] = learning
        typer.echo(json.dumps(figures))
        return
    out = Console()
    out.print(
        f"{len(cases)} queries, {len(servers)} servers, {len(triage.index)} tools "
        f"(local embedding model, no LLM; trained in {triage.model.report.seconds:.0f} s)"
    )
    out.print(report_table(report))
    if learning is not None:
        for point in learning:
            out.print(
                f"remembered {point['remembered']:>3}: top-1 {_pct(point['toolTop1'])}, "
                f"top-5 {_pct(point['toolTop5'])} over {point['scored']} questions"
            )


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def report_table(report: EvalReport) -> Table:
    """Headline figures, then tool accuracy per server."""
    table = Table(show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("route accuracy", _pct(report.route_accuracy))
    table.add_row(f"tool top-1 ({report.tool_queries} tool queries)", _pct(report.tool_top1))
    table.add_row("tool top-3", _pct(report.tool_top3))
    table.add_row("tool top-5", _pct(report.tool_top5))
    table.add_row("tool top-10", _pct(report.tool_top10))
    trust = report.trust
    if trust is not None:
        table.add_row("calibration error (ECE)", f"{trust.ece:.3f}")
        table.add_row(f"coverage at {trust.threshold:.2f}", _pct(trust.coverage))
        table.add_row(f"precision at {trust.threshold:.2f}", _pct(trust.precision))
        table.add_row("would execute / wrongly", f"{trust.executions} / {trust.wrong_executions}")
    for name, value in (("p50", report.latency_p50_ms), ("p95", report.latency_p95_ms)):
        table.add_row(f"decision latency {name}", f"{value:.1f} ms" if value is not None else "-")
    for route, accuracy in report.per_route.items():
        table.add_row(f"  route {route}", _pct(accuracy))
    for server, s in sorted(report.per_server.items()):
        table.add_row(escape(f"  {server} ({s.queries})"), f"{_pct(s.top1)} / {_pct(s.top5)}")
    return table


def standalone_triage_app(
    settings: Settings, gateway_url: str | None, router_url: str | None, *, auth: bool
) -> FastAPI:
    """Triage on its own, calling tools through the gateway and escalating through the
    router over HTTP (``MCPFLEET_TRIAGE_TOKEN`` authenticates triage to both; at the
    gateway it must be a service token, ``mcpfleet token create --service``, because triage
    names the user each call is for)."""
    import httpx

    from runtime.router import RouterClient
    from runtime.triage.api import create_app
    from runtime.triage.gateway_client import GatewayToolCaller

    http = httpx.AsyncClient(timeout=60.0)
    token = os.environ.get("MCPFLEET_TRIAGE_TOKEN")
    app = create_app(
        settings,
        auth=auth,
        tool_caller=GatewayToolCaller(gateway_url, http, token=token) if gateway_url else None,
        completer=RouterClient(router_url, http, token=token) if router_url else None,
        http=http,
        closers=[http.aclose],
    )
    _serve_metrics(app)
    return app


def _serve_metrics(app: FastAPI) -> None:
    """``/metrics`` for the standalone triage pod (scraped like the other services): what
    triage observes is process-wide — its Ollama calls and its vector searches."""
    from fastapi import Response
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    from runtime.telemetry import register_process_series

    registry = CollectorRegistry()
    register_process_series(registry)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
