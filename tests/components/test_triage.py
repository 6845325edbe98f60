"""Ollama with its model pulled before it serves, and the triage API beside it."""

from __future__ import annotations

from catalog import Catalog
from components.ollama import GPU_RESOURCE, models_to_pull
from components.render import Rendering
from components.triage import Triage, TriageArgs
from components.workload import CatalogMount

from .conftest import render, with_platform


def _render(catalog: Catalog) -> Rendering:
    mount = CatalogMount({"platform.yaml": ""}, "abc")
    return render(
        lambda: Triage("triage", TriageArgs(catalog, "mcp-system", mount, "db-secret", "gw-secret"))
    )


def test_an_init_step_pulls_every_ollama_model_the_catalog_names(shipped: Catalog) -> None:
    assert models_to_pull(shipped) == ["llama3.1:8b", "nomic-embed-text"]
    pod = _render(shipped).find("Deployment", "ollama-triage").manifest["spec"]["template"]
    (pull,) = pod["spec"]["initContainers"]
    env = {e["name"]: e.get("value") for e in pull["env"]}
    assert env["PULL_MODELS"] == "llama3.1:8b nomic-embed-text"
    assert "ollama pull" in pull["command"][-1]


def test_models_live_on_a_claim_and_the_pod_is_recreated_not_rolled(shipped: Catalog) -> None:
    rendering = _render(shipped)
    claim = rendering.find("PersistentVolumeClaim", "ollama-triage-models").manifest["spec"]
    assert claim["resources"]["requests"]["storage"] == "20Gi"
    spec = rendering.find("Deployment", "ollama-triage").manifest["spec"]
    assert spec["strategy"] == {"type": "Recreate"}
    ollama = spec["template"]["spec"]["containers"][0]
    assert ollama["resources"]["limits"] == {"cpu": "4", "memory": "10Gi"}
    assert GPU_RESOURCE not in ollama["resources"]["limits"]


def test_gpu_true_asks_for_one_gpu(shipped: Catalog) -> None:
    spec = (
        _render(with_platform(shipped, triage={"gpu": True}))
        .find("Deployment", "ollama-triage")
        .manifest["spec"]
    )
    assert spec["template"]["spec"]["containers"][0]["resources"]["limits"][GPU_RESOURCE] == "1"


def test_the_triage_api_runs_the_runtime_image_and_knows_where_ollama_is(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped)
    spec = rendering.find("Deployment", "mcp-triage").manifest["spec"]
    app = spec["template"]["spec"]["containers"][0]
    assert app["image"] == "ghcr.io/charlieshreck/mcpfleet-runtime:0.1.0"
    env = {e["name"]: e for e in app["env"]}
    assert env["MCPFLEET_OLLAMA_URL"]["value"] == (
        "http://ollama-triage.mcp-system.svc.cluster.local:11434"
    )
    token = env["MCPFLEET_TRIAGE_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token == {"name": "gw-secret", "key": "TRIAGE_TOKEN", "optional": True}
    assert app["args"][4:] == [
        "--gateway-url",
        "http://mcp-gateway.mcp-system.svc.cluster.local:8080",
        "--router-url",
        "http://multi-model-router.mcp-system.svc.cluster.local:8080",
    ]
    assert spec["template"]["metadata"]["annotations"]["mcpfleet.io/catalog-checksum"] == "abc"
    service = rendering.find("Service", "mcp-triage").manifest["spec"]
    assert service["ports"][0]["port"] == 8080  # the seed's mcp-triage:8080
    assert service["ports"][0]["targetPort"] == "http"
    assert app["ports"][0]["containerPort"] == 8084  # catalog triage.port
