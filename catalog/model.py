"""Typed model of the catalog: the single description of the fleet that every part reads.

The pydantic models here are the source of truth; the JSON Schemas under
``catalog/schemas/`` are generated from them (``mcpfleet catalog schema --write``) so
editors and CI can validate YAML without importing Python, and a test keeps both in step.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from catalog.auth import GatewayAuth
from catalog.limits import DNS_NAME_CHARS, SERVER_NAME_CHARS
from catalog.spec import DNS_LABEL, ByteSize, Duration, Name, Spec, parse_duration, parse_size

__all__ = [
    "DNS_LABEL",
    "ArgoCd",
    "Backup",
    "Catalog",
    "ClusterApiServer",
    "Database",
    "Discovery",
    "Egress",
    "Gateway",
    "HttpServer",
    "Model",
    "ModelsFile",
    "Platform",
    "RemoteServer",
    "Resources",
    "Rule",
    "SecretRef",
    "Server",
    "ServerKind",
    "StdioServer",
    "Transport",
    "parse_duration",
    "parse_size",
]

QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SECRET_PATH = r"^/[A-Za-z0-9_./-]*$"

# Every string and every list has a bound (catalog/limits.py explains them): Kubernetes'
# own where a value becomes part of an object name, label or annotation, generous ones
# elsewhere, so a catalog that validates also fits the cluster.
ServerName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=SERVER_NAME_CHARS)]
Quantity = Annotated[str, StringConstraints(pattern=QUANTITY, max_length=32)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_NAME, max_length=256)]
PgIdentifier = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Cidr = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F:.]+(/[0-9]{1,3})?$", max_length=64)]
Fqdn = Annotated[
    str,
    StringConstraints(pattern=r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$", max_length=DNS_NAME_CHARS),
]
Host = Annotated[str, StringConstraints(max_length=DNS_NAME_CHARS)]
"""An IP address or DNS name."""
ObjectName = Annotated[str, StringConstraints(min_length=1, max_length=DNS_NAME_CHARS)]
"""The name of a Kubernetes object the fleet refers to (an RFC 1123 subdomain)."""
Line = Annotated[str, StringConstraints(max_length=1024)]
"""A one-line setting: an image reference, a command, a path, a model id."""
Url = Annotated[str, StringConstraints(max_length=2048)]
Argument = Annotated[str, StringConstraints(max_length=4096)]
EnvValue = Annotated[str, StringConstraints(max_length=32 * 1024)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
ToolName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""MCP limits tool names to 128 characters."""
SecretPath = Annotated[str, StringConstraints(pattern=SECRET_PATH, max_length=1024)]


# --------------------------------------------------------------------------- servers


class ServerKind(StrEnum):
    CLUSTER_API = "cluster-api"
    STDIO = "stdio"
    HTTP = "http"
    REMOTE = "remote"


class Transport(StrEnum):
    STDIO = "stdio"
    STREAMABLE_HTTP = "streamable-http"
    SSE = "sse"


class SecretRef(Spec):
    """A secret the server needs, by reference: the value lives in the secrets backend."""

    env: EnvName = Field(description="Environment variable the value is exposed as.")
    path: SecretPath = Field(
        description="Secrets-backend path; must be one of platform.secrets.paths."
    )
    key: EnvName = Field(description="Key of the secret at that path.")


class Target(Spec):
    """A host the server manages (a Proxmox node, the firewall, ...)."""

    host: Host = Field(description="IP address or DNS name.")
    port: Port | None = None
    scheme: Literal["http", "https", "tcp"] = "https"


class Egress(Spec):
    """What the server's pods may reach; everything else is denied."""

    cidrs: list[Cidr] = Field(default_factory=list, max_length=256)
    fqdns: list[Fqdn] = Field(default_factory=list, max_length=256)
    ports: list[Port] = Field(default_factory=list, max_length=256)
    kube_api_server: bool = Field(
        default=False, description="Allow the cluster's API server (cluster-api servers)."
    )


class ResourceAmounts(Spec):
    cpu: Quantity
    memory: Quantity


class Resources(Spec):
    """Defaults are the seed's per-server figures (kmcp and ToolHive MCP servers, each)."""

    requests: ResourceAmounts = ResourceAmounts(cpu="100m", memory="128Mi")
    limits: ResourceAmounts = ResourceAmounts(cpu="500m", memory="256Mi")


class LocalRun(Spec):
    """How to start the server as a local process (``mcpfleet up`` and the gateway's stdio)."""

    command: Line
    args: list[Argument] = Field(default_factory=list, max_length=256)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, max_length=256)


