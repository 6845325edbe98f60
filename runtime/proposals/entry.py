"""Catalog entries for discovered servers, built with the catalog's own models.

A new server becomes the catalog kind that says the least that is untrue: an ``http``
server when discovery knows the image that serves it (the fleet can run it), a ``remote``
server otherwise (the fleet only registers the endpoint). A ``remote`` entry for a
loopback URL is refused: in the cluster it would point every pod at itself. An update for
a drifted server carries only the fields discovery measured (tools, image), so merging it into the
operator's file leaves everything else as written.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from catalog.model import ClusterApiServer, HttpServer, RemoteServer, Server, StdioServer
from catalog.naming import service_host
from runtime.endpoints.endpoint import Endpoint, tags_from_capabilities
from runtime.proposals.errors import PermanentProposalError

__all__ = [
    "AnyServer",
    "build_entry",
    "entry_fingerprint",
    "is_loopback",
    "read_only_tools",
    "updated_entry",
]

AnyServer = ClusterApiServer | StdioServer | HttpServer | RemoteServer
_SERVER: TypeAdapter[AnyServer] = TypeAdapter(Server)
_DESCRIPTION_MAX = 200


def build_entry(
    endpoint: Endpoint,
    tools: Sequence[Mapping[str, Any]] = (),
    *,
    instructions: str | None = None,
    server_name: str | None = None,
) -> AnyServer:
    """The catalog entry for a server the catalog does not have yet.

    Raises:
        PermanentProposalError: the endpoint lacks what its kind needs (e.g. a stdio
            command with no image to run it in the cluster); the message says what.
    """
    names = sorted(str(t["name"]) for t in tools)
    safe = read_only_tools(tools)
    all_read_only = bool(names) and len(safe) == len(names)
    data: dict[str, Any] = {
        "name": endpoint.name,
        "description": _description(endpoint, instructions, server_name),
    }
    tags = tags_from_capabilities(endpoint.capabilities)
    if tags:
        data["tags"] = tags
    if not all_read_only:  # the catalog's default claims read-only; say when it is not
        data["readOnly"] = False
        if safe:
            data["readOnlyTools"] = safe
    if names:
        data["tools"] = names
    if endpoint.transport == "stdio":
        data |= _stdio(endpoint)
    elif endpoint.image and endpoint.kind in ("http", "cluster-api"):
        data |= _in_cluster(endpoint)
    else:
        url = _catalog_url(endpoint)
        _refuse_loopback(endpoint.name, url)
        data |= {"kind": "remote", "urls": [url], "transport": endpoint.transport}
    try:
        return _SERVER.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PermanentProposalError(
            f"cannot build a catalog entry for {endpoint.name}: {problems}"
        ) from exc


def updated_entry(
    existing: AnyServer, *, tools: Iterable[str] | None = None, image: str | None = None
) -> AnyServer:
    """``existing`` with the live tool names and image, marking only those as set.

    Only fields marked set are written by :func:`catalog.write_server`, so the update
    changes exactly the measured lines of the operator's file.
    """
    values = dict(existing)
    changed = {"name", "kind"}
    if tools is not None:
        values["tools"] = sorted(tools)
        changed.add("tools")
    if image is not None and hasattr(existing, "image"):
        values["image"] = image
        changed.add("image")
    return type(existing).model_construct(_fields_set=changed, **values)


def entry_fingerprint(server: AnyServer) -> str:
    """A short hash of the full entry: equal entries mean nothing new to propose."""
    data = _SERVER.dump_python(server, mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_only_tools(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """Tools that declare ``readOnlyHint: true``: safe for the gateway to retry."""
    return sorted(
        str(t["name"]) for t in tools if (t.get("annotations") or {}).get("readOnlyHint") is True
    )


def _description(endpoint: Endpoint, instructions: str | None, server_name: str | None) -> str:
    for text in (endpoint.description, instructions):
        if text and text.strip():
            first = text.strip().splitlines()[0].strip()
            return first[:_DESCRIPTION_MAX]
    who = server_name or endpoint.name
    return f"{who}, discovered as {endpoint.origin}"[:_DESCRIPTION_MAX]


def _stdio(endpoint: Endpoint) -> dict[str, Any]:
    command, *args = endpoint.command
    if not (endpoint.image and endpoint.package):
        raise PermanentProposalError(
            f"cannot build a catalog entry for {endpoint.name}: a stdio server runs in the "
            "cluster from a package and an image; add `package:` and `image:` to its "
            "endpoint file"
        )
    return {
        "kind": "stdio",
        "package": endpoint.package,
        "image": endpoint.image,
        "local": {"command": command, "args": args, "env": dict(endpoint.env)},
    }


def _in_cluster(endpoint: Endpoint) -> dict[str, Any]:
    url = urlsplit(str(endpoint.url))
    data = {
        "kind": endpoint.kind,
        "image": endpoint.image,
        "port": endpoint.port or url.port or 80,
        "path": endpoint.path or url.path or "/mcp",
        "transport": endpoint.transport,
    }
    if endpoint.kind == "cluster-api":
        data["api"] = "kubernetes"
    return data


def is_loopback(url: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``), 127.0.0.0/8 and ``::1``."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_loopback(name: str, url: str) -> None:
    if is_loopback(url):
        raise PermanentProposalError(
            f"cannot propose {name} as a remote server at {url}: a loopback address means "
            "each pod itself in the cluster, so the gateway could never reach it there. Give "
            "the URL the cluster reaches it at, or an `image:` so the fleet runs it (kind http)"
        )


def _catalog_url(endpoint: Endpoint) -> str:
    """The URL the catalog should keep: the Service's DNS name, never a cluster IP."""
    if endpoint.service and endpoint.namespace and endpoint.port:
        host = service_host(endpoint.service, endpoint.namespace)
        return f"http://{host}:{endpoint.port}{endpoint.path or '/mcp'}"
    return str(endpoint.url)
