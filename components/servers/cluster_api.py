"""Cluster-API servers (Kubernetes, Talos): read-only RBAC in-cluster, a kubeconfig otherwise."""

from __future__ import annotations

from catalog.model import ClusterApiServer
from catalog.naming import KUBECONFIG_PATH, labels, selector, server_resource_name
from components.meta import Manifest
from components.pods import container, env_from_secret, pod_spec, scratch_volume
from components.secret_refs import SecretIndex
from components.servers.common import server_env, tcp_probes

__all__ = ["READ_ONLY_RULES", "cluster_api_deployment"]

_READ = ["get", "list", "watch"]
READ_ONLY_RULES: tuple[Manifest, ...] = (
    {
        "apiGroups": [""],
        "resources": [
            "pods",
            "services",
            "endpoints",
            "events",
            "namespaces",
            "nodes",
            "configmaps",
            "persistentvolumes",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "serviceaccounts",
            "resourcequotas",
            "limitranges",
        ],
        "verbs": _READ,
    },
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"],
        "verbs": _READ,
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _READ},
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "networkpolicies"],
        "verbs": _READ,
    },
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": _READ},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _READ},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": _READ},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": _READ},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": _READ},
)
"""Read-only, and deliberately without Secrets: a viewer, like the built-in ``view`` role."""


def cluster_api_deployment(server: ClusterApiServer, index: SecretIndex) -> Manifest:
    """The server's Deployment; the API token is mounted only for the in-cluster API."""
    name = server_resource_name(server)
    env = server_env(server, index)
    volumes: list[Manifest] = [scratch_volume()]
    mounts: list[Manifest] = [{"name": "tmp", "mountPath": "/tmp"}]
    if server.kubeconfig is not None:
        secret, key = index.ref(server.kubeconfig)
        env.append(env_from_secret(server.kubeconfig.env, secret, key))
        file = KUBECONFIG_PATH.rsplit("/", 1)
        volumes.append(
            {
                "name": "kubeconfig",
                "secret": {"secretName": secret, "items": [{"key": key, "path": file[1]}]},
            }
        )
        mounts.append({"name": "kubeconfig", "mountPath": file[0], "readOnly": True})
    env.append({"name": "HOME", "value": "/tmp"})
    app = container(
        "server",
        server.image,
        args=server.args,
        env=env,
        ports={"mcp": server.port},
        resources=server.resources,
        volume_mounts=mounts,
    )
    app.update(tcp_probes(server.port))
    in_cluster = server.cluster == "in-cluster" and server.api == "kubernetes"
    return {
        "replicas": server.replicas,
        "selector": {"matchLabels": selector(name)},
        "template": {
            "metadata": {"labels": labels("mcp-server", name)},
            "spec": pod_spec(
                [app], service_account=name, automount_token=in_cluster, volumes=volumes
            ),
        },
    }