class ServerBase(Spec):
    name: ServerName = Field(description="Becomes `mcp-<name>`: a Service name (63 at most).")
    description: Description
    tags: list[Name] = Field(default_factory=list, max_length=64)
    read_only: bool = Field(
        default=True, description="Server is restricted to read-only tools (e.g. a READ_ONLY env)."
    )
    read_only_tools: list[ToolName] = Field(
        default_factory=list,
        max_length=1024,
        description="Tools safe to retry on another endpoint even if they do not say so.",
    )
    targets: list[Target] = Field(default_factory=list, max_length=64)
    egress: Egress = Egress()
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, max_length=256)
    secrets: list[SecretRef] = Field(default_factory=list, max_length=64)
    resources: Resources = Resources()
    replicas: Annotated[int, Field(ge=0, le=20)] = 1
    tools: list[ToolName] = Field(
        default_factory=list,
        max_length=1024,
        description="Tool names last seen live; discovery reports drift.",
    )
    tool_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Other names for tools → the server's own (e.g. the seed plan's "
        "`list_pods`); the REST API accepts them.",
    )


class ClusterApiServer(ServerBase):
    """An MCP server that talks to a cluster API (Kubernetes or Talos) with read-only RBAC."""

    kind: Literal["cluster-api"]
    api: Literal["kubernetes", "talos"]
    image: Line
    args: list[Argument] = Field(default_factory=list, max_length=256)
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    port: Port = 8080
    path: Line = "/mcp"
    cluster: Literal["in-cluster", "remote"] = "in-cluster"
    kubeconfig: SecretRef | None = Field(
        default=None, description="Kubeconfig or talosconfig for a remote cluster."
    )

    @model_validator(mode="after")
    def _remote_needs_credentials(self) -> ClusterApiServer:
        if (self.cluster == "remote" or self.api == "talos") and self.kubeconfig is None:
            raise ValueError("a remote cluster or a Talos API server needs `kubeconfig`")
        return self


class StdioServer(ServerBase):
    """A stdio server run in-cluster by the ToolHive operator, which proxies it over HTTP."""

    kind: Literal["stdio"]
    package: Line = Field(description="Registry package, e.g. uvx://opnsense-mcp-server.")
    image: Line = Field(description="Container image ToolHive runs (the package's image).")
    args: list[Argument] = Field(default_factory=list, max_length=256)
    transport: Literal["stdio"] = "stdio"
    proxy_port: Port = 8080
    local: LocalRun | None = None


class HttpServer(ServerBase):
    """An MCP server container that serves streamable HTTP or SSE itself."""

    kind: Literal["http"]
    image: Line
    args: list[Argument] = Field(default_factory=list, max_length=256)
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    port: Port
    path: Line = "/mcp"
    local: LocalRun | None = None


class RemoteServer(ServerBase):
    """An endpoint the fleet does not run: only registered with the gateway."""

    kind: Literal["remote"]
    urls: list[Annotated[str, StringConstraints(pattern=r"^https?://", max_length=2048)]] = Field(
        min_length=1, max_length=16
    )
    transport: Literal["streamable-http", "sse"] = "streamable-http"


Server = Annotated[
    ClusterApiServer | StdioServer | HttpServer | RemoteServer, Field(discriminator="kind")
]


class ServerFile(Spec):
    """Root of ``catalog/servers/<name>.yaml``: exactly one server."""

    server: Server


# --------------------------------------------------------------------------- models


class Provider(Spec):
    name: Name
    type: Literal["anthropic", "google", "ollama", "openai-compatible", "local"]
    api_key_env: EnvName | None = None
    base_url: Url | None = None


class Model(Spec):
    name: Name = Field(description="Catalog name used by rules and fallbacks.")
    provider: Name
    model_id: Line = Field(description="The provider's model identifier.")
    purpose: Literal["chat", "embedding"] = "chat"
    context_window: Annotated[int, Field(ge=512)]
    input_usd_per_mtok: Annotated[float, Field(ge=0)]
    output_usd_per_mtok: Annotated[float, Field(ge=0)] = 0.0
    dimension: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _embedding_has_dimension(self) -> Model:
        if self.purpose == "embedding" and self.dimension is None:
            raise ValueError("an embedding model needs `dimension`")
        return self


TaskType = Literal[
    "reasoning", "code", "analysis", "summarization", "classification", "chat", "any"
]


class Rule(Spec):
    """First matching rule wins: any of its task types, or a context above the threshold."""

    name: Name
    task_types: list[TaskType] = Field(default_factory=list, max_length=16)
    min_context_tokens: Annotated[int, Field(ge=0)] | None = None
    model: Name


class Budget(Spec):
    daily_usd: Annotated[float, Field(gt=0)]
    alert_threshold: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.8,
        description="HighAICost fires when the last 24 h spend passes dailyUsd x this.",
    )
    when_exhausted: Name = Field(description="Model used once the day's budget is spent.")


