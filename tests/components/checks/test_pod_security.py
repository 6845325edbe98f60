"""The restricted-standard checker rejects what the API server would reject."""

from __future__ import annotations

from typing import Any

import pytest

from components.checks import pod_specs, restricted_violations
from components.pods import container_security, pod_security


def _pod(**overrides: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "i", "securityContext": container_security()}
    pod = {"securityContext": pod_security(), "containers": [container]}
    pod.update(overrides)
    return pod


def test_the_compilers_own_pod_and_container_contexts_pass() -> None:
    assert restricted_violations(_pod()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"hostNetwork": True}, "hostNetwork is true"),
        ({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}, "volume h: type ['hostPath']"),
        (
            {"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]},
            "volume n: type ['nfs']",
        ),
        ({"hostPID": True}, "hostPID is true"),
    ],
)
def test_pod_level_violations_are_named(change: dict[str, Any], expected: str) -> None:
    assert any(v.startswith(expected) for v in restricted_violations(_pod(**change)))


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"allowPrivilegeEscalation": True}, "app: allowPrivilegeEscalation must be false"),
        ({"capabilities": {"drop": ["NET_RAW"]}}, "app: capabilities must drop ALL"),
        (
            {"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}},
            "app: capabilities ['SYS_ADMIN'] may not be added",
        ),
        ({"privileged": True}, "app: privileged"),
        (
            {"seccompProfile": {"type": "Unconfined"}},
            "app: seccompProfile must be RuntimeDefault or Localhost",
        ),
        ({"runAsUser": 0}, "app: runAsUser must not be 0"),
        ({"runAsNonRoot": False}, "app: runAsNonRoot must be true"),
    ],
)
def test_container_level_violations_are_named(context: dict[str, Any], expected: str) -> None:
    pod = _pod()
    pod["containers"][0]["securityContext"] = {**container_security(), **context}
    assert expected in restricted_violations(pod)


def test_pod_templates_are_found_in_every_workload_kind() -> None:
    template = {"template": {"spec": _pod()}}
    kinds = {
        "Deployment": template,
        "StatefulSet": template,
        "CronJob": {"jobTemplate": {"spec": template}},
        "MCPServer": {"podTemplateSpec": {"spec": _pod()}},
        "Service": {"ports": []},
    }
    found = {
        kind: [where for where, _ in pod_specs({"kind": kind, "spec": spec})]
        for kind, spec in kinds.items()
    }
    assert found == {
        "Deployment": ["spec.template.spec"],
        "StatefulSet": ["spec.template.spec"],
        "CronJob": ["spec.jobTemplate.spec.template.spec"],
        "MCPServer": ["spec.podTemplateSpec.spec"],
        "Service": [],
    }
