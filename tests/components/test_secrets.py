"""Secrets: InfisicalSecret per path, or Kubernetes Secrets from Pulumi config; no leaks."""

from __future__ import annotations

from urllib.parse import quote

import pulumi
import pytest

from catalog import Catalog
from catalog.naming import secret_resource_name
from components.secret_refs import (
    SecretIndex,
    database_derived_keys,
    required_keys,
    secret_types,
)
from components.secrets import MissingSecretsError, Secrets, SecretsArgs, SecretValues

from .conftest import render, with_platform

PASSWORD = "p@ss/w:rd?canary"


def _args(catalog: Catalog, values: SecretValues = SecretValues()) -> SecretsArgs:
    platform = catalog.platform
    path = SecretIndex(platform).path_name(platform.database.credentials_path)
    return SecretsArgs(
        secrets=platform.secrets,
        namespace="mcp-system",
        required=required_keys(catalog),
        derived={path: database_derived_keys(platform)},
        types=secret_types(platform),
        values=values,
    )


def _pulumi_backend(catalog: Catalog) -> Catalog:
    return with_platform(catalog, secrets={"backend": "pulumi"})


def _values(catalog: Catalog, **overrides: str) -> SecretValues:
    raw = {
        name: {key: overrides.get(key, f"value-of-{key}") for key in keys}
        for name, keys in required_keys(catalog).items()
    }
    return SecretValues.from_config(raw)


def test_the_catalog_references_these_keys_per_path(shipped: Catalog) -> None:
    assert required_keys(shipped) == {
        "adguard": {"USERNAME", "PASSWORD"},
        "opnsense": {"API_KEY", "API_SECRET"},
        "proxmox": {"CARRICK_TOKEN_VALUE", "RUAPEHU_TOKEN_VALUE"},
        "unifi": {"USERNAME", "PASSWORD"},
        "kubernetes": {"PROD_KUBECONFIG"},
        "talos": {"MCP_BEARER_TOKEN", "PROD_TALOSCONFIG", "MONITORING_TALOSCONFIG"},
        "database": {"POSTGRES_PASSWORD"},
        "router": {"ANTHROPIC_API_KEY", "GOOGLE_API_KEY"},
        "discovery": {"GITHUB_TOKEN"},
        "cloudflare": {"TUNNEL_TOKEN"},
    }


def test_infisical_backend_syncs_each_path_into_its_named_secret(shipped: Catalog) -> None:
    rendering = render(lambda: Secrets("secrets", _args(shipped)))
    secrets = rendering.of_kind("InfisicalSecret")
    assert len(secrets) == len(shipped.platform.secrets.paths)
    assert rendering.of_kind("Secret") == []
    proxmox = rendering.find("InfisicalSecret", secret_resource_name("proxmox")).manifest["spec"]
    auth = proxmox["authentication"]["universalAuth"]
    assert auth["secretsScope"] == {
        "projectSlug": "monit-homelab",
        "envSlug": "prod",
        "secretsPath": "/infrastructure/proxmox",
    }
    assert auth["credentialsRef"] == {  # the seed's shared machine identity
        "secretName": "universal-auth-credentials",
        "secretNamespace": "infisical-operator-system",
    }
    (target,) = proxmox["managedKubeSecretReferences"]
    assert target["secretName"] == "mcpfleet-secrets-proxmox"
    assert target["creationPolicy"] == "Owner"


def test_infisical_templates_the_database_url_from_the_stored_password(shipped: Catalog) -> None:
    rendering = render(lambda: Secrets("secrets", _args(shipped)))
    spec = rendering.find("InfisicalSecret", "mcpfleet-secrets-database").manifest["spec"]
    (target,) = spec["managedKubeSecretReferences"]
    assert target["secretType"] == "kubernetes.io/basic-auth"
    data = target["template"]["data"]
    assert data["password"] == "{{ .POSTGRES_PASSWORD.Value }}"
    assert data["DATABASE_URL"] == (
        "postgresql://mcp_user:{{ .POSTGRES_PASSWORD.Value | urlquery }}"
        "@postgres-vector-db.mcp-system.svc.cluster.local:5432/mcp_context"
    )
    assert target["template"]["includeAllSecrets"] is True


def test_pulumi_backend_writes_values_only_into_secrets_marked_secret(shipped: Catalog) -> None:
    catalog = _pulumi_backend(shipped)
    rendering = render(
        lambda: Secrets("secrets", _args(catalog, _values(catalog, POSTGRES_PASSWORD=PASSWORD)))
    )
    assert rendering.of_kind("InfisicalSecret") == []
    database = rendering.find("Secret", "mcpfleet-secrets-database")
    data = database.manifest["stringData"]
    assert data["POSTGRES_PASSWORD"] == PASSWORD
    assert data["password"] == PASSWORD
    assert data["DATABASE_URL"] == (
        f"postgresql://mcp_user:{quote(PASSWORD, safe='')}"
        "@postgres-vector-db.mcp-system.svc.cluster.local:5432/mcp_context"
    )
    assert ("stringData",) in database.record.secret_paths
    assert PASSWORD not in str(database.redacted())


def test_pulumi_backend_names_every_missing_key_with_the_command_to_set_it(
    shipped: Catalog,
) -> None:
    catalog = _pulumi_backend(shipped)
    values = SecretValues.from_config({"database": {"POSTGRES_PASSWORD": "x"}})
    with pytest.raises(MissingSecretsError) as caught:
        render(lambda: Secrets("secrets", _args(catalog, values)))
    message = str(caught.value)
    assert "16 secret value(s) missing" in message
    assert "pulumi config set --secret --path 'secrets.router.ANTHROPIC_API_KEY' <value>" in message
    assert "POSTGRES_PASSWORD" not in message


def test_config_that_is_not_a_map_of_maps_is_rejected_with_an_example() -> None:
    with pytest.raises(ValueError, match="pulumi config set --secret --path"):
        SecretValues.from_config({"database": "hunter2"})


def test_config_values_become_secret_outputs() -> None:
    values = SecretValues.from_config({"router": {"ANTHROPIC_API_KEY": "sk"}})
    assert isinstance(values.values["router"]["ANTHROPIC_API_KEY"], pulumi.Output)


def test_a_reference_to_an_undeclared_path_is_an_error_naming_the_declared_ones(
    shipped: Catalog,
) -> None:
    with pytest.raises(KeyError, match=r"/nowhere.*declared: .*/mcp-system/postgres"):
        SecretIndex(shipped.platform).path_name("/nowhere")