class ModelsFile(Spec):
    """Root of ``catalog/models.yaml``."""

    providers: list[Provider] = Field(min_length=1, max_length=64)
    models: list[Model] = Field(min_length=1, max_length=256)
    rules: list[Rule] = Field(default_factory=list, max_length=256)
    default_model: Name
    fallbacks: dict[Name, Annotated[list[Name], Field(max_length=16)]] = Field(
        default_factory=dict, max_length=256
    )
    budget: Budget


# --------------------------------------------------------------------------- platform


class Cluster(Spec):
    name: Name
    context: Line
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.[0-9]+$")] = "1.33"


class Namespace(Spec):
    name: Name = "mcp-system"
    pod_security: Literal["restricted", "baseline", "privileged"] = "restricted"


class LoadBalancer(Spec):
    pool_name: Name = "mcp-pool"
    start: ipaddress.IPv4Address
    stop: ipaddress.IPv4Address
    gateway_ip: ipaddress.IPv4Address
    interfaces: list[Line] = Field(default_factory=lambda: ["^eth[0-9]+", "^en.*"], max_length=64)


class Traefik(Spec):
    enabled: bool = True
    host: Host
    entry_points: list[Line] = Field(default_factory=lambda: ["websecure"], max_length=16)
    cert_resolver: Line | None = None


class CloudflareTunnel(Spec):
    enabled: bool = False
    token: SecretRef | None = None
    image: Line = "cloudflare/cloudflared:2025.11.1"

    @model_validator(mode="after")
    def _enabled_needs_token(self) -> CloudflareTunnel:
        if self.enabled and self.token is None:
            raise ValueError("an enabled Cloudflare tunnel needs `token`")
        return self


class Ingress(Spec):
    traefik: Traefik
    cloudflare_tunnel: CloudflareTunnel = CloudflareTunnel()


class Infisical(Spec):
    host_api: Url = "https://app.infisical.com/api"
    project_slug: Name
    env_slug: Name
    auth_secret: Name = Field(
        default="universal-auth-credentials",
        description="Kubernetes Secret holding the operator's universal-auth credentials.",
    )
    auth_secret_namespace: Name | None = Field(
        default=None,
        description="Namespace of that Secret (e.g. infisical-operator-system); default: the "
        "fleet's namespace.",
    )


class Secrets(Spec):
    backend: Literal["infisical", "pulumi"]
    infisical: Infisical | None = None
    paths: dict[Name, SecretPath] = Field(
        max_length=256,
        description="One secrets path per component; servers refer to these paths.",
    )

    @model_validator(mode="after")
    def _infisical_settings(self) -> Secrets:
        if self.backend == "infisical" and self.infisical is None:
            raise ValueError("backend `infisical` needs the `infisical` settings")
        return self


class Operators(Spec):
    """Per operator: install it with Helm from this stack, or expect it already present."""

    toolhive: Literal["helm", "prerequisite"] = "helm"
    infisical: Literal["helm", "prerequisite"] = "helm"
    cloudnative_pg: Literal["helm", "prerequisite"] = "prerequisite"
    pulumi_operator: Literal["helm", "prerequisite"] = "prerequisite"


class ArgoCd(Spec):
    """Argo CD mode: an ApplicationSet makes one Application per directory of ``path``."""

    namespace: Name = Field(default="argocd", description="Where Argo CD runs.")
    project: Name = Field(default="platform", description="The AppProject the apps belong to.")
    application_set: Name = Field(default="mcp-servers", description="The ApplicationSet's name.")
    path: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] = (
        Field(
            default="kubernetes/platform/mcp-servers",
            description="Directory in the repository the manifests are rendered to, one "
            "sub-directory per Application.",
        )
    )
    revision: str | None = Field(
        default=None,
        description="Branch the manifests are published to and synced from (default: branch).",
    )
    bootstrap_path: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\.ya?ml$")
    ] = Field(
        default="kubernetes/argocd-apps/platform/mcp-servers-appset.yaml",
        description="File the ApplicationSet is rendered to (applied once by hand).",
    )


class GitOps(Spec):
    repository: Annotated[str, StringConstraints(pattern=r"^(https://|git@)", max_length=2048)]
    branch: Line = "main"
    path: Line = "."
    reconciler: Literal["none", "pulumi-operator", "argocd"] = "none"
    stack: Line = "prod"
    argocd: ArgoCd = ArgoCd()


class Observability(Spec):
    flavour: Literal["prometheus-operator", "victoriametrics"]
    scrape_interval: Duration = "30s"
    dashboards: bool = True
    dashboard_label: Line = "grafana_dashboard"


