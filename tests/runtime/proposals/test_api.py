"""``POST /api/v1/proposals``: by hand, through the same probe, entry and forge path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from mcpfleet.commands.serve import served
from runtime.endpoints.probe import Prober
from runtime.proposals.api import proposals_router
from runtime.proposals.github import GitHubForge
from runtime.proposals.localgit import LocalGitForge
from runtime.proposals.proposer import Proposer
from tests.runtime.discovery.mcp_peers import serve_http, tool_server
from tests.runtime.proposals.conftest import git
from tests.runtime.proposals.fake_github import FakeGitHub, serve_github

IMAGE = "ghcr.io/example/notes:1.0"
IN_CLUSTER = "http://x.tools.svc.cluster.local:8080/mcp"
"""An address only the cluster resolves; the proposals that use it are not probed."""


def app_with(proposer: Proposer | None) -> FastAPI:
    app = FastAPI()
    app.state.proposer = proposer
    app.state.prober = Prober(timeout=3)
    app.include_router(proposals_router())
    return app


@pytest.fixture
async def local(repo: Path, catalog_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = app_with(Proposer(LocalGitForge(repo), catalog_dir=catalog_dir))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://discovery"
    ) as client:
        yield client


async def test_a_proposal_by_hand_probes_the_server_and_opens_a_branch(
    local: httpx.AsyncClient, repo: Path
) -> None:
    async with serve_http(tool_server("notes", ["add_note", "find_note"])) as url:
        body = {"name": "notes", "endpoint": url, "image": IMAGE, "description": "Notes."}
        first = await local.post("/api/v1/proposals", json=body)
        again = await local.post("/api/v1/proposals", json=body)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["status"] == "opened"
    assert answer["branch"] == "discovery/add-notes"
    assert answer["tools"] == ["add_note", "find_note"]
    assert answer["entry"]["kind"] == "http"  # an image given: the fleet can run it
    assert answer["entry"]["port"] == httpx.URL(url).port
    assert answer["probe"] == {"ok": True, "error": None}
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")
    assert "find_note" in git(repo, "show", "discovery/add-notes:catalog/servers/notes.yaml")


async def test_an_unreachable_server_is_still_proposed_and_the_probe_error_is_said(
    local: httpx.AsyncClient, repo: Path
) -> None:
    body = {
        "name": "inside",
        "endpoint": "http://127.0.0.1:1/mcp",
        "image": IMAGE,
        "description": "In-cluster.",
    }
    answer = (await local.post("/api/v1/proposals", json=body)).json()
    assert answer["status"] == "opened"
    assert answer["probe"]["ok"] is False
    assert "cannot reach" in answer["probe"]["error"]
    message = git(repo, "log", "-1", "--format=%B", "discovery/add-inside")
    assert "not reachable from discovery" in message


async def test_an_incomplete_request_is_refused_with_the_reason(local: httpx.AsyncClient) -> None:
    body = {"name": "web", "kind": "http", "endpoint": "http://127.0.0.1:1/mcp", "probe": False}
    response = await local.post("/api/v1/proposals", json=body)
    assert response.status_code == 422
    assert "a http server needs `image`" in response.text


async def test_a_remote_server_on_a_loopback_address_is_refused_with_the_reason(
    local: httpx.AsyncClient, repo: Path
) -> None:
    loopbacks = (
        "http://127.0.0.1:9000/mcp",
        "http://127.8.0.1/mcp",
        "http://[::1]:9000/mcp",
        "http://localhost:9000/mcp",
    )
    for url in loopbacks:
        body = {"name": "looped", "endpoint": url, "probe": False}
        response = await local.post("/api/v1/proposals", json=body)
        assert response.status_code == 422, url
        assert response.json()["error"]["code"] == "refused"
        assert "loopback address" in response.json()["error"]["reason"]
        assert "`image:`" in response.json()["error"]["reason"]
    assert git(repo, "branch", "--list", "discovery/*") == ""


async def test_a_name_that_is_not_a_dns_label_is_refused(local: httpx.AsyncClient) -> None:
    body = {"name": "Bad_Name", "endpoint": IN_CLUSTER, "probe": False}
    response = await local.post("/api/v1/proposals", json=body)
    assert response.status_code == 422
    assert "name" in response.text


async def test_proposing_a_server_the_catalog_already_has_changes_nothing(
    local: httpx.AsyncClient, repo: Path
) -> None:
    body = {"name": "adguard", "endpoint": IN_CLUSTER, "probe": False}
    response = await local.post("/api/v1/proposals", json=body)
    assert (response.status_code, response.json()["status"]) == (200, "in-catalog")
    assert git(repo, "branch", "--list", "discovery/*") == ""


async def test_a_forge_that_refuses_is_422_with_its_reason(catalog_dir: Path) -> None:
    hub = FakeGitHub()
    hub.seed({})
    with serve_github(hub):
        forge = GitHubForge("shreck/elsewhere", hub.token, api_url=hub.base_url)
        app = app_with(Proposer(forge, catalog_dir=catalog_dir))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://discovery"
        ) as client:
            body = {"name": "x", "endpoint": IN_CLUSTER, "probe": False}
            response = await client.post("/api/v1/proposals", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "refused"
    assert "GitHub 404" in response.json()["error"]["reason"]


async def test_with_proposals_off_the_answer_is_503_and_says_so() -> None:
    app = app_with(None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://discovery"
    ) as client:
        body = {"name": "x", "endpoint": IN_CLUSTER, "probe": False}
        response = await client.post("/api/v1/proposals", json=body)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "proposals_off"


async def test_a_github_outage_is_503_with_retry_after(catalog_dir: Path) -> None:
    hub = FakeGitHub()
    hub.seed({"catalog/platform.yaml": (catalog_dir / "platform.yaml").read_text()})
    with serve_github(hub):
        forge = GitHubForge(hub.full_name, hub.token, api_url=hub.base_url)
        app = app_with(Proposer(forge, catalog_dir=catalog_dir))
        hub.fail_next.append(503)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://discovery"
        ) as client:
            body = {"name": "x", "endpoint": IN_CLUSTER, "probe": False}
            response = await client.post("/api/v1/proposals", json=body)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "forge_unavailable"
    assert hub.token not in response.text


async def test_the_seeds_create_pr_request_works_as_its_curl_sends_it(
    repo: Path, catalog_dir: Path
) -> None:
    """``curl -X POST http://pr-automation:8080/api/v1/create-pr -d '{...}'``: no
    Content-Type, so curl labels the JSON a form; the app as ``mcpfleet serve`` runs it
    reads it as JSON."""
    app = served(app_with(Proposer(LocalGitForge(repo), catalog_dir=catalog_dir)))
    body = b'{"server_name": "test-mcp", "type": "standard", "endpoint": "http://test:8080"}'
    form = {"Content-Type": "application/x-www-form-urlencoded"}  # what curl -d sends
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://pr-automation:8080"
    ) as client:
        response = await client.post("/api/v1/create-pr", content=body, headers=form)
        again = await client.post("/api/v1/create-pr", content=body, headers=form)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["status"], answer["branch"]) == ("opened", "discovery/add-test")
    assert answer["entry"]["kind"] == "remote"  # `standard` with no image: only registered
    assert answer["entry"]["urls"] == ["http://test:8080"]
    assert answer["probe"]["ok"] is False  # `test` resolves nowhere here; still proposed
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")
    assert "http://test:8080" in git(repo, "show", "discovery/add-test:catalog/servers/test.yaml")


async def test_create_pr_refuses_a_type_that_needs_an_image_it_was_not_given(
    local: httpx.AsyncClient,
) -> None:
    body = {"server_name": "k8s-mcp", "type": "kmcp", "endpoint": IN_CLUSTER}
    response = await local.post("/api/v1/create-pr", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "refused"
    assert "a cluster-api server needs `image`" in response.json()["error"]["reason"]
