"""Schema checks catch what the API server would reject or silently prune."""

from __future__ import annotations

from typing import Any

import pytest

from components.checks import SchemaValidator
from components.checks.schemas import crd_schemas, strict_schema


def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
            **spec,
        },
    }


def test_a_valid_core_object_has_no_problems(validator: SchemaValidator) -> None:
    assert validator.problems(_deployment(replicas=2)) == []


def test_a_misspelt_core_field_is_reported_with_its_path(validator: SchemaValidator) -> None:
    assert validator.problems(_deployment(replikas=2)) == [
        "spec: Additional properties are not allowed ('replikas' was unexpected)"
    ]


def test_a_wrong_type_in_a_custom_resource_is_reported(validator: SchemaValidator) -> None:
    server = {
        "apiVersion": "toolhive.stacklok.dev/v1beta1",
        "kind": "MCPServer",
        "metadata": {"name": "x"},
        "spec": {"image": "i", "proxyPort": "8080", "transportt": "stdio"},
    }
    assert validator.problems(server) == [
        "spec: Additional properties are not allowed ('transportt' was unexpected)",
        "spec.proxyPort: '8080' is not of type 'integer'",
    ]


def test_cilium_network_policy_ports_must_be_strings(validator: SchemaValidator) -> None:
    policy = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "x"},
        "spec": {
            "endpointSelector": {},
            "egress": [{"toCIDR": ["10.0.0.1/32"], "toPorts": [{"ports": [{"port": 443}]}]}],
        },
    }
    assert validator.problems(policy) == [
        "spec.egress.0.toPorts.0.ports.0.port: 443 is not of type 'string'"
    ]


def test_a_kind_without_any_schema_is_a_problem_not_a_pass(validator: SchemaValidator) -> None:
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}}
    assert validator.problems(unknown) == [
        "no schema for example.com/v1 Widget (neither core nor a vendored CRD)"
    ]


def test_every_vendored_crd_kind_the_compiler_writes_has_a_schema() -> None:
    assert set(crd_schemas()) >= {
        ("toolhive.stacklok.dev/v1beta1", "MCPServer"),
        ("secrets.infisical.com/v1alpha1", "InfisicalSecret"),
        ("cilium.io/v2", "CiliumLoadBalancerIPPool"),
        ("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy"),
        ("cilium.io/v2", "CiliumNetworkPolicy"),
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("operator.victoriametrics.com/v1beta1", "VMServiceScrape"),
        ("operator.victoriametrics.com/v1beta1", "VMRule"),
        ("traefik.io/v1alpha1", "IngressRoute"),
        ("argoproj.io/v1alpha1", "Application"),
        ("pulumi.com/v1", "Stack"),
    }


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"x-kubernetes-int-or-string": True},
            {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        ),
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": False,
            },
        ),
        (
            {"type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": True},
            {"type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": True},
        ),
    ],
)
def test_kubernetes_schema_extensions_become_json_schema(schema: dict, expected: dict) -> None:
    assert strict_schema(schema) == expected
