"""Ranking signals that decide between servers and between a server's near-twin tools.

The real all-MiniLM-L6-v2 model over the eval fleet's real tool lists (680 tools from
``shared/mcp-tools``) with questions written for these tests (none from the eval files),
plus a small hand-written fleet for the mechanics. Each ranking test also ranks with the
signal switched off, so it shows that the signal is what puts the right tool first.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mcp.types import Tool

from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import build_index
from runtime.triage.eval_run import load_fleet
from runtime.triage.retrieval import ToolIndex
from runtime.triage.toolset import ServerTools


def _tool(tool_name: str, description: str, read_only: bool = True, **params: str) -> Tool:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
    }
    return Tool(
        name=tool_name,
        description=description,
        input_schema=schema,
        annotations={"readOnlyHint": read_only},
    )


FLEET = (
    ServerTools(
        name="kubernetes",
        description="The Kubernetes API of the cluster",
        tools=(
            _tool(
                "pods_list",
                "List the pods of a namespace and their container restarts.",
                namespace="Namespace",
            ),
            _tool(
                "pods_log",
                "Get the logs of a pod's container.",
                namespace="Namespace",
                name="Pod name",
            ),
            _tool(
                "kiali_get_pod_performance",
                "Kiali: CPU, memory and restarts of a pod.",
                namespace="Namespace",
            ),
        ),
    ),
    ServerTools(
        name="prometheus",
        description="The Prometheus server",
        tools=(
            _tool("execute_query", "Execute a PromQL instant query.", query="PromQL query"),
            _tool(
                "execute_range_query",
                "Execute a PromQL range query.",
                query="PromQL query",
                start="Start time",
                end="End time",
                step="Resolution step",
            ),
        ),
    ),
    ServerTools(
        name="github",
        description="GitHub repositories",
        tools=(
            _tool(
                "get_file_contents",
                "Get the contents of a file or directory from a GitHub repository",
                owner="Owner",
                repo="Repository name",
                path="Path of the file",
            ),
        ),
    ),
    ServerTools(
        name="talos",
        description="Talos Linux nodes",
        tools=(
            _tool("talos_processes", "List the running processes of a node.", node="Node"),
            _tool("talos_version", "Show the Talos and kernel version of a node.", node="Node"),
            _tool(
                "talos_list_files",
                "List files in a directory of a node.",
                node="Node",
                path="Directory path",
            ),
        ),
    ),
    ServerTools(
        name="postgres",
        description="An application PostgreSQL database",
        tools=(
            _tool(
                "get_object_details",
                "Show details of a database object.",
                schema_name="Schema",
                object_name="Object name",
            ),
            _tool("execute_sql", "Execute any SQL statement.", read_only=False, sql="SQL"),
        ),
    ),
    ServerTools(
        name="grafana",
        description="Grafana dashboards and datasources",
        tools=(
            _tool(
                "describe_clickhouse_table",
                "Describe the columns of a ClickHouse table.",
                table="Table",
            ),
            _tool("list_clickhouse_tables", "List the tables of a ClickHouse database."),
        ),
    ),
)


@pytest.fixture(scope="module")
async def small(minilm: MiniLMEmbedder) -> ToolIndex:
    return await build_index(FLEET, minilm)


@pytest.fixture(scope="module")
async def fleet(minilm: MiniLMEmbedder, eval_dir: Path) -> ToolIndex:
    return await build_index(load_fleet(eval_dir / "mcp-tools", only_eval_fleet=True), minilm)


def _with(index: ToolIndex, **weights: float) -> ToolIndex:
    return ToolIndex(
        index.servers,
        index.prior.vectors,
        index.tool_vectors,
        replace(index.weights, **weights),
        index.words,
    )


def _ranked(index: ToolIndex, minilm: MiniLMEmbedder, text: str, **weights: float) -> list[str]:
    ranked = _with(index, **weights) if weights else index
    vector = minilm.embed_sync([text])[0]
    return [c.key for c in ranked.rank(ranked.prepare(text, vector), 3)]


def test_a_table_and_a_write_point_at_the_sql_executor(fleet: ToolIndex, minilm) -> None:
    text = "delete every row older than a year from sessions_archive"
    assert _ranked(fleet, minilm, text)[0] == "postgres/execute_sql"
    # Without the value kinds (a table name) the server is lost; without the floor for
    # query-language tools its terse description loses to tools that say "delete".
    assert not _ranked(fleet, minilm, text, server_values=0.0)[0].startswith("postgres/")
    assert _ranked(fleet, minilm, text, open_ended=0.0)[0] != "postgres/execute_sql"


def test_a_typo_still_meets_the_tool(fleet: ToolIndex, minilm) -> None:
    text = "recent deploymnets in the media namespace"
    vector = minilm.embed_sync([text])[0]
    terms = {t.text: t.weight for t in fleet.prepare(text, vector).terms}
    assert terms["deployment"] == pytest.approx(fleet.weights.spelling)
    assert _ranked(fleet, minilm, text)[0] == "kubernetes/resources_list"
    assert _ranked(fleet, minilm, text, spelling=0.0)[0] != "kubernetes/resources_list"


def test_a_named_server_is_found_standalone_not_inside_identifiers(
    small: ToolIndex, minilm
) -> None:
    text = "find code that calls talos_machine_configuration_apply on GitHub"
    query = small.prepare(text, minilm.embed_sync([text])[0])
    named = {
        s.name for s, hit in zip(small.servers, small.prior.mentioned(query), strict=True) if hit
    }
    assert named == {"github"}


def test_naming_a_server_is_not_evidence_that_a_tool_is_needed(small: ToolIndex, minilm) -> None:
    """The reported score (what the route decision reads) leaves the mention out."""
    text = "list files of node w1 on github"
    vector = minilm.embed_sync([text])[0]
    named = {c.key: c.score for c in small.rank(small.prepare(text, vector), 20)}
    unnamed = _with(small, mention=0.0)
    plain = {c.key: c.score for c in unnamed.rank(unnamed.prepare(text, vector), 20)}
    assert named == pytest.approx(plain)


def test_query_language_tools_are_always_scored(fleet: ToolIndex) -> None:
    """pgvector's nearest 64 may miss a terse executor; the service always adds these."""
    keys = set(fleet.open_ended_keys)
    assert {
        "prometheus/execute_query",
        "prometheus/execute_range_query",
        "postgres/execute_sql",
        "grafana/query_loki_logs",
        "grafana/query_prometheus",
    } <= keys
    assert len(keys) < 40  # a handful per server, not the fleet
    assert "kubernetes/pods_list" not in keys
