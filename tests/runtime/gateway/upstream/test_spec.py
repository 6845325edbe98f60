"""From catalog entries to upstream endpoints, in the cluster and on one laptop."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from catalog.model import LocalRun, RemoteServer, SecretRef, StdioServer
from catalog.naming import server_endpoints, server_transport
from runtime.gateway.config import GatewayConfig, in_cluster
from runtime.gateway.upstream.spec import (
    EndpointSpec,
    ServerSpec,
    specs_from_catalog,
    upstream_headers,
)

SHIPPED = Path(__file__).resolve().parents[4] / "catalog"


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


def with_servers(catalog: Catalog, *servers: object) -> Catalog:
    return catalog.model_copy(update={"servers": tuple(servers)})


def test_in_the_cluster_every_server_is_reached_at_its_service_url(shipped: Catalog) -> None:
    specs = specs_from_catalog(shipped, local=False, environ={})
    assert [s.name for s in specs] == [s.name for s in shipped.servers]
    for spec, server in zip(specs, shipped.servers, strict=True):
        assert [e.url for e in spec.endpoints] == server_endpoints(server, shipped.platform)
        assert {e.transport for e in spec.endpoints} == {server_transport(server)}
        assert spec.read_only_tools == frozenset(server.read_only_tools)
        assert spec.kind == server.kind and spec.source == "catalog"


def test_locally_only_servers_with_a_local_command_or_a_url_are_reachable(
    shipped: Catalog,
) -> None:
    assert specs_from_catalog(shipped, local=True, environ={}) == []


def test_a_local_stdio_server_gets_its_env_and_its_secrets_from_the_gateways_env(
    shipped: Catalog,
) -> None:
    server = StdioServer(
        name="homelab", kind="stdio", description="this machine",
        package="uvx://homelab", image="ghcr.io/example/homelab:1",
        env={"LEVEL": "info"},
        secrets=[SecretRef(env="HOMELAB_TOKEN", path="/infrastructure/homelab", key="TOKEN"),
                 SecretRef(env="NOT_SET", path="/infrastructure/homelab", key="OTHER")],
        local=LocalRun(command="python", args=["-m", "runtime.examples.homelab_server"],
                       env={"LEVEL": "debug"}),
    )
    (spec,) = specs_from_catalog(
        with_servers(shipped, server), local=True,
        environ={"HOMELAB_TOKEN": "s3cret", "UNRELATED": "x"},
    )
    (endpoint,) = spec.endpoints
    assert endpoint.transport == "stdio"
    assert endpoint.command == sys.executable  # `python` is mcpfleet's own interpreter
    assert endpoint.args == ("-m", "runtime.examples.homelab_server")
    assert dict(endpoint.env) == {"LEVEL": "debug", "HOMELAB_TOKEN": "s3cret"}
    assert "s3cret" not in repr(endpoint) and "s3cret" not in endpoint.label


def test_a_remote_server_sends_its_token_secret_as_a_bearer_header(shipped: Catalog) -> None:
    remote = RemoteServer(
        name="saas", kind="remote", description="hosted", transport="sse",
        urls=["https://a.example/sse", "https://b.example/sse"],
        secrets=[SecretRef(env="SAAS_TOKEN", path="/infrastructure/saas", key="API_TOKEN")],
    )
    for local in (True, False):
        (spec,) = specs_from_catalog(
            with_servers(shipped, remote), local=local, environ={"SAAS_TOKEN": "t0k"}
        )
        assert [e.url for e in spec.endpoints] == list(remote.urls)
        assert all(e.transport == "sse" for e in spec.endpoints)
        assert all(dict(e.headers) == {"Authorization": "Bearer t0k"} for e in spec.endpoints)


@pytest.mark.parametrize(
    ("key", "header"),
    [("TOKEN", "Bearer v"), ("GITHUB_TOKEN", "Bearer v"), ("AUTHORIZATION", "v"),
     ("PASSWORD", None)],
)
def test_which_secrets_become_an_authorization_header(key: str, header: str | None) -> None:
    refs = [SecretRef(env="E", path="/p", key=key)]
    assert upstream_headers(refs, {"E": "v"}).get("Authorization") == header
    assert upstream_headers(refs, {}) == {}


def test_endpoint_labels_never_show_credentials_in_urls() -> None:
    endpoint = EndpointSpec("sse", url="https://user:pw@h.example:8443/sse?key=abc")
    assert endpoint.label == "sse:https://h.example:8443/sse"


@pytest.mark.parametrize(
    "make",
    [
        lambda: EndpointSpec("stdio"),
        lambda: EndpointSpec("streamable-http"),
        lambda: ServerSpec("a__b", (EndpointSpec("sse", url="http://x/sse"),)),
        lambda: ServerSpec("empty", ()),
    ],
    ids=["stdio-without-command", "http-without-url", "separator-in-name", "no-endpoints"],
)
def test_impossible_specs_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_the_gateway_block_sets_timeouts_limit_and_allowlist(shipped: Catalog) -> None:
    config = GatewayConfig.from_catalog(shipped, local=False, environ={})
    gateway = shipped.platform.gateway
    assert config.pool.call_timeout == 30 and config.pool.health_interval == 15
    assert config.requests_per_minute == gateway.rate_limit.requests_per_minute == 100
    assert config.ip_allowlist == tuple(gateway.ip_allowlist)
    assert len(config.servers) == len(shipped.servers)


def test_a_pod_is_recognised_by_the_kubernetes_service_variable() -> None:
    assert in_cluster({"KUBERNETES_SERVICE_HOST": "10.43.0.1"})
    assert not in_cluster({})
