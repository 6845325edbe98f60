"""What one gateway runs with, resolved once from the catalog and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog import Catalog
from catalog.model import parse_duration, parse_size
from runtime.gateway.body_limit import DEFAULT_MAX_REQUEST_BODY
from runtime.gateway.oauth import ResourceServer
from runtime.gateway.upstream.pool import PoolSettings
from runtime.gateway.upstream.spec import ServerSpec, specs_from_catalog

__all__ = ["GatewayConfig", "in_cluster"]


@dataclass(frozen=True)
class GatewayConfig:
    """Upstreams, timeouts and the security settings of the catalog's ``gateway`` block."""

    servers: tuple[ServerSpec, ...]
    pool: PoolSettings = field(default_factory=PoolSettings)
    requests_per_minute: int | None = 100
    """Per-client limit shared through PostgreSQL; ``None`` turns rate limiting off."""
    ip_allowlist: tuple[str, ...] = ()
    public_url: str | None = None
    auth: bool = True
    oauth: ResourceServer | None = None
    """Access tokens from the catalog's issuers (``gateway.auth``), beside mcpfleet tokens."""
    max_request_body: int = DEFAULT_MAX_REQUEST_BODY
    """Bytes; a larger request body gets 413 on every route."""
    tool_aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Server → {other name → tool}: the catalog's ``toolAliases`` (REST calls use them)."""

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        *,
        local: bool,
        environ: Mapping[str, str] | None = None,
        public_url: str | None = None,
        auth: bool = True,
    ) -> GatewayConfig:
        """``local``: launch ``local`` commands over stdio instead of in-cluster Services.

        Raises:
            ValueError: issuers are configured but no resource URI can be known (neither
                ``gateway.auth.resource`` nor ``public_url``).
        """
        gateway = catalog.platform.gateway
        env = os.environ if environ is None else environ
        return cls(
            servers=tuple(specs_from_catalog(catalog, local=local, environ=env)),
            pool=PoolSettings(
                call_timeout=parse_duration(gateway.call_timeout).total_seconds(),
                health_interval=parse_duration(gateway.health_interval).total_seconds(),
            ),
            requests_per_minute=gateway.rate_limit.requests_per_minute,
            ip_allowlist=tuple(gateway.ip_allowlist),
            max_request_body=parse_size(gateway.max_request_body),
            public_url=public_url,
            auth=auth,
            oauth=ResourceServer.from_catalog(gateway.auth, public_url) if auth else None,
            tool_aliases={s.name: dict(s.tool_aliases) for s in catalog.servers if s.tool_aliases},
        )


def in_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """Kubernetes sets ``KUBERNETES_SERVICE_HOST`` in every pod; elsewhere we run locally."""
    env = os.environ if environ is None else environ
    return "KUBERNETES_SERVICE_HOST" in env
