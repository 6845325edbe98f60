"""Pod and container specs that pass the ``restricted`` Pod Security Standard.

Every workload the compiler writes is built here, so the standard is met in one place:
non-root, no privilege escalation, every capability dropped, RuntimeDefault seccomp and,
where the image allows, a read-only root filesystem with writable ``emptyDir`` scratch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from catalog.model import Resources
from components.meta import Manifest

__all__ = [
    "RUNTIME_UID",
    "container",
    "container_security",
    "env_from_secret",
    "env_values",
    "pod_security",
    "pod_spec",
    "resource_requirements",
    "scratch_volume",
]

RUNTIME_UID = 10001
"""The uid of the runtime image's user (see the Dockerfile) and the default for others."""

_SECCOMP = {"type": "RuntimeDefault"}


def pod_security(uid: int = RUNTIME_UID, fs_group: int | None = None) -> Manifest:
    """Pod-level security context: a fixed non-root uid, RuntimeDefault seccomp."""
    context: Manifest = {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "seccompProfile": dict(_SECCOMP),
    }
    if fs_group is not None:
        context["fsGroup"] = fs_group
        context["fsGroupChangePolicy"] = "OnRootMismatch"
    return context


def container_security(read_only_root: bool = True) -> Manifest:
    """Container-level context; repeats the pod's non-root settings so each container passes."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "seccompProfile": dict(_SECCOMP),
    }


def resource_requirements(
    resources: Resources, extra_limits: Mapping[str, str] | None = None
) -> Manifest:
    """Requests and limits from the catalog, plus e.g. ``nvidia.com/gpu`` when asked for."""
    return {
        "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        "limits": {
            "cpu": resources.limits.cpu,
            "memory": resources.limits.memory,
            **(extra_limits or {}),
        },
    }


def env_values(values: Mapping[str, str]) -> list[Manifest]:
    """Plain environment variables, sorted so a re-ordered catalog causes no rollout."""
    return [{"name": k, "value": v} for k, v in sorted(values.items())]


def env_from_secret(name: str, secret: str, key: str, *, optional: bool = False) -> Manifest:
    """An environment variable read from a Secret key; the value never enters the spec."""
    ref: Manifest = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def scratch_volume(name: str = "tmp", size: str = "256Mi") -> Manifest:
    """A size-limited ``emptyDir``: the writable scratch a read-only root filesystem needs."""
    return {"name": name, "emptyDir": {"sizeLimit": size}}


def container(
    name: str,
    image: str,
    *,
    resources: Resources,
    command: Sequence[str] = (),
    args: Sequence[str] = (),
    env: Sequence[Manifest] = (),
    ports: Mapping[str, int] | None = None,
    volume_mounts: Sequence[Manifest] = (),
    probe_path: str | None = None,
    probe_port: str | None = None,
    read_only_root: bool = True,
    extra_limits: Mapping[str, str] | None = None,
) -> Manifest:
    """One container; ``probe_path`` adds HTTP readiness and liveness probes on ``probe_port``."""
    spec: Manifest = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resource_requirements(resources, extra_limits),
        "securityContext": container_security(read_only_root),
    }
    if command:
        spec["command"] = list(command)
    if args:
        spec["args"] = list(args)
    if env:
        spec["env"] = list(env)
    if ports:
        spec["ports"] = [
            {"name": port_name, "containerPort": number, "protocol": "TCP"}
            for port_name, number in ports.items()
        ]
    if volume_mounts:
        spec["volumeMounts"] = list(volume_mounts)
    if probe_path and probe_port:
        probe = {"httpGet": {"path": probe_path, "port": probe_port}, "periodSeconds": 10}
        spec["readinessProbe"] = {**probe, "failureThreshold": 3}
        spec["livenessProbe"] = {**probe, "failureThreshold": 6, "initialDelaySeconds": 10}
    return spec


def pod_spec(
    containers: Sequence[Manifest],
    *,
    service_account: str | None = None,
    automount_token: bool = False,
    volumes: Sequence[Manifest] = (),
    init_containers: Sequence[Manifest] = (),
    uid: int = RUNTIME_UID,
    fs_group: int | None = None,
    restart_policy: str | None = None,
) -> Manifest:
    """A pod spec; the API token is mounted only where a workload calls the Kubernetes API."""
    spec: Manifest = {
        "automountServiceAccountToken": automount_token,
        "securityContext": pod_security(uid, fs_group),
        "containers": list(containers),
    }
    if service_account:
        spec["serviceAccountName"] = service_account
    if volumes:
        spec["volumes"] = list(volumes)
    if init_containers:
        spec["initContainers"] = list(init_containers)
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return spec
