"""The Kubernetes source: annotated Services in every namespace, by list + watch.

The official client is synchronous, so the list/watch loop runs in one thread and hands
events to asyncio through ``call_soon_threadsafe``. The loop follows the API's contract:
list to get a resourceVersion, watch from it, resume from the last version seen when a
watch ends or drops, relist from scratch on ``410 Gone``, and relist every ``relist_every``
seconds anyway so a missed event cannot live longer than one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from catalog.naming import AnnotationKeys
from runtime.discovery.annotations import Addressing, endpoint_from_service
from runtime.endpoints.endpoint import Endpoint, Event, Gone, Seen, Snapshot

__all__ = ["KubernetesSource", "api_client_from_environment"]

log = logging.getLogger(__name__)
Emit = Callable[[Event], Awaitable[None]]
_GONE = 410


def api_client_from_environment(kubeconfig: Path | None = None) -> client.ApiClient:
    """An API client for the cluster we run in, else for ``kubeconfig`` (or ~/.kube/config).

    Raises:
        kubernetes.config.ConfigException: neither in a cluster nor a usable kubeconfig.
    """
    configuration = client.Configuration()
    if kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        except config.ConfigException:
            pass
    config.load_kube_config(
        config_file=str(kubeconfig) if kubeconfig else None, client_configuration=configuration
    )
    return client.ApiClient(configuration)


class KubernetesSource:
    """Reports annotated Services as endpoints; see the module docstring for the protocol."""

    name = "kubernetes"

    def __init__(
        self,
        api: client.ApiClient,
        keys: AnnotationKeys,
        *,
        relist_every: float,
        addressing: Addressing = "dns",
        read_images: bool = True,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
        request_timeout: float = 30.0,
    ) -> None:
        self._core = client.CoreV1Api(api)
        self._keys = keys
        self._relist_every = relist_every
        self._addressing: Addressing = addressing
        self._read_images = read_images
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._request_timeout = request_timeout
        self._stop = threading.Event()
        self._watch: watch.Watch | None = None
        self._known: dict[str, str] = {}  # "namespace/service" -> endpoint name
        self._resource_version: str | None = None

    async def run(self, emit: Emit) -> None:
        """Run list/watch until cancelled; every change reaches ``emit`` in order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue()

        def publish(event: Event) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us: stopping
                loop.call_soon_threadsafe(queue.put_nowait, event)

        self._stop.clear()
        thread = threading.Thread(
            target=self._loop, args=(publish,), name="discovery-kubernetes", daemon=True
        )
        thread.start()
        try:
            while True:
                await emit(await queue.get())
        finally:
            self._stop.set()
            await asyncio.to_thread(self._join, thread)

    def _join(self, thread: threading.Thread) -> None:
        """Wait for the thread, cutting its watch socket until it notices the stop flag.

        ``Watch.stop`` only shuts a connection that exists; a watch whose response has not
        arrived yet would block until its timeout, so the cut is repeated until the end.
        """
        deadline = time.monotonic() + self._request_timeout
        while thread.is_alive() and time.monotonic() < deadline:
            current = self._watch
            if current is not None:
                current.stop()
            thread.join(0.05)

    # ------------------------------------------------------------------ the thread

    def _loop(self, publish: Callable[[Event], None]) -> None:
        listed_at = 0.0
        failures = 0
        self._resource_version = None
        while not self._stop.is_set():
            try:
                if self._resource_version is None:
                    self._resource_version = self._relist(publish)
                    listed_at = time.monotonic()
                remaining = self._relist_every - (time.monotonic() - listed_at)
                if remaining <= 0:
                    self._resource_version = None
                    continue
                self._watch_from(self._resource_version, remaining, publish)
                failures = 0
            except ApiException as exc:
                if exc.status == _GONE:
                    log.info("watch resourceVersion expired (410 Gone); relisting")
                    self._resource_version = None
                    continue
                failures += 1
                log.warning("Kubernetes API error %s %s; retrying", exc.status, exc.reason)
                self._stop.wait(self._backoff(failures))
            except (urllib3.exceptions.HTTPError, OSError, ValueError, KeyError, TypeError) as exc:
                # a dropped connection, or an answer that is not the API's (a proxy's page)
                if self._stop.is_set():
                    break
                failures += 1
                log.warning("watch dropped (%s); resuming from %s", exc, self._resource_version)
                self._stop.wait(self._backoff(failures))

    def _backoff(self, failures: int) -> float:
        """No wait after one drop (a watch ending is routine), then doubling up to the cap."""
        if failures <= 1:
            return 0.0
        return float(min(self._max_retry_delay, self._retry_delay * 2 ** (failures - 2)))

    def _relist(self, publish: Callable[[Event], None]) -> str:
        # _preload_content=False: the raw urllib3 response (its stubs say the model)
        response: Any = self._core.list_service_for_all_namespaces(
            _preload_content=False, _request_timeout=self._request_timeout
        )
        try:
            body = json.loads(response.data)
        finally:
            response.release_conn()
        # Check the answer is a list before acting on it: an empty snapshot made from a
        # proxy's error page would report every server gone.
        version = str(body["metadata"]["resourceVersion"])
        items = body["items"] if body.get("kind") == "ServiceList" else None
        if not isinstance(items, list):
            raise ValueError(f"not a ServiceList: kind={body.get('kind')!r}")
        endpoints: list[Endpoint] = []
        known: dict[str, str] = {}
        for item in items:
            endpoint = self._endpoint(item)
            if endpoint is not None:
                known[_key(item)] = endpoint.name
                endpoints.append(endpoint)
        self._known = known
        publish(Snapshot(self.name, tuple(endpoints)))
        return version

    def _watch_from(
        self, resource_version: str, seconds: float, publish: Callable[[Event], None]
    ) -> None:
        """Watch until the stream ends (at most ``seconds``), tracking the last version seen.

        The version is kept after every event, so a watch that drops mid-stream resumes
        exactly where it stopped.
        """
        current = watch.Watch()
        self._watch = current
        try:
            stream = current.stream(
                self._core.list_service_for_all_namespaces,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=max(1, math.ceil(seconds)),
                _request_timeout=(self._request_timeout, seconds + self._request_timeout),
            )
            for event in stream:
                if self._stop.is_set():
                    current.stop()
                    break
                self._handle(event["type"], event["raw_object"], publish)
                self._resource_version = current.resource_version or self._resource_version
        finally:
            self._watch = None

    def _handle(
        self, kind: str, service: Mapping[str, Any], publish: Callable[[Event], None]
    ) -> None:
        if kind == "BOOKMARK":
            return
        key = _key(service)
        previous = self._known.get(key)
        endpoint = None if kind == "DELETED" else self._endpoint(service)
        if endpoint is None:
            if previous is not None:
                del self._known[key]
                publish(Gone(self.name, previous))
            return
        if previous is not None and previous != endpoint.name:
            publish(Gone(self.name, previous))
        self._known[key] = endpoint.name
        publish(Seen(endpoint))

    def _endpoint(self, service: Mapping[str, Any]) -> Endpoint | None:
        endpoint = endpoint_from_service(service, self._keys, addressing=self._addressing)
        if endpoint is None or not self._read_images:
            return endpoint
        return replace(endpoint, image=self._image(service))

    def _image(self, service: Mapping[str, Any]) -> str | None:
        """The image of the container behind the Service, read from its pods' specs."""
        spec = service.get("spec") or {}
        selector: Mapping[str, str] = spec.get("selector") or {}
        if not selector:
            return None
        namespace = (service.get("metadata") or {}).get("namespace") or "default"
        try:
            response: Any = self._core.list_namespaced_pod(
                namespace,
                label_selector=",".join(f"{k}={v}" for k, v in sorted(selector.items())),
                _preload_content=False,
                _request_timeout=self._request_timeout,
            )
            try:
                pods = json.loads(response.data).get("items") or []
            finally:
                response.release_conn()
        except ApiException as exc:
            log.info("cannot read pods in %s (%s); image unknown", namespace, exc.status)
            return None
        target_ports = {p.get("targetPort", p.get("port")) for p in spec.get("ports") or []}
        for pod in pods:
            containers = (pod.get("spec") or {}).get("containers") or []
            for container in containers:
                ports = {p.get("containerPort") for p in container.get("ports") or []}
                names = {p.get("name") for p in container.get("ports") or []}
                if ports & target_ports or names & target_ports:
                    return str(container.get("image"))
            if containers:
                return str(containers[0].get("image"))
        return None


def _key(service: Mapping[str, Any]) -> str:
    meta = service.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"
