"""Read a Kubernetes Service's discovery annotations into an :class:`Endpoint`.

The keys come from :class:`catalog.naming.AnnotationKeys`, the same place the compiler
writes them from, so the two cannot disagree. Parsing works on the Service as plain JSON
(the API's wire form), which keeps it independent of the client's model classes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Literal

from catalog.model import DNS_LABEL, ServerKind
from catalog.naming import AnnotationKeys, server_name_of, service_host
from runtime.endpoints.endpoint import Endpoint, TransportName
from runtime.endpoints.kinds import SEED_TYPES

__all__ = [
    "ENABLED_VALUES",
    "SEED_TYPES",
    "Addressing",
    "endpoint_from_service",
    "is_annotated",
]

ENABLED_VALUES = frozenset({"true", "yes", "1", "on"})
Addressing = Literal["dns", "cluster-ip"]
_TRANSPORTS: dict[str, TransportName] = {
    "streamable-http": "streamable-http",
    "streamable_http": "streamable-http",
    "http": "streamable-http",
    "sse": "sse",
}
_MCP_CAPABILITIES = frozenset({"tools", "resources", "prompts"})


def is_annotated(service: Mapping[str, Any], keys: AnnotationKeys) -> bool:
    """True when the Service opts in to discovery (``<prefix>/enabled: "true"``)."""
    annotations = (service.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(keys.enabled, "")).strip().lower() in ENABLED_VALUES


def endpoint_from_service(
    service: Mapping[str, Any],
    keys: AnnotationKeys,
    *,
    addressing: Addressing = "dns",
    image: str | None = None,
) -> Endpoint | None:
    """The endpoint an annotated Service advertises, or None if it does not opt in.

    A Service that opts in with unusable annotations still yields an endpoint, with
    ``problem`` saying what to fix, so the mistake is visible in the registry.
    """
    if not is_annotated(service, keys):
        return None
    meta = service.get("metadata") or {}
    spec = service.get("spec") or {}
    annotations: Mapping[str, str] = meta.get("annotations") or {}
    namespace = str(meta.get("namespace") or "default")
    svc_name = str(meta.get("name") or "")
    name = annotations.get(keys.server) or server_name_of(svc_name)
    problems: list[str] = []
    if not re.match(DNS_LABEL, name):
        problems.append(f"server name {name!r} is not a DNS label (set {keys.server})")
    kind, kind_problem = _kind(annotations.get(keys.type), keys)
    if kind_problem:
        problems.append(kind_problem)
    raw_transport = annotations.get(keys.transport, "streamable-http").strip().lower()
    transport = _TRANSPORTS.get(raw_transport)
    if transport is None:
        problems.append(f"{keys.transport}={raw_transport!r}: use streamable-http or sse")
    path = annotations.get(keys.path, "/mcp").strip() or "/"
    if not path.startswith("/"):
        problems.append(f"{keys.path}={path!r} must start with '/'")
    port, port_problem = _port(annotations.get(keys.port), spec.get("ports") or [], keys)
    if port_problem:
        problems.append(port_problem)
    host = _host(svc_name, namespace, spec, addressing)
    url = f"http://{host}:{port}{path}" if port is not None else None
    capabilities = tuple(
        c.strip().lower() for c in annotations.get(keys.capabilities, "").split(",") if c.strip()
    )
    return Endpoint(
        name=name,
        source="kubernetes",
        origin=f"service {namespace}/{svc_name}",
        transport=transport or "streamable-http",
        url=url,
        kind=kind,
        capabilities=capabilities,
        image=image,
        namespace=namespace,
        service=svc_name,
        port=port,
        path=path,
        problem="; ".join(problems) or None,
    )


def _kind(annotated: str | None, keys: AnnotationKeys) -> tuple[str, str | None]:
    """The catalog kind for the type annotation; the seed's default is ``standard``."""
    text = (annotated or "standard").strip().lower()
    if text in SEED_TYPES:
        return SEED_TYPES[text].value, None
    kinds = [k.value for k in ServerKind]
    if text in kinds:
        return text, None
    words = ", ".join([*SEED_TYPES, *kinds])
    return ServerKind.HTTP.value, f"{keys.type}={text!r} is not one of {words}"


def tags_from_capabilities(capabilities: tuple[str, ...]) -> list[str]:
    """Catalog tags from the capabilities annotation, minus MCP's own capability words."""
    return [c for c in capabilities if c not in _MCP_CAPABILITIES and re.match(DNS_LABEL, c)]


def _port(
    annotated: str | None, ports: list[Mapping[str, Any]], keys: AnnotationKeys
) -> tuple[int | None, str | None]:
    numbers = [int(p["port"]) for p in ports if "port" in p]
    if annotated is None:
        if len(numbers) == 1:
            return numbers[0], None
        named = [int(p["port"]) for p in ports if p.get("name") in ("mcp", "http")]
        if named:
            return named[0], None
        return None, f"{keys.port} is missing and the Service has {len(numbers)} ports"
    text = annotated.strip()
    by_name = {p.get("name"): int(p["port"]) for p in ports if p.get("name") and "port" in p}
    if text in by_name:
        return by_name[text], None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        return None, f"{keys.port}={text!r} is not a port number or a port name of the Service"
    if numbers and int(text) not in numbers:
        listed = ", ".join(str(n) for n in numbers)
        return None, f"{keys.port}={text} is not a port of the Service (it has {listed})"
    return int(text), None


def _host(name: str, namespace: str, spec: Mapping[str, Any], addressing: Addressing) -> str:
    cluster_ip = str(spec.get("clusterIP") or "")
    if addressing == "cluster-ip" and cluster_ip not in ("", "None"):
        ip = ipaddress.ip_address(cluster_ip)
        return f"[{ip}]" if ip.version == 6 else str(ip)
    return service_host(name, namespace)
