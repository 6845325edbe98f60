"""A real authorization server for the tests: ``oidc-provider`` (npm) in a node process.

``oidc/provider.mjs`` is its configuration (read it for what it serves); this module
starts it on a free loopback port with the clients and resources a test asks for, gets
real access tokens from its token endpoint (client credentials + RFC 8707 resource
indicator), rotates its signing keys and reads how often its JWKS was fetched.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.ports import unused_port
from tests.runtime.gateway.peers import REPO, Peer

__all__ = ["AuthorizationServer", "OAuthClient"]

PROVIDER = Path(__file__).resolve().parent / "oidc" / "provider.mjs"
NPM = REPO / ".ci" / "npm"


@dataclass(frozen=True)
class OAuthClient:
    """A client-credentials client: what it may ask for, how its tokens are signed."""

    client_id: str
    scope: str = ""
    alg: str = "ES256"
    ttl: int = 300
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def client_secret(self) -> str:
        return f"secret-of-{self.client_id}"


class AuthorizationServer:
    """oidc-provider on ``127.0.0.1``; ``issuer`` has a path, as Keycloak's realms do."""

    def __init__(
        self,
        workdir: Path,
        *,
        resources: dict[str, str],
        clients: list[OAuthClient],
        path: str = "/realms/homelab",
        oauth_metadata: bool = True,
    ) -> None:
        self.port = unused_port()
        self.issuer = f"http://127.0.0.1:{self.port}{path}"
        self.clients = {c.client_id: c for c in clients}
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "oauthMetadata": oauth_metadata,
            "resources": {uri: {"scope": scope} for uri, scope in resources.items()},
            "clients": [{**asdict(c), "client_secret": c.client_secret} for c in clients],
        }
        workdir.mkdir(parents=True, exist_ok=True)
        config_file = workdir / f"oidc-{self.port}.json"
        config_file.write_text(json.dumps(config))
        if not (NPM / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("oidc-provider is missing: run `make setup` (npm ci in .ci/npm)")
        argv = ["node", str(PROVIDER), str(config_file), str(NPM)]
        # The issuer names its port, so the port is chosen first and every (re)start uses it.
        self.peer = Peer(
            lambda _port: (argv, {}),
            path=path,
            log=workdir / f"oidc-{self.port}.log",
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AuthorizationServer:
        self.peer.start()
        return self

    def stop(self) -> None:
        self.peer.stop()

    def kill(self) -> None:
        """Gone at once, as an identity provider whose host went down."""
        self.peer.kill()

    async def token(self, client_id: str, resource: str, scope: str | None = None) -> str:
        """A fresh access token for ``resource``, as the client's own OAuth library gets it."""
        client = self.clients[client_id]
        form = {"grant_type": "client_credentials", "resource": resource}
        wanted = client.scope if scope is None else scope
        if wanted:
            form["scope"] = wanted
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{self.issuer}/token", data=form, auth=(client.client_id, client.client_secret)
            )
        response.raise_for_status()
        return str(response.json()["access_token"])

    async def rotate(self, *, retire: bool = False) -> list[str]:
        """New signing keys (new key ids) now; the old ones stay published unless retired."""
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(f"{self.origin}/_admin/rotate", json={"retire": retire})
        response.raise_for_status()
        return list(response.json()["kids"])

    async def stats(self) -> dict[str, Any]:
        """How many times its JWKS and metadata documents were fetched."""
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"{self.origin}/_admin/stats")
        response.raise_for_status()
        return dict(response.json())
