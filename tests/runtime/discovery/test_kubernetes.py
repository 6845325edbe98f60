"""The Kubernetes source against a small API server speaking the real list/watch format.

``fake_kubernetes`` stands in for a cluster's API server; the official ``kubernetes``
client does the talking, so list, watch, resume, 410 and relist are the real client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from kubernetes import client

from catalog.naming import AnnotationKeys
from runtime.discovery.kubernetes import KubernetesSource
from runtime.endpoints.endpoint import Event, Gone, Seen, Snapshot
from tests.runtime.discovery.fake_kubernetes import FakeCluster, serve_cluster, service
from tests.waiting import eventually

PREFIX = "mcp.shreck.io"
KEYS = AnnotationKeys(PREFIX)


def annotated(**extra: str) -> dict[str, str]:
    return {KEYS.enabled: "true", KEYS.path: "/mcp", KEYS.transport: "streamable-http", **extra}


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def api(cluster: FakeCluster) -> Iterator[client.ApiClient]:
    with serve_cluster(cluster) as url:
        configuration = client.Configuration(host=url)
        with client.ApiClient(configuration) as api_client:
            yield api_client


class Events:
    def __init__(self) -> None:
        self.items: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.items.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.items if isinstance(e, kind)]


@contextlib.asynccontextmanager
async def running(source: KubernetesSource) -> AsyncIterator[Events]:
    events = Events()
    task = asyncio.create_task(source.run(events))
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def source_for(api: client.ApiClient, relist_every: float = 3600) -> KubernetesSource:
    return KubernetesSource(api, KEYS, relist_every=relist_every, addressing="cluster-ip")


async def test_initial_list_reports_only_annotated_services_with_their_endpoints(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    cluster.apply(service("weather-mcp", annotations=annotated(**{KEYS.port: "8080"})))
    cluster.apply(service("plain-web", annotations={"team": "web"}))
    sidecar = {"name": "proxy", "image": "envoy:1", "ports": [{"containerPort": 9901}]}
    server = {"name": "mcp", "image": "ghcr.io/x/weather:1.2", "ports": [{"containerPort": 8080}]}
    labels = {"app": "weather-mcp"}
    cluster.pods.append(
        {
            "metadata": {"name": "w-1", "namespace": "mcp-system", "labels": labels},
            "spec": {"containers": [sidecar, server]},
        }
    )
    async with running(source_for(api)) as events:
        snapshot = (await eventually(lambda: events.of(Snapshot), what="a snapshot"))[0]
    (endpoint,) = snapshot.endpoints
    assert endpoint.name == "weather"
    assert endpoint.url == "http://127.0.0.1:8080/mcp"
    assert endpoint.image == "ghcr.io/x/weather:1.2"
    assert endpoint.origin == "service mcp-system/weather-mcp"
    assert endpoint.problem is None


async def test_added_modified_and_deleted_services_become_seen_and_gone_events(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    async with running(source_for(api)) as events:
        await eventually(lambda: cluster.watches(), what="the watch to start")
        cluster.apply(service("a-mcp", annotations=annotated()))
        await eventually(lambda: events.of(Seen), what="ADDED")
        cluster.apply(service("a-mcp", annotations=annotated(**{KEYS.path: "/v2/mcp"})))
        await eventually(lambda: len(events.of(Seen)) == 2, what="MODIFIED")
        cluster.delete("mcp-system", "a-mcp")
        gone = await eventually(lambda: events.of(Gone), what="DELETED")
    assert [e.endpoint.path for e in events.of(Seen)] == ["/mcp", "/v2/mcp"]
    assert gone == [Gone("kubernetes", "a")]


async def test_removing_the_enabled_annotation_reports_the_endpoint_gone(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    cluster.apply(service("a-mcp", annotations=annotated()))
    async with running(source_for(api)) as events:
        await eventually(lambda: cluster.watches(), what="the watch to start")
        cluster.apply(service("a-mcp", annotations={KEYS.enabled: "false"}))
        gone = await eventually(lambda: events.of(Gone), what="Gone")
    assert gone == [Gone("kubernetes", "a")]


async def test_a_dropped_watch_resumes_from_the_last_resource_version_without_relisting(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    async with running(source_for(api)) as events:
        await eventually(lambda: cluster.watches(), what="the watch to start")
        cluster.apply(service("a-mcp", annotations=annotated()))
        await eventually(lambda: events.of(Seen), what="ADDED")
        last_version = cluster.resource_version
        cluster.drop_watches()
        await eventually(lambda: len(cluster.watches()) >= 2, what="a second watch")
        cluster.apply(service("b-mcp", annotations=annotated()))
        await eventually(lambda: len(events.of(Seen)) == 2, what="the event after the drop")
    resumed = cluster.watches()[1]
    assert resumed.query["resourceVersion"] == str(last_version)
    assert len(cluster.lists()) == 1


async def test_410_gone_on_resume_forces_a_full_relist(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    cluster.apply(service("a-mcp", annotations=annotated()))
    async with running(source_for(api)) as events:
        await eventually(lambda: cluster.watches(), what="the watch to start")
        cluster.compact()
        cluster.services.clear()  # changed while nobody watched: only a relist can tell
        cluster.apply(service("b-mcp", annotations=annotated()))
        cluster.compact()
        cluster.drop_watches()
        snapshots = await eventually(lambda: events.of(Snapshot)[1:], what="a relist")
    assert len(cluster.lists()) == 2
    assert [e.name for e in snapshots[0].endpoints] == ["b"]


async def test_the_source_relists_periodically_even_when_the_watch_is_healthy(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    async with running(source_for(api, relist_every=1)) as events:
        await eventually(lambda: len(events.of(Snapshot)) >= 2, what="a periodic relist")
    assert len(cluster.lists()) >= 2


async def test_stopping_the_source_ends_its_watch_thread(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    async with running(source_for(api)):
        await eventually(lambda: cluster.watches(), what="the watch to start")
    assert not [t for t in threading.enumerate() if t.name == "discovery-kubernetes"]


async def test_a_service_with_a_bad_port_annotation_is_reported_with_its_problem(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    cluster.apply(service("a-mcp", annotations=annotated(**{KEYS.port: "9999"})))
    async with running(source_for(api)) as events:
        snapshot = (await eventually(lambda: events.of(Snapshot)))[0]
    (endpoint,) = snapshot.endpoints
    assert endpoint.problem == f"{KEYS.port}=9999 is not a port of the Service (it has 8080)"
    assert endpoint.url is None


async def test_an_answer_that_is_not_the_apis_is_retried_until_a_real_list_comes(
    cluster: FakeCluster, api: client.ApiClient
) -> None:
    cluster.garbage_lists = 2
    cluster.apply(service("a-mcp", annotations=annotated()))
    async with running(source_for(api)) as events:
        snapshot = (await eventually(lambda: events.of(Snapshot), what="a good list"))[0]
    assert [e.name for e in snapshot.endpoints] == ["a"]
    assert len(cluster.lists()) == 3
