"""Proposals as branches in a real local git repository."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from catalog import check_catalog, load_catalog
from catalog.model import HttpServer
from runtime.endpoints.endpoint import Endpoint
from runtime.proposals.entry import build_entry, updated_entry
from runtime.proposals.errors import PermanentProposalError
from runtime.proposals.localgit import LocalGitForge
from runtime.proposals.proposer import Proposal, Proposer
from tests.runtime.proposals.conftest import git

TOOLS = [
    {"name": "forecast", "description": "Forecast.", "annotations": {"readOnlyHint": True}},
    {"name": "alerts", "description": "Alerts.", "annotations": {"readOnlyHint": True}},
]
WEATHER = Endpoint(
    name="weather",
    source="kubernetes",
    origin="service mcp-system/mcp-weather",
    url="http://10.0.0.7:8080/mcp",
    image="ghcr.io/example/weather:1.0",
    namespace="mcp-system",
    service="weather-mcp",
    port=8080,
    path="/mcp",
)


def proposer(repo: Path, catalog_dir: Path) -> Proposer:
    return Proposer(LocalGitForge(repo), catalog_dir=catalog_dir)


def add(tools: list[dict] = TOOLS, endpoint: Endpoint = WEATHER) -> Proposal:
    return Proposal(build_entry(endpoint, tools), details={"origin": endpoint.origin}, tools=tools)


def checkout_tree(repo: Path, ref: str, into: Path) -> Path:
    """The branch's files as a plain directory (what a reviewer or CI would check out)."""
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", ref], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def test_a_new_server_becomes_a_branch_whose_catalog_validates(
    repo: Path, catalog_dir: Path, tmp_path: Path
) -> None:
    outcome = proposer(repo, catalog_dir).propose(add())
    assert outcome.status == "opened"
    assert outcome.branch == "discovery/add-weather"
    tree = checkout_tree(repo, outcome.branch, tmp_path / "tree")
    catalog, problems = check_catalog(tree / "catalog")
    assert problems == []
    assert catalog is not None
    entry = catalog.server("weather")
    assert isinstance(entry, HttpServer)
    assert (entry.image, entry.port, entry.tools) == (
        "ghcr.io/example/weather:1.0",
        8080,
        ["alerts", "forecast"],
    )


