"""Rules that span files: names, secret paths, model references, IPs and ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from catalog.access import parse_grant
from catalog.model import ModelsFile, Platform, SecretRef
from catalog.problems import Problem

if TYPE_CHECKING:
    from catalog.loader import Loaded

__all__ = ["cross_check"]


def cross_check(
    platform: Loaded | None, models: Loaded | None, servers: Sequence[Loaded]
) -> list[Problem]:
    """Every cross-file problem among the files that loaded, each located where the fix goes.

    A file that failed its own schema is left out, so its siblings are still checked.
    """
    problems = _unique_servers(servers)
    if platform is not None:
        problems += _secret_paths(platform, servers)
        problems += _load_balancer(platform)
        problems += _ports(platform, servers)
        problems += _auth(platform, servers)
        problems += _gitops(platform)
        if models is not None:
            problems += _model_references(platform, models)
    return problems


def _unique_servers(servers: Sequence[Loaded]) -> list[Problem]:
    problems = []
    first: dict[str, Loaded] = {}
    for loaded in servers:
        name = loaded.model.server.name
        if loaded.doc.file.stem != name:
            problems.append(
                loaded.doc.problem(
                    ["server", "name"],
                    "cross.file-name",
                    f"server `{name}` must live in `{name}.yaml`, not `{loaded.doc.file.name}`",
                )
            )
        if name in first:
            problems.append(
                loaded.doc.problem(
                    ["server", "name"],
                    "cross.unique-name",
                    f"server name `{name}` is already used by {first[name].doc.file.name}",
                )
            )
        else:
            first[name] = loaded
    return problems


def _secret_paths(platform: Loaded, servers: Sequence[Loaded]) -> list[Problem]:
    spec: Platform = platform.model
    known = set(spec.secrets.paths.values())
    hint = ", ".join(sorted(known))
    problems = []

    def check(loaded: Loaded, parts: list[Any], path: str) -> None:
        if path not in known:
            problems.append(
                loaded.doc.problem(
                    parts,
                    "cross.secret-path",
                    f"secret path `{path}` is not declared in platform.yaml secrets.paths ({hint})",
                )
            )

    for loaded in servers:
        server = loaded.model.server
        for i, ref in enumerate(server.secrets):
            check(loaded, ["server", "secrets", i, "path"], ref.path)
        kubeconfig: SecretRef | None = getattr(server, "kubeconfig", None)
        if kubeconfig is not None:
            check(loaded, ["server", "kubeconfig", "path"], kubeconfig.path)
    check(platform, ["database", "credentialsPath"], spec.database.credentials_path)
    token = spec.ingress.cloudflare_tunnel.token
    if token is not None:
        check(platform, ["ingress", "cloudflareTunnel", "token", "path"], token.path)
    return problems


def _model_references(platform: Loaded, models: Loaded) -> list[Problem]:
    spec: ModelsFile = models.model
    by_name = {m.name: m for m in spec.models}
    chat = sorted(n for n, m in by_name.items() if m.purpose == "chat")
    providers = {p.name for p in spec.providers}
    doc = models.doc
    problems = []

    def chat_model(parts: list[Any], name: str) -> None:
        if name not in by_name:
            problems.append(
                doc.problem(
                    parts,
                    "cross.model-ref",
                    f"model `{name}` is not defined (chat models: {', '.join(chat)})",
                )
            )
        elif by_name[name].purpose != "chat":
            problems.append(
                doc.problem(
                    parts,
                    "cross.model-purpose",
                    f"model `{name}` is an embedding model, not a chat model",
                )
            )

    seen: set[str] = set()
    for i, model in enumerate(spec.models):
        if model.name in seen:
            problems.append(
                doc.problem(
                    ["models", i, "name"],
                    "cross.unique-model",
                    f"model name `{model.name}` is defined twice",
                )
            )
        seen.add(model.name)
        if model.provider not in providers:
            problems.append(
                doc.problem(
                    ["models", i, "provider"],
                    "cross.provider-ref",
                    f"provider `{model.provider}` is not defined ({', '.join(sorted(providers))})",
                )
            )
    for i, rule in enumerate(spec.rules):
        chat_model(["rules", i, "model"], rule.model)
    chat_model(["defaultModel"], spec.default_model)
    chat_model(["budget", "whenExhausted"], spec.budget.when_exhausted)
    for primary, chain in spec.fallbacks.items():
        chat_model(["fallbacks", primary], primary)
        for j, name in enumerate(chain):
            chat_model(["fallbacks", primary, j], name)
    embedding = platform.model.triage.embedding_model
    if by_name.get(embedding) is None or by_name[embedding].purpose != "embedding":
        problems.append(
            platform.doc.problem(
                ["triage", "embeddingModel"],
                "cross.model-ref",
                f"`{embedding}` is not an embedding model in models.yaml",
            )
        )
    return problems


def _load_balancer(platform: Loaded) -> list[Problem]:
    lb = platform.model.load_balancer
    if lb.start > lb.stop:
        return [
            platform.doc.problem(
                ["loadBalancer", "stop"],
                "cross.pool-range",
                f"pool ends ({lb.stop}) before it starts ({lb.start})",
            )
        ]
    if not lb.start <= lb.gateway_ip <= lb.stop:
        return [
            platform.doc.problem(
                ["loadBalancer", "gatewayIp"],
                "cross.gateway-ip",
                f"gateway IP {lb.gateway_ip} is outside the pool {lb.start}-{lb.stop}",
            )
        ]
    return []


def _gitops(platform: Loaded) -> list[Problem]:
    """Argo CD syncs manifests committed to git: no secret value may be in them."""
    spec: Platform = platform.model
    if spec.gitops.reconciler == "argocd" and spec.secrets.backend != "infisical":
        return [
            platform.doc.problem(
                ["gitops", "reconciler"],
                "cross.argocd-secrets",
                "reconciler `argocd` commits the rendered manifests to git, so secrets must "
                "come from the cluster: use secrets.backend `infisical`",
            )
        ]
    return []


def _ports(platform: Loaded, servers: Sequence[Loaded]) -> list[Problem]:
    """Runtime services share a host in ``mcpfleet up`` and the gateway pod; ports must differ.

    Servers that run as local HTTP processes share that host too, so their ports count.
    """
    spec: Platform = platform.model
    used: dict[int, str] = {}
    problems = []
    runtime_ports = [
        (["gateway", "port"], spec.gateway.port),
        (["gateway", "metricsPort"], spec.gateway.metrics_port),
        (["triage", "port"], spec.triage.port),
        (["discovery", "port"], spec.discovery.port),
        (["router", "port"], spec.router.port),
    ]
    for parts, port in runtime_ports:
        if port in used:
            problems.append(
                platform.doc.problem(
                    parts, "cross.port-collision", f"port {port} is already used by {used[port]}"
                )
            )
        used[port] = ".".join(parts)
    for loaded in servers:
        server = loaded.model.server
        if server.kind == "http" and server.local is not None:
            owner = f"server {server.name}"
            if server.port in used:
                problems.append(
                    loaded.doc.problem(
                        ["server", "port"],
                        "cross.port-collision",
                        f"port {server.port} is already used by {used[server.port]}",
                    )
                )
            used[server.port] = owner
    return problems


def _auth(platform: Loaded, servers: Sequence[Loaded]) -> list[Problem]:
    """Issuers named once each, a resource URI to bind tokens to, grants naming real servers.

    A grant's server without a wildcard must be a catalog server: a typo would otherwise
    grant nothing, silently (servers discovery adds can be reached with a pattern).
    """
    auth = platform.model.gateway.auth
    doc = platform.doc
    base = ["gateway", "auth", "issuers"]
    problems = []
    known = {loaded.model.server.name for loaded in servers}
    names: dict[str, int] = {}
    urls: dict[str, int] = {}
    for i, issuer in enumerate(auth.issuers):
        for seen, value, key, what in (
            (names, issuer.name, "name", "name"),
            (urls, issuer.issuer, "issuer", "identifier"),
        ):
            if value in seen:
                problems.append(
                    doc.problem(
                        [*base, i, key],
                        "cross.unique-issuer",
                        f"issuer {what} `{value}` is already used by issuer #{seen[value] + 1}",
                    )
                )
            seen.setdefault(value, i)
        for j, rule in enumerate(issuer.access):
            for k, text in enumerate(rule.allow):
                server = parse_grant(text).server
                if "*" not in server and known and server not in known:
                    problems.append(
                        doc.problem(
                            [*base, i, "access", j, "allow", k],
                            "cross.grant-server",
                            f"grant `{text}` names server `{server}`, which is not in the "
                            f"catalog ({', '.join(sorted(known))})",
                        )
                    )
    if auth.issuers and auth.resource is None and not platform.model.ingress.traefik.enabled:
        problems.append(
            doc.problem(
                base,
                "cross.auth-resource",
                "issuers need the gateway's resource URI to check token audiences: set "
                "`gateway.auth.resource` (or enable the Traefik ingress, whose host gives it)",
            )
        )
    return problems
