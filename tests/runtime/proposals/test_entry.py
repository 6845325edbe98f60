"""Catalog entries for discovered servers: the kind that says the least that is untrue."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.model import HttpServer, RemoteServer, StdioServer
from runtime.endpoints.endpoint import Endpoint
from runtime.proposals.entry import build_entry, entry_fingerprint, is_loopback
from runtime.proposals.errors import PermanentProposalError

SERVICE = Endpoint(
    name="notes",
    source="kubernetes",
    origin="service tools/mcp-notes",
    url="http://10.43.0.9:3000/mcp",
    namespace="tools",
    service="notes-mcp",
    port=3000,
    path="/mcp",
    capabilities=("tools", "notes"),
)
READ = {"name": "find", "annotations": {"readOnlyHint": True}}
WRITE = {"name": "add", "annotations": {"readOnlyHint": False}}


def test_a_service_with_a_known_image_becomes_an_http_server_the_fleet_can_run() -> None:
    entry = build_entry(replace(SERVICE, image="ghcr.io/x/notes:2"), [READ])
    assert isinstance(entry, HttpServer)
    assert (entry.image, entry.port, entry.path) == ("ghcr.io/x/notes:2", 3000, "/mcp")
    assert entry.tags == ["notes"]


def test_without_an_image_it_is_a_remote_server_at_the_services_dns_name() -> None:
    entry = build_entry(SERVICE, [READ])
    assert isinstance(entry, RemoteServer)
    assert entry.urls == ["http://notes-mcp.tools.svc.cluster.local:3000/mcp"]


def test_read_only_is_claimed_only_when_every_tool_says_so() -> None:
    assert build_entry(SERVICE, [READ]).read_only is True
    mixed = build_entry(SERVICE, [READ, WRITE])
    assert mixed.read_only is False
    assert mixed.read_only_tools == ["find"]
    assert build_entry(SERVICE, []).read_only is False


def test_the_description_comes_from_the_endpoint_then_the_servers_instructions() -> None:
    assert build_entry(SERVICE, [], instructions="Notes.\nMore.").description == "Notes."
    fallback = build_entry(SERVICE, [], server_name="notes-mcp").description
    assert fallback == "notes-mcp, discovered as service tools/mcp-notes"


def test_a_stdio_command_needs_an_image_and_a_package() -> None:
    command = Endpoint(name="tools", source="file", origin="file x", transport="stdio",
                       command=("uvx", "tools-mcp"))
    with pytest.raises(PermanentProposalError, match="add `package:` and `image:`"):
        build_entry(command, [])
    entry = build_entry(replace(command, image="ghcr.io/x/tools:1", package="uvx://tools-mcp"))
    assert isinstance(entry, StdioServer)
    assert entry.local is not None and entry.local.command == "uvx"


def test_the_fingerprint_changes_with_the_entry_and_only_then() -> None:
    assert entry_fingerprint(build_entry(SERVICE, [READ])) == entry_fingerprint(
        build_entry(SERVICE, [READ])
    )
    assert entry_fingerprint(build_entry(SERVICE, [READ])) != entry_fingerprint(
        build_entry(SERVICE, [READ, WRITE])
    )


def test_a_remote_entry_for_a_loopback_url_is_refused_and_says_what_to_do() -> None:
    loopbacks = (
        "http://127.0.0.1:9000/mcp",
        "http://127.1.2.3/mcp",
        "http://[::1]/mcp",
        "http://localhost:9000/mcp",
        "http://api.localhost/mcp",
    )
    for url in loopbacks:
        endpoint = Endpoint(name="looped", source="file", origin="file x", url=url, kind="remote")
        with pytest.raises(PermanentProposalError, match="loopback address") as caught:
            build_entry(endpoint)
        assert "`image:`" in str(caught.value)
    assert not is_loopback("http://10.10.0.40:6443")
    assert not is_loopback("http://grafana.monitoring.svc.cluster.local:3000/mcp")


def test_a_loopback_url_with_an_image_is_an_http_entry_that_keeps_no_url() -> None:
    endpoint = Endpoint(
        name="weather",
        source="file",
        origin="file x",
        url="http://127.0.0.1:9000/mcp",
        image="ghcr.io/x/weather:1",
    )
    entry = build_entry(endpoint)
    assert isinstance(entry, HttpServer)
    assert (entry.port, entry.path, entry.image) == (9000, "/mcp", "ghcr.io/x/weather:1")
