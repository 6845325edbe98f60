"""Proposals as GitHub pull requests: PyGithub against a local server speaking GitHub's
REST API (``fake_github``), since api.github.com cannot be reached from here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import load_catalog
from runtime.endpoints.endpoint import Endpoint
from runtime.proposals.entry import build_entry
from runtime.proposals.errors import PermanentProposalError, RetryableProposalError
from runtime.proposals.github import GitHubForge
from runtime.proposals.proposer import Proposal, Proposer
from tests.runtime.proposals.fake_github import FakeGitHub, serve_github

TOOLS = [{"name": "forecast", "description": "Forecast.", "annotations": {"readOnlyHint": True}}]
WEATHER = Endpoint(
    name="weather",
    source="kubernetes",
    origin="service mcp-system/mcp-weather",
    url="http://10.0.0.7:8080/mcp",
    namespace="mcp-system",
    service="weather-mcp",
    port=8080,
    path="/mcp",
)


@pytest.fixture
def hub(catalog_dir: Path) -> Iterator[FakeGitHub]:
    hub = FakeGitHub()
    files = {
        f"catalog/{p.relative_to(catalog_dir)}": p.read_text()
        for p in catalog_dir.rglob("*.yaml")
    }
    hub.seed(files)
    with serve_github(hub):
        yield hub


def forge(hub: FakeGitHub, token: str | None = None) -> GitHubForge:
    return GitHubForge(
        hub.full_name,
        token or hub.token,
        api_url=hub.base_url,
        seconds_between_writes=0,
    )


def propose(hub: FakeGitHub, catalog_dir: Path, tools: list[dict] = TOOLS) -> str:
    entry = build_entry(WEATHER, tools)
    proposal = Proposal(entry, details={"origin": WEATHER.origin}, tools=tools)
    return Proposer(forge(hub), catalog_dir=catalog_dir).propose(proposal).status


def test_a_new_server_opens_a_labelled_pull_request_with_its_tools(
    hub: FakeGitHub, catalog_dir: Path
) -> None:
    assert propose(hub, catalog_dir) == "opened"
    (pull,) = hub.open_pulls()
    assert pull["head"]["ref"] == "discovery/add-weather"
    assert pull["base"]["ref"] == "main"
    assert pull["label_names"] == ["auto-generated", "mcp-infrastructure"]
    assert "| `forecast` | yes | Forecast. |" in pull["body"]
    assert "service mcp-system/mcp-weather" in pull["body"]
    text = hub.file("discovery/add-weather", "catalog/servers/weather.yaml")
    assert text is not None and "kind: remote" in text
    assert "http://weather-mcp.mcp-system.svc.cluster.local:8080/mcp" in text


def test_a_rerun_leaves_the_open_pull_request_alone(hub: FakeGitHub, catalog_dir: Path) -> None:
    propose(hub, catalog_dir)
    commits = len(hub.history("discovery/add-weather"))
    assert propose(hub, catalog_dir) == "unchanged"
    assert len(hub.pulls) == 1
    assert len(hub.history("discovery/add-weather")) == commits


def test_a_changed_server_updates_the_branch_and_the_body_of_the_same_pull_request(
    hub: FakeGitHub, catalog_dir: Path
) -> None:
    propose(hub, catalog_dir)
    more = [*TOOLS, {"name": "radar", "description": "Rain radar."}]
    assert propose(hub, catalog_dir, more) == "updated"
    (pull,) = hub.pulls.values()
    assert "`radar`" in pull["body"]
    text = hub.file("discovery/add-weather", "catalog/servers/weather.yaml")
    assert text is not None and "radar" in text


def test_a_closed_pull_request_is_not_reopened_unless_the_server_changed(
    hub: FakeGitHub, catalog_dir: Path
) -> None:
    propose(hub, catalog_dir)
    hub.close(1)
    assert propose(hub, catalog_dir) == "declined"
    assert len(hub.pulls) == 1
    assert propose(hub, catalog_dir, [*TOOLS, {"name": "radar"}]) == "opened"
    assert [p["number"] for p in hub.open_pulls()] == [2]


def test_after_the_merge_the_server_is_in_the_catalog_and_validates(
    hub: FakeGitHub, catalog_dir: Path, tmp_path: Path
) -> None:
    propose(hub, catalog_dir)
    hub.merge(1)
    assert propose(hub, catalog_dir) == "in-catalog"
    for path, text in hub.files("main").items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert load_catalog(tmp_path / "catalog").server("weather").tools == ["forecast"]


def test_a_rejected_token_is_permanent_and_never_quoted(
    hub: FakeGitHub, catalog_dir: Path
) -> None:
    proposal = Proposal(build_entry(WEATHER, TOOLS))
    bad = Proposer(forge(hub, token="ghp_wrong_secret"), catalog_dir=catalog_dir)
    with pytest.raises(PermanentProposalError, match="token was rejected") as caught:
        bad.propose(proposal)
    assert "ghp_wrong_secret" not in str(caught.value)


def test_a_github_outage_is_retryable(hub: FakeGitHub, catalog_dir: Path) -> None:
    hub.fail_next.extend([502])
    with pytest.raises(RetryableProposalError, match="GitHub 502"):
        propose(hub, catalog_dir)
    assert propose(hub, catalog_dir) == "opened"


def test_nothing_listening_is_retryable(catalog_dir: Path) -> None:
    hub = FakeGitHub()
    with serve_github(hub):
        pass
    with pytest.raises(RetryableProposalError, match="cannot reach GitHub"):
        propose(hub, catalog_dir)
