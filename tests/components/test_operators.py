"""Operators are Helm releases or prerequisites per ``platform.operators``, and only if used."""

from __future__ import annotations

from catalog import Catalog
from components.operators import Operators, OperatorsArgs, operators_needed, prerequisites
from components.render import Recording, Rendering, record

from .conftest import render, with_platform


def _render(catalog: Catalog) -> Rendering:
    return render(lambda: Operators("operators", OperatorsArgs(catalog)))


def recording(catalog: Catalog) -> Recording:
    """The registrations themselves, with what each one waits for."""
    return record(lambda: Operators("operators", OperatorsArgs(catalog)))


def test_the_shipped_catalog_installs_toolhive_and_infisical_with_helm(shipped: Catalog) -> None:
    releases = {o.object_name: o.manifest for o in _render(shipped).of_kind("HelmRelease")}
    assert set(releases) == {
        "toolhive-operator-crds",
        "toolhive-operator",
        "infisical-secrets-operator",
    }
    assert releases["toolhive-operator"]["chart"].startswith("oci://ghcr.io/stacklok/")
    assert releases["toolhive-operator"]["namespace"] == "toolhive-system"
    assert releases["infisical-secrets-operator"]["repositoryOpts"]["repo"].startswith("https://")


def test_the_toolhive_operator_release_waits_for_its_crds(shipped: Catalog) -> None:
    releases = {r.name: r for r in recording(shipped).records if r.type.endswith("Release")}
    crds = releases["operators-toolhive-operator-crds"]
    operator = releases["operators-toolhive-operator"]
    assert crds.urn in operator.dependencies, "the engine installs the CRDs chart first"
    assert operator.urn not in crds.dependencies


def test_prerequisite_operators_are_listed_not_installed(shipped: Catalog) -> None:
    catalog = with_platform(
        shipped,
        operators={"toolhive": "prerequisite"},
        database={"engine": "cloudnative-pg"},
    )
    rendering = _render(catalog)
    names = {o.object_name for o in rendering.of_kind("HelmRelease")}
    assert names == {"infisical-secrets-operator"}
    needs = prerequisites(catalog)
    assert any(n.startswith("toolhive operator: runs the stdio servers (adguard") for n in needs)
    assert any(n.startswith("cloudnative-pg operator") for n in needs)


def test_an_operator_nothing_uses_is_neither_installed_nor_required(shipped: Catalog) -> None:
    catalog = with_platform(shipped, operators={"pulumi_operator": "helm"})
    assert "pulumi_operator" not in operators_needed(catalog)
    names = {o.object_name for o in _render(catalog).of_kind("HelmRelease")}
    assert "pulumi-kubernetes-operator" not in names
