"""The ``restricted`` Pod Security Standard, checked on the pod specs the compiler writes.

Mirrors the API server's ``restricted`` profile (latest): allowed volume types, non-root,
no privilege escalation, only ``NET_BIND_SERVICE`` may be added after dropping ``ALL``,
RuntimeDefault/Localhost seccomp, and none of the baseline's host namespaces, privileged
containers, host ports, hostPath volumes or unsafe sysctls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["pod_specs", "restricted_violations"]

_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
_SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


def pod_specs(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, pod spec) for every pod template inside an object, whatever its kind."""
    kind = manifest.get("kind")
    spec = manifest.get("spec") or {}
    if kind == "Pod":
        yield "spec", spec
    elif kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        yield "spec.template.spec", (spec.get("template") or {}).get("spec") or {}
    elif kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        yield "spec.jobTemplate.spec.template.spec", (job.get("template") or {}).get("spec") or {}
    elif kind == "MCPServer" and "podTemplateSpec" in spec:
        yield "spec.podTemplateSpec.spec", (spec["podTemplateSpec"] or {}).get("spec") or {}


def _effective(pod: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    own = (container.get("securityContext") or {}).get(field)
    return own if own is not None else (pod.get("securityContext") or {}).get(field)


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Why this pod spec would be rejected in a ``restricted`` namespace (empty: admitted)."""
    found: list[str] = []
    context = pod.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            found.append(f"{host} is true")
    for volume in pod.get("volumes") or []:
        types = set(volume) - {"name"}
        if not types <= _VOLUMES:
            found.append(f"volume {volume.get('name')}: type {sorted(types)} not allowed")
    for sysctl in context.get("sysctls") or []:
        if sysctl.get("name") not in _SAFE_SYSCTLS:
            found.append(f"sysctl {sysctl.get('name')} not allowed")
    pod_seccomp = (context.get("seccompProfile") or {}).get("type")
    containers = [
        *(pod.get("initContainers") or []),
        *(pod.get("containers") or []),
        *(pod.get("ephemeralContainers") or []),
    ]
    if not containers:
        found.append("no containers")
    for c in containers:
        name = c.get("name", "?")
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation must be false")
        if _effective(pod, c, "runAsNonRoot") is not True:
            found.append(f"{name}: runAsNonRoot must be true")
        if _effective(pod, c, "runAsUser") == 0:
            found.append(f"{name}: runAsUser must not be 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in {"RuntimeDefault", "Localhost"}:
            found.append(f"{name}: seccompProfile must be RuntimeDefault or Localhost")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{name}: capabilities must drop ALL")
        added = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
        if added:
            found.append(f"{name}: capabilities {sorted(added)} may not be added")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{name}: hostPort {port['hostPort']}")
    return found
