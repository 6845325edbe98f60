"""A small Kubernetes API server for Services and Pods, speaking the real wire format.

Stands in for a cluster's API server (none can run here) so the official ``kubernetes``
client is exercised for real: ``GET /api/v1/services`` lists with a resourceVersion,
``?watch=true`` streams newline-delimited JSON events over chunked HTTP/1.1 from a given
resourceVersion, honours ``timeoutSeconds``, answers a too-old version with an ``ERROR``
event carrying a 410 ``Status`` (as the real server does), and can drop every open watch
mid-stream. Pods are listed by label selector so discovery can read container images.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeCluster", "Request", "serve_cluster", "service"]


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]

    @property
    def is_watch(self) -> bool:
        return self.query.get("watch") == "true"


@dataclass
class FakeCluster:
    """The API server's state: Services, Pods, an event history that can be compacted."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    resource_version: int = 100
    history: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    oldest: int = 100
    drops: int = 0
    garbage_lists: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def apply(self, obj: dict[str, Any]) -> None:
        """Create or replace a Service (ADDED or MODIFIED, like ``kubectl apply``)."""
        with self.changed:
            key = _key(obj)
            kind = "MODIFIED" if key in self.services else "ADDED"
            self._record(kind, obj)
            self.services[key] = obj

    def delete(self, namespace: str, name: str) -> None:
        with self.changed:
            obj = self.services.pop(f"{namespace}/{name}")
            self._record("DELETED", obj)

    def compact(self) -> None:
        """Forget the event history, like etcd compaction: old versions now answer 410."""
        with self.changed:
            self.resource_version += 1
            self.oldest = self.resource_version
            self.history.clear()

    def drop_watches(self) -> None:
        """Cut every open watch connection without a clean end of stream."""
        with self.changed:
            self.drops += 1
            self.changed.notify_all()

    def watches(self) -> list[Request]:
        return [r for r in self.requests if r.is_watch and r.path == "/api/v1/services"]

    def lists(self) -> list[Request]:
        return [r for r in self.requests if not r.is_watch and r.path == "/api/v1/services"]

    def _record(self, kind: str, obj: dict[str, Any]) -> None:
        self.resource_version += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)
        self.history.append((self.resource_version, kind, json.loads(json.dumps(obj))))
        self.changed.notify_all()


def service(
    name: str,
    namespace: str = "mcp-system",
    *,
    annotations: dict[str, str] | None = None,
    port: int = 8080,
    cluster_ip: str = "127.0.0.1",
    selector: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Service object as the API returns it."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "annotations": annotations or {},
        },
        "spec": {
            "clusterIP": cluster_ip,
            "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}],
            "selector": selector if selector is not None else {"app": name},
        },
    }


def _key(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', 'default')}/{meta['name']}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    cluster: FakeCluster

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        cluster = self.cluster
        with cluster.changed:
            cluster.requests.append(Request(url.path, query))
        if url.path == "/api/v1/services":
            if query.get("watch") == "true":
                self._watch(query)
            else:
                self._list()
        elif url.path.startswith("/api/v1/namespaces/") and url.path.endswith("/pods"):
            self._pods(url.path.split("/")[4], query.get("labelSelector", ""))
        else:
            self._json(404, _status(404, "NotFound", f"{url.path} not found"))

    def _list(self) -> None:
        with self.cluster.changed:
            if self.cluster.garbage_lists:
                self.cluster.garbage_lists -= 1
                self._json(200, {"html": "<h1>proxy says hello</h1>"})
                return
            body = {
                "apiVersion": "v1",
                "kind": "ServiceList",
                "metadata": {"resourceVersion": str(self.cluster.resource_version)},
                "items": list(self.cluster.services.values()),
            }
        self._json(200, body)

    def _pods(self, namespace: str, selector: str) -> None:
        wanted = dict(p.split("=", 1) for p in selector.split(",") if "=" in p)
        with self.cluster.changed:
            items = [
                pod
                for pod in self.cluster.pods
                if pod["metadata"]["namespace"] == namespace
                and all(pod["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
            ]
        self._json(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items})

    def _watch(self, query: dict[str, str]) -> None:
        cluster = self.cluster
        since = int(query.get("resourceVersion") or cluster.resource_version)
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 3600)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with cluster.changed:
            drops = cluster.drops
            if since < cluster.oldest:
                expired = _status(410, "Expired", "too old resource version")
                self._chunk({"type": "ERROR", "object": expired})
                self._end()
                return
        while True:
            with cluster.changed:
                pending = [(rv, k, o) for rv, k, o in cluster.history if rv > since]
                if not pending and cluster.drops == drops:
                    cluster.changed.wait(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
                    pending = [(rv, k, o) for rv, k, o in cluster.history if rv > since]
                dropped = cluster.drops != drops
            if dropped:
                self.connection.shutdown(2)  # abrupt: no terminating chunk
                self.close_connection = True
                return
            for rv, kind, obj in pending:
                self._chunk({"type": kind, "object": obj})
                since = rv
            if time.monotonic() >= deadline:
                self._end()
                return

    def _chunk(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@contextmanager
def serve_cluster(cluster: FakeCluster) -> Iterator[str]:
    """Serve ``cluster`` on 127.0.0.1 for the block; yields the base URL."""
    handler = type("Handler", (_Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        cluster.drop_watches()
        server.shutdown()
        server.server_close()
        thread.join()