def test_proposing_touches_neither_the_working_tree_nor_the_checked_out_branch(
    repo: Path, catalog_dir: Path
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    proposer(repo, catalog_dir).propose(add())
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"


def test_the_commit_message_carries_the_tools_and_the_fingerprint(
    repo: Path, catalog_dir: Path
) -> None:
    outcome = proposer(repo, catalog_dir).propose(add())
    message = git(repo, "log", "-1", "--format=%B", outcome.branch)
    assert message.startswith("Add MCP server `weather` to the catalog")
    assert "| `forecast` | yes | Forecast. |" in message
    assert f"Mcpfleet-Fingerprint: {outcome.fingerprint}" in message


def test_a_rerun_with_the_same_entry_changes_nothing(repo: Path, catalog_dir: Path) -> None:
    first = proposer(repo, catalog_dir).propose(add())
    tip = git(repo, "rev-parse", first.branch)
    again = proposer(repo, catalog_dir).propose(add())
    assert again.status == "unchanged"
    assert git(repo, "rev-parse", first.branch) == tip


def test_a_changed_server_updates_the_open_proposal_with_a_new_commit(
    repo: Path, catalog_dir: Path
) -> None:
    first = proposer(repo, catalog_dir).propose(add())
    tip = git(repo, "rev-parse", first.branch)
    more = [*TOOLS, {"name": "radar", "description": "Radar."}]
    second = proposer(repo, catalog_dir).propose(add(more))
    assert second.status == "updated"
    assert git(repo, "rev-parse", f"{first.branch}^") == tip
    assert git(repo, "branch", "--list", "discovery/*") == "discovery/add-weather"
    text = git(repo, "show", f"{first.branch}:catalog/servers/weather.yaml")
    assert "radar" in text


def test_a_deleted_unmerged_branch_is_not_proposed_again_unless_the_server_changed(
    repo: Path, catalog_dir: Path
) -> None:
    first = proposer(repo, catalog_dir).propose(add())
    git(repo, "branch", "-D", first.branch)  # the operator declines it
    assert proposer(repo, catalog_dir).propose(add()).status == "declined"
    assert git(repo, "branch", "--list", "discovery/*") == ""
    changed = proposer(repo, catalog_dir).propose(add([*TOOLS, {"name": "radar"}]))
    assert changed.status == "opened"


def test_once_merged_the_server_is_in_the_catalog_and_nothing_is_proposed(
    repo: Path, catalog_dir: Path
) -> None:
    first = proposer(repo, catalog_dir).propose(add())
    git(repo, "merge", "-q", "--no-edit", first.branch)
    assert proposer(repo, catalog_dir).propose(add()).status == "in-catalog"
    assert load_catalog(repo / "catalog").server("weather").tools == ["alerts", "forecast"]


def test_a_drift_update_changes_only_the_measured_lines_and_keeps_comments(
    repo: Path, catalog_dir: Path
) -> None:
    existing = load_catalog(repo / "catalog").server("kubernetes-prod")
    server = updated_entry(existing, tools=["pods_list", "events_list"])
    outcome = proposer(repo, catalog_dir).propose(
        Proposal(server, action="update", reasons=["tools differ"])
    )
    assert outcome.status == "opened"
    assert outcome.branch == "discovery/update-kubernetes-prod"
    before = YAML(typ="safe").load(git(repo, "show", "main:catalog/servers/kubernetes-prod.yaml"))
    after = YAML(typ="safe").load(
        git(repo, "show", f"{outcome.branch}:catalog/servers/kubernetes-prod.yaml")
    )
    assert after["server"].pop("tools") == ["events_list", "pods_list"]
    assert after == before
    text = git(repo, "show", f"{outcome.branch}:catalog/servers/kubernetes-prod.yaml")
    assert "# monitoring cluster the fleet runs in" in text  # the operator's comments stay


def test_an_entry_that_breaks_a_cross_file_rule_is_refused_with_the_problem(
    repo: Path, catalog_dir: Path
) -> None:
    clash = HttpServer.model_validate(
        {
            "name": "clash",
            "kind": "http",
            "description": "Listens where the gateway does.",
            "image": "x:1",
            "port": 8080,
            "local": {"command": "clash-server"},
        }
    )
    with pytest.raises(PermanentProposalError, match=r"port 8080 is already used by gateway\.port"):
        proposer(repo, catalog_dir).propose(Proposal(clash))
    assert git(repo, "branch", "--list", "discovery/*") == ""


def test_a_directory_that_is_not_a_repository_is_a_permanent_error(tmp_path: Path) -> None:
    with pytest.raises(PermanentProposalError, match="not a git repository"):
        LocalGitForge(tmp_path)


def test_the_outcome_carries_the_catalog_diff_a_reviewer_reads(
    repo: Path, catalog_dir: Path
) -> None:
    added = proposer(repo, catalog_dir).propose(add())
    assert added.diff is not None
    lines = added.diff.splitlines()
    assert lines[:2] == ["--- /dev/null", "+++ b/catalog/servers/weather.yaml"]
    committed = git(repo, "show", f"{added.branch}:catalog/servers/weather.yaml")
    assert [line[1:] for line in lines[3:]] == committed.splitlines()
    existing = load_catalog(repo / "catalog").server("kubernetes-prod")
    update = proposer(repo, catalog_dir).propose(
        Proposal(updated_entry(existing, tools=["pods_list"]), action="update")
    )
    assert update.diff is not None
    assert "--- a/catalog/servers/kubernetes-prod.yaml" in update.diff
    # the same lines change as git itself reports between the base and the branch
    by_git = git(repo, "diff", "main", update.branch, "--", "catalog/servers/kubernetes-prod.yaml")
    assert _changes(update.diff) == _changes(by_git) != []
    git(repo, "merge", "-q", "--no-edit", added.branch)
    in_catalog = proposer(repo, catalog_dir).propose(add())
    assert in_catalog.status == "in-catalog" and in_catalog.diff is None


def _changes(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
