"""Which secrets-backend keys the fleet reads, and the Kubernetes Secret each one lands in.

The catalog holds only references (``path`` + ``key``); each path of ``secrets.paths``
becomes one Kubernetes Secret, filled by the Infisical operator or from Pulumi config
secrets. Workloads read keys from those Secrets by reference, so no value is ever part
of a pod spec, a custom resource or the catalog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from catalog.model import Catalog, Platform, SecretRef
from catalog.naming import runtime_url, secret_resource_name

__all__ = [
    "DATABASE_PASSWORD_KEY",
    "GITHUB_TOKEN_KEY",
    "DerivedKey",
    "SecretIndex",
    "database_derived_keys",
    "provider_key_envs",
    "required_keys",
    "secret_types",
]

DATABASE_PASSWORD_KEY = "POSTGRES_PASSWORD"
GITHUB_TOKEN_KEY = "GITHUB_TOKEN"
BASIC_AUTH = "kubernetes.io/basic-auth"


@dataclass(frozen=True)
class DerivedKey:
    """A key written next to the stored ones, computed from them when the Secret is synced.

    ``template`` names stored keys as ``{KEY}``; ``url_quoted`` percent-encodes them first
    (for a password inside a connection URL).
    """

    key: str
    template: str
    url_quoted: bool = False


class SecretIndex:
    """Maps secrets-backend paths to the Kubernetes Secrets that hold them."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._by_path: dict[str, str] = {}
        for name, path in sorted(platform.secrets.paths.items()):
            self._by_path.setdefault(path, name)

    def path_name(self, path: str) -> str:
        """The ``secrets.paths`` key declaring ``path``.

        Raises:
            KeyError: ``path`` is not declared in platform.yaml ``secrets.paths``.
        """
        try:
            return self._by_path[path]
        except KeyError:
            declared = ", ".join(sorted(self._by_path)) or "none"
            raise KeyError(
                f"secret path {path!r} is not declared in platform.yaml secrets.paths "
                f"(declared: {declared})"
            ) from None

    def secret_for_path(self, path: str) -> str:
        return secret_resource_name(self.path_name(path))

    def secret_for_name(self, path_name: str) -> str:
        """The Secret of a component's path, e.g. ``router``.

        Raises:
            KeyError: platform.yaml ``secrets.paths`` has no such component.
        """
        if path_name not in self._platform.secrets.paths:
            raise KeyError(
                f"platform.yaml secrets.paths has no `{path_name}` entry, which the fleet needs"
            )
        return secret_resource_name(path_name)

    def ref(self, ref: SecretRef) -> tuple[str, str]:
        """(Secret name, key) for a catalog secret reference."""
        return self.secret_for_path(ref.path), ref.key


def provider_key_envs(catalog: Catalog) -> list[str]:
    """API-key variables of providers some model uses; the router reads them from its Secret."""
    used = {model.provider for model in catalog.models.models}
    return sorted(
        p.api_key_env
        for p in catalog.models.providers
        if p.name in used and p.api_key_env is not None
    )


def database_derived_keys(platform: Platform) -> list[DerivedKey]:
    """``username``/``password`` (basic-auth, for CloudNativePG) and ``DATABASE_URL``."""
    db = platform.database
    base = runtime_url("postgres", platform).removeprefix("postgresql://")
    return [
        DerivedKey("username", db.user),
        DerivedKey("password", f"{{{DATABASE_PASSWORD_KEY}}}"),
        DerivedKey(
            "DATABASE_URL",
            f"postgresql://{db.user}:{{{DATABASE_PASSWORD_KEY}}}@{base}",
            url_quoted=True,
        ),
    ]


def required_keys(catalog: Catalog) -> dict[str, set[str]]:
    """Path name → keys the deployment reads from it; a missing one is a deploy-time error.

    Raises:
        KeyError: a reference names a path or component missing from ``secrets.paths``.
    """
    platform = catalog.platform
    index = SecretIndex(platform)
    keys: dict[str, set[str]] = defaultdict(set)

    def need(ref: SecretRef) -> None:
        keys[index.path_name(ref.path)].add(ref.key)

    for server in catalog.servers:
        for ref in server.secrets:
            need(ref)
        kubeconfig = getattr(server, "kubeconfig", None)
        if kubeconfig is not None:
            need(kubeconfig)
    tunnel = platform.ingress.cloudflare_tunnel
    if tunnel.enabled and tunnel.token is not None:
        need(tunnel.token)
    keys[index.path_name(platform.database.credentials_path)].add(DATABASE_PASSWORD_KEY)
    providers = provider_key_envs(catalog)
    if providers:
        index.secret_for_name("router")
        keys["router"].update(providers)
    if platform.discovery.proposals == "github":
        index.secret_for_name("discovery")
        keys["discovery"].add(GITHUB_TOKEN_KEY)
    return dict(keys)


def secret_types(platform: Platform) -> Mapping[str, str]:
    """The database Secret is ``basic-auth`` so CloudNativePG can bootstrap from it."""
    return {SecretIndex(platform).path_name(platform.database.credentials_path): BASIC_AUTH}
