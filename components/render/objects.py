"""What a render produced: the component tree and every object, and how it is written out."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from components.render.mocks import Recorded, Recording

__all__ = ["REDACTED", "RenderedObject", "Rendering", "obj_yaml"]

REDACTED = "<redacted>"
_HELM_TYPE = "kubernetes:helm.sh/v3:Release"
_FIRST_KEYS = ("apiVersion", "kind", "metadata")
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class RenderedObject:
    """One resource the stack would create, with the component group it belongs to."""

    group: str
    record: Recorded

    @property
    def manifest(self) -> dict[str, Any]:
        return self.record.inputs

    @property
    def is_kubernetes(self) -> bool:
        """A Kubernetes object (as opposed to a Helm release or a provider)."""
        return "apiVersion" in self.manifest and "kind" in self.manifest

    @property
    def is_helm_release(self) -> bool:
        return self.record.type == _HELM_TYPE

    @property
    def kind(self) -> str:
        if self.is_helm_release:
            return "HelmRelease"
        return str(self.manifest.get("kind", self.record.type.rsplit(":", 1)[-1]))

    @property
    def api_version(self) -> str:
        return str(self.manifest.get("apiVersion", ""))

    @property
    def object_name(self) -> str:
        if self.is_helm_release:
            return str(self.manifest.get("name") or self.record.name)
        return str((self.manifest.get("metadata") or {}).get("name") or self.record.name)

    @property
    def namespace(self) -> str | None:
        return (self.manifest.get("metadata") or {}).get("namespace")

    def redacted(self) -> dict[str, Any]:
        """The manifest with every secret value replaced, and Secret data always hidden."""
        data = _copy(self.manifest)
        for path in self.record.secret_paths:
            _replace(data, path)
        if self.kind == "Secret":
            for field in ("data", "stringData"):
                if field in data:
                    data[field] = _hidden(data[field])
        ordered = {k: data[k] for k in _FIRST_KEYS if k in data}
        ordered.update({k: v for k, v in data.items() if k not in ordered})
        return ordered


def _copy(value: Any) -> Any:
    """A deep copy with keys sorted: values cross the mock monitor as unordered maps."""
    if isinstance(value, dict):
        return {k: _copy(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _hidden(value: Any) -> Any:
    """Every leaf replaced, the shape (e.g. a Secret's keys) kept for the reader."""
    if isinstance(value, dict):
        return {k: _hidden(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hidden(v) for v in value]
    return REDACTED


def _replace(data: Any, path: tuple[str | int, ...]) -> None:
    if not path:
        return
    *parents, last = path
    for part in parents:
        data = data[part]
    data[last] = _hidden(data[last])


class Rendering:
    """Every registration of one run, as a tree of components and a list of objects."""

    def __init__(self, recording: Recording) -> None:
        self.records = sorted(recording.records, key=lambda r: r.urn)
        self.warnings = sorted(set(recording.warnings))
        self._by_urn = {r.urn: r for r in self.records}

    @cached_property
    def components(self) -> list[Recorded]:
        return [r for r in self.records if not r.custom]

    def component(self, type_token: str) -> list[Recorded]:
        return [r for r in self.components if r.type == type_token]

    def children(self, parent: Recorded) -> list[Recorded]:
        return [r for r in self.records if r.parent == parent.urn]

    def descendants(self, parent: Recorded) -> Iterator[Recorded]:
        for child in self.children(parent):
            yield child
            yield from self.descendants(child)

    def ancestors(self, record: Recorded) -> list[Recorded]:
        """Components above ``record``, nearest first."""
        chain = []
        parent = self._by_urn.get(record.parent)
        while parent is not None:
            chain.append(parent)
            parent = self._by_urn.get(parent.parent)
        return chain

    def _group(self, record: Recorded) -> str:
        chain = self.ancestors(record)
        if not chain:
            return "root"
        top = chain[-1]
        group = chain[-2] if len(chain) >= 2 else top
        return group.name.removeprefix(f"{top.name}-")

    @cached_property
    def objects(self) -> list[RenderedObject]:
        """Custom resources except providers, in a stable order."""
        found = [
            RenderedObject(self._group(r), r)
            for r in self.records
            if r.custom and not r.type.startswith("pulumi:providers:")
        ]
        return sorted(found, key=lambda o: (o.group, o.kind, o.object_name))

    @property
    def kubernetes_objects(self) -> list[RenderedObject]:
        return [o for o in self.objects if o.is_kubernetes]

    def counts(self) -> Counter[str]:
        """Objects per kind."""
        return Counter(o.kind for o in self.objects)

    def find(self, kind: str, name: str) -> RenderedObject:
        """The object of ``kind`` named ``name``.

        Raises:
            KeyError: there is none.
        """
        for obj in self.objects:
            if obj.kind == kind and obj.object_name == name:
                return obj
        raise KeyError(f"{kind}/{name}")

    def of_kind(self, kind: str) -> list[RenderedObject]:
        return [o for o in self.objects if o.kind == kind]

    def files(self) -> dict[PurePosixPath, tuple[RenderedObject, str]]:
        """``<component>/<Kind>-<name>.yaml`` → the object and its YAML (secrets redacted)."""
        out: dict[PurePosixPath, tuple[RenderedObject, str]] = {}
        for obj in self.objects:
            stem = _slug(f"{obj.kind}-{obj.object_name}")
            path = PurePosixPath(_slug(obj.group)) / f"{stem}.yaml"
            n = 2
            while path in out:
                path = PurePosixPath(_slug(obj.group)) / f"{stem}-{n}.yaml"
                n += 1
            out[path] = (obj, obj_yaml(obj))
        return out

    def write(self, out: Path) -> list[Path]:
        """One YAML file per object under ``out/<component>/``; secrets are redacted."""
        written: list[Path] = []
        for relative, (_, text) in self.files().items():
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


def obj_yaml(obj: RenderedObject) -> str:
    """An object as the YAML file ``render`` writes (a Helm release with a note on top)."""
    buffer = io.StringIO()
    if obj.is_helm_release:
        buffer.write(
            "# A Helm release that `pulumi up` installs (pulumi-kubernetes "
            "helm.sh/v3 Release);\n# not a Kubernetes object itself.\n"
        )
    yaml.dump(obj.redacted(), buffer, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)
    return buffer.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-")