class Backup(Spec):
    schedule: Line = Field(description="Cron schedule (5 fields).")
    target: Literal["nfs", "pvc"]
    nfs_server: Host | None = None
    nfs_path: Line | None = None
    size: Quantity | None = None
    retention_days: Annotated[int, Field(ge=1)] = 7

    @model_validator(mode="after")
    def _target_fields(self) -> Backup:
        if self.target == "nfs" and not (self.nfs_server and self.nfs_path):
            raise ValueError("an nfs backup target needs `nfsServer` and `nfsPath`")
        if self.target == "pvc" and not self.size:
            raise ValueError("a pvc backup target needs `size`")
        return self


class Database(Spec):
    engine: Literal["statefulset", "cloudnative-pg"] = "statefulset"
    image: Line = "pgvector/pgvector:0.8.1-pg17"
    size: Quantity
    instances: Annotated[int, Field(ge=1, le=5)] = 1
    name: PgIdentifier = Field(default="mcp_context", description="The database's name.")
    user: PgIdentifier = Field(default="mcp_user", description="The role that owns it.")
    credentials_path: SecretPath
    resources: Resources = Resources()
    backup: Backup


class SemanticCache(Spec):
    enabled: bool = True
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.92
    ttl: Duration = "24h"


class Triage(Spec):
    ollama_image: Line = "ollama/ollama:0.12.10"
    ollama_model: Line
    model_storage: Quantity = "20Gi"
    gpu: bool = False
    embedding_model: Name = Field(description="A models.yaml model with purpose: embedding.")
    replicas: Annotated[int, Field(ge=0, le=10)] = 1
    port: Port = 8081
    semantic_cache: SemanticCache = SemanticCache()
    execute_threshold: Annotated[float, Field(ge=0.5, le=1.0)] = Field(
        default=0.7,
        description="Calibrated confidence a decision needs before triage runs a read-only "
        "tool without confirmation (never a tool that is not read-only).",
    )
    ollama_resources: Resources = Resources(
        requests=ResourceAmounts(cpu="1", memory="6Gi"),
        limits=ResourceAmounts(cpu="4", memory="10Gi"),
    )


class RateLimit(Spec):
    requests_per_minute: Annotated[int, Field(ge=1)] = 100


class Gateway(Spec):
    replicas: Annotated[int, Field(ge=1, le=20)] = 2
    port: Port = 8080
    metrics_port: Port = 9090
    rate_limit: RateLimit = RateLimit()
    token_lifetime: Duration = "30d"
    call_timeout: Duration = "30s"
    health_interval: Duration = "15s"
    ip_allowlist: list[Cidr] = Field(default_factory=list, max_length=256)
    max_request_body: ByteSize = Field(
        default="4Mi",
        description="Largest request body any route accepts (413 beyond it); 1Ki to 1Gi.",
    )
    resources: Resources = Resources()
    auth: GatewayAuth = Field(
        default_factory=GatewayAuth,
        description="OAuth 2.1 access tokens from your identity provider, beside mcpfleet's own.",
    )

    @model_validator(mode="after")
    def _body_limit_in_range(self) -> Gateway:
        if not 1024 <= parse_size(self.max_request_body) <= 1024**3:
            raise ValueError("`maxRequestBody` must be between 1Ki and 1Gi")
        return self


class Discovery(Spec):
    annotation_prefix: Annotated[
        str, StringConstraints(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$", max_length=DNS_NAME_CHARS)
    ]
    interval: Duration = "30s"
    port: Port = 8082
    proposals: Literal["github", "local", "off"] = "github"
    propose_drift: bool = False


class Router(Spec):
    port: Port = 8083
    replicas: Annotated[int, Field(ge=1, le=10)] = 1


class Images(Spec):
    runtime: Line = Field(description="The one runtime image (gateway, triage, router, discovery).")


class Platform(Spec):
    """Root of ``catalog/platform.yaml``."""

    cluster: Cluster
    namespace: Namespace = Namespace()
    storage_class: ObjectName
    load_balancer: LoadBalancer
    ingress: Ingress
    secrets: Secrets
    operators: Operators = Operators()
    gitops: GitOps
    observability: Observability
    database: Database
    triage: Triage
    gateway: Gateway
    router: Router = Router()
    discovery: Discovery
    images: Images


# --------------------------------------------------------------------------- catalog


class Catalog(Spec):
    """The whole, cross-checked catalog, as :func:`catalog.load_catalog` returns it."""

    platform: Platform
    models: ModelsFile
    servers: tuple[ClusterApiServer | StdioServer | HttpServer | RemoteServer, ...]

    def server(self, name: str) -> ClusterApiServer | StdioServer | HttpServer | RemoteServer:
        """Return the server called ``name``.

        Raises:
            KeyError: no server has that name.
        """
        for server in self.servers:
            if server.name == name:
                return server
        raise KeyError(name)

    def model(self, name: str) -> Model:
        """Return the model called ``name``.

        Raises:
            KeyError: no model has that name.
        """
        for model in self.models.models:
            if model.name == name:
                return model
        raise KeyError(name)
