"""How big a catalog may be: the bounds the loader and the schemas enforce, in one place.

A catalog file is read before anything is deployed, by CI and by ``mcpfleet up``; a
hostile or careless file must fail there with one clear problem, not exhaust memory or
fail later in the cluster. The Kubernetes figures are the API server's own limits (the
catalog is shipped as one ConfigMap; server names become Service names and label
values); the rest are generous bounds no real fleet comes near (see docs/catalog.md).
"""

from __future__ import annotations

__all__ = [
    "CONFIGMAP_BYTES",
    "DNS_LABEL_CHARS",
    "DNS_NAME_CHARS",
    "MAX_CATALOG_BYTES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS_PER_FILE",
    "MAX_VALUES",
    "SERVER_NAME_CHARS",
    "SERVER_SUFFIX",
]

CONFIGMAP_BYTES = 1024 * 1024
"""Kubernetes refuses a ConfigMap (or Secret) whose data exceeds 1 MiB."""

MAX_CATALOG_BYTES = CONFIGMAP_BYTES
"""The deployed catalog (platform, models, servers/) is one ConfigMap."""

MAX_FILE_BYTES = 256 * 1024
"""One catalog file; the largest real server file is a few KiB."""

MAX_DEPTH = 32
"""Nesting of maps and lists; the schemas need 6."""

MAX_VALUES = 10_000
"""Values in one file once anchors and aliases are expanded (a YAML bomb stops here)."""

MAX_PROBLEMS_PER_FILE = 50
"""Problems listed per file; the rest are counted in one line."""

DNS_LABEL_CHARS = 63
"""RFC 1123 label: a Kubernetes Service name, a label value, a namespace."""

DNS_NAME_CHARS = 253
"""RFC 1123 subdomain: most Kubernetes object names, and any host name."""

SERVER_SUFFIX = "-mcp"
"""Every Kubernetes object made for a server is ``<name>-mcp`` (see :mod:`catalog.naming`)."""

SERVER_NAME_CHARS = DNS_LABEL_CHARS - len(SERVER_SUFFIX)
"""So ``<name>-mcp`` still fits a Service name and a label value."""
