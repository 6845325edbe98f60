"""The seed plan's ``kubectl`` and ``curl`` examples find what they name in the rendered
deployment: its object names, labels, ports, database role and namespace."""

from __future__ import annotations

from catalog import Catalog
from components.render import Rendering


def _pod_labels(fleet: Rendering, kind: str, name: str) -> dict[str, str]:
    return fleet.find(kind, name).manifest["spec"]["template"]["metadata"]["labels"]


def _selects(service: dict, labels: dict[str, str]) -> bool:
    return service["spec"]["selector"].items() <= labels.items()


def test_the_mcp_server_troubleshooting_commands_find_the_server(fleet: Rendering) -> None:
    """``kubectl get pods -n mcp-system -l app=kubernetes-prod-mcp``, ``kubectl logs … -l
    app=kubernetes-prod-mcp``, ``kubectl port-forward svc/kubernetes-prod-mcp 8080:8080``."""
    labels = _pod_labels(fleet, "Deployment", "kubernetes-prod-mcp")
    assert labels["app"] == "kubernetes-prod-mcp"
    service = fleet.find("Service", "kubernetes-prod-mcp").manifest
    assert service["metadata"]["namespace"] == "mcp-system"
    assert [p["port"] for p in service["spec"]["ports"]] == [8080]
    assert _selects(service, labels)


def test_the_database_commands_find_the_pod_the_role_and_the_database(fleet: Rendering) -> None:
    """``kubectl exec -n mcp-system postgres-vector-db-0 -- psql -U mcp_user -d mcp_context``."""
    statefulset = fleet.find("StatefulSet", "postgres-vector-db").manifest
    assert statefulset["spec"]["replicas"] == 1  # so its one pod is postgres-vector-db-0
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("mcp_user", "mcp_context")
    assert fleet.find("Service", "postgres-vector-db")  # the plan's POSTGRES_HOST
    claim = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "100Gi"
    assert claim["storageClassName"] == "local-path"


def test_the_triage_and_ollama_commands_find_their_services(fleet: Rendering) -> None:
    """``curl -X POST http://mcp-triage:8080/api/v1/query``, ``…/api/v1/embed``,
    ``kubectl logs -l app=ollama-triage``, ``kubectl exec deploy/ollama-triage -- ollama list``."""
    triage = fleet.find("Service", "mcp-triage").manifest
    assert [p["port"] for p in triage["spec"]["ports"]] == [8080]
    assert _selects(triage, _pod_labels(fleet, "Deployment", "mcp-triage"))
    ollama = fleet.find("Deployment", "ollama-triage").manifest["spec"]["template"]
    assert ollama["metadata"]["labels"]["app"] == "ollama-triage"
    assert [c["name"] for c in ollama["spec"]["containers"]] == ["ollama"]


def test_the_gateway_and_pr_automation_answer_where_the_plan_calls_them(
    fleet: Rendering, shipped: Catalog
) -> None:
    """``http://10.30.0.91:8080`` and ``http://mcp-gateway:8080`` (metrics on 8081);
    ``curl -X POST http://pr-automation:8080/api/v1/create-pr``."""
    gateway = fleet.find("Service", "mcp-gateway").manifest
    assert gateway["spec"]["type"] == "LoadBalancer"
    assert gateway["metadata"]["annotations"]["lbipam.cilium.io/ips"] == "10.30.0.91"
    assert [p["port"] for p in gateway["spec"]["ports"]] == [8080]
    pods = _pod_labels(fleet, "Deployment", "mcp-gateway")
    assert pods["app"] == "mcp-gateway"  # the plan's NetworkPolicy selects app: mcp-gateway
    metrics = fleet.find("Service", "mcp-gateway-metrics").manifest
    assert [p["port"] for p in metrics["spec"]["ports"]] == [8081]
    pr = fleet.find("Service", "pr-automation").manifest
    assert [p["port"] for p in pr["spec"]["ports"]] == [8080]
    assert _selects(pr, _pod_labels(fleet, "Deployment", "discovery-service"))
    assert shipped.platform.gitops.repository.endswith("charlieshreck/monit_homelab.git")


def test_the_namespace_and_the_database_secret_are_the_plans(fleet: Rendering) -> None:
    labels = fleet.find("Namespace", "mcp-system").manifest["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    spec = fleet.find("InfisicalSecret", "mcpfleet-secrets-database").manifest["spec"]
    auth = spec["authentication"]["universalAuth"]
    assert auth["credentialsRef"] == {
        "secretName": "universal-auth-credentials",
        "secretNamespace": "infisical-operator-system",
    }
    assert auth["secretsScope"] == {
        "projectSlug": "monit-homelab",
        "envSlug": "prod",
        "secretsPath": "/mcp-system/postgres",
    }
    assert spec["hostAPI"] == "https://app.infisical.com/api"
