"""A rendering: the tree, redaction of secrets, and one deterministic file per object."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.render import Rendering
from components.render.objects import REDACTED

from ..conftest import render

CANARY = "canary-7f3a9c"


class _Pair(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("mcpfleet:index:Pair", name, None, None)
        opts = pulumi.ResourceOptions(parent=self)
        k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": "s", "namespace": "ns"},
            string_data={"TOKEN": pulumi.Output.secret(CANARY)},
            opts=opts,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "c", "namespace": "ns"},
            data={"leaked": pulumi.Output.secret(CANARY), "port": "80"},
            opts=opts,
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": "d", "namespace": "ns"},
            spec={
                "replicas": 3,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
            opts=opts,
        )
        self.register_outputs({})


@pytest.fixture(scope="module")
def pair() -> Rendering:
    return render(lambda: _Pair("pair"))


def test_integers_come_back_as_integers_not_floats(pair: Rendering) -> None:
    replicas = pair.find("Deployment", "d").manifest["spec"]["replicas"]
    assert replicas == 3 and isinstance(replicas, int)


def test_secret_values_are_recorded_raw_but_never_written(pair: Rendering, tmp_path: Path) -> None:
    assert pair.find("Secret", "s").manifest["stringData"] == {"TOKEN": CANARY}
    assert pair.find("Secret", "s").redacted()["stringData"] == {"TOKEN": REDACTED}
    # Pulumi marks the whole map secret once one value in it is; all of it is hidden
    config = pair.find("ConfigMap", "c").redacted()
    assert config["data"] == {"leaked": REDACTED, "port": REDACTED}
    assert pair.find("Deployment", "d").redacted()["spec"]["replicas"] == 3
    pair.write(tmp_path)
    for file in tmp_path.rglob("*.yaml"):
        assert CANARY not in file.read_text()


def test_each_object_is_one_file_in_its_components_directory(
    pair: Rendering, tmp_path: Path
) -> None:
    written = pair.write(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "pair/configmap-c.yaml",
        "pair/deployment-d.yaml",
        "pair/secret-s.yaml",
    ]
    text = (tmp_path / "pair" / "deployment-d.yaml").read_text()
    assert text.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")


def test_rendering_twice_writes_identical_files(tmp_path: Path) -> None:
    first = render(lambda: _Pair("pair"))
    second = render(lambda: _Pair("pair"))
    a, b = first.write(tmp_path / "a"), second.write(tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_children_and_ancestors_follow_the_parent_chain(pair: Rendering) -> None:
    (component,) = pair.component("mcpfleet:index:Pair")
    children = pair.children(component)
    assert {c.name for c in children} == {"pair-secret", "pair-config", "pair-deployment"}
    assert all(pair.ancestors(c) == [component] for c in children)
