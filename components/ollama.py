"""The local LLM: Ollama with its models on a PVC, pulled by an init step before it serves."""

from __future__ import annotations

from catalog.model import Catalog, Platform, Resources
from catalog.naming import (
    HTTP_PORT_NAME,
    labels,
    runtime_port,
    runtime_resource_name,
    selector,
)
from components.meta import Manifest
from components.pods import container, pod_spec, scratch_volume

__all__ = ["GPU_RESOURCE", "models_to_pull", "ollama_claim", "ollama_deployment", "ollama_service"]

GPU_RESOURCE = "nvidia.com/gpu"
_MODELS = "/models"
_PULL = """set -eu
ollama serve &
server=$!
until ollama list >/dev/null 2>&1; do sleep 1; done
for model in $PULL_MODELS; do ollama pull "$model"; done
kill "$server"
"""
_PULL_RESOURCES = Resources(
    requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
)


def models_to_pull(catalog: Catalog) -> list[str]:
    """The triage model and every models.yaml model served by an ``ollama`` provider."""
    ollama = {p.name for p in catalog.models.providers if p.type == "ollama"}
    wanted = {catalog.platform.triage.ollama_model}
    wanted |= {m.model_id for m in catalog.models.models if m.provider in ollama}
    return sorted(wanted)


def ollama_claim(platform: Platform) -> Manifest:
    return {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": platform.storage_class,
        "resources": {"requests": {"storage": platform.triage.model_storage}},
    }


def ollama_deployment(catalog: Catalog, claim: str) -> Manifest:
    """One replica (the model PVC is ReadWriteOnce), recreated rather than rolled."""
    platform = catalog.platform
    triage = platform.triage
    name = runtime_resource_name("ollama")
    gpu = {GPU_RESOURCE: "1"} if triage.gpu else None
    env = [
        {"name": "OLLAMA_MODELS", "value": _MODELS},
        {"name": "OLLAMA_HOST", "value": f"0.0.0.0:{runtime_port('ollama', platform)}"},
        {"name": "HOME", "value": "/home/ollama"},
    ]
    mounts = [
        {"name": "models", "mountPath": _MODELS},
        {"name": "home", "mountPath": "/home/ollama"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    pull = container(
        "pull-models",
        triage.ollama_image,
        command=["/bin/sh", "-c", _PULL],
        env=[*env, {"name": "PULL_MODELS", "value": " ".join(models_to_pull(catalog))}],
        resources=_PULL_RESOURCES,
        volume_mounts=mounts,
    )
    serve = container(
        "ollama",
        triage.ollama_image,
        args=["serve"],
        env=env,
        ports={HTTP_PORT_NAME: runtime_port("ollama", platform)},
        resources=triage.ollama_resources,
        volume_mounts=mounts,
        probe_path="/",
        probe_port=HTTP_PORT_NAME,
        extra_limits=gpu,
    )
    return {
        "replicas": 1,
        "strategy": {"type": "Recreate"},
        "selector": {"matchLabels": selector(name)},
        "template": {
            "metadata": {"labels": labels("ollama", name)},
            "spec": pod_spec(
                [serve],
                init_containers=[pull],
                fs_group=10001,
                volumes=[
                    {"name": "models", "persistentVolumeClaim": {"claimName": claim}},
                    scratch_volume("home", "64Mi"),
                    scratch_volume("tmp", "1Gi"),
                ],
            ),
        },
    }


def ollama_service(platform: Platform) -> Manifest:
    port = runtime_port("ollama", platform)
    return {
        "selector": selector(runtime_resource_name("ollama")),
        "ports": [{"name": HTTP_PORT_NAME, "port": port, "targetPort": HTTP_PORT_NAME}],
    }
