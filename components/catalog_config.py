"""The catalog as a ConfigMap, mounted at ``/etc/mcpfleet/catalog`` in every runtime pod.

The runtime reads the same files the operator edits (``MCPFLEET_CATALOG``), so gateway,
triage, router and discovery always run against the catalog that was deployed with them.
Secrets never enter it: the catalog holds only references to secrets-backend paths.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import BaseModel

from catalog.limits import CONFIGMAP_BYTES
from catalog.model import Catalog
from catalog.naming import CATALOG_CONFIGMAP, CATALOG_MOUNT
from components.meta import Manifest, child_options, object_meta

__all__ = [
    "CHECKSUM_ANNOTATION",
    "CatalogConfig",
    "CatalogConfigArgs",
    "catalog_checksum",
    "catalog_files",
    "catalog_mount",
    "catalog_volume",
    "size_warning",
]

CHECKSUM_ANNOTATION = "mcpfleet.io/catalog-checksum"
_VOLUME = "catalog"
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available: 500 servers
_SERVER_KEY = "servers.{name}.yaml"


def _dump(model: BaseModel, root: str | None = None) -> str:
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if root is not None:
        data = {root: data}
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def catalog_files(catalog: Catalog) -> dict[str, str]:
    """ConfigMap keys → file text; server files are keyed ``servers.<name>.yaml``."""
    files = {"platform.yaml": _dump(catalog.platform), "models.yaml": _dump(catalog.models)}
    for server in catalog.servers:
        text = _dump(server, root="server")
        files[_SERVER_KEY.format(name=server.name)] = text
    return files


def catalog_checksum(files: dict[str, str]) -> str:
    """A digest of the files; put on pod templates so a catalog change rolls the pods."""
    digest = hashlib.sha256()
    for key in sorted(files):
        digest.update(key.encode())
        digest.update(files[key].encode())
    return digest.hexdigest()[:16]


def size_warning(files: dict[str, str]) -> str | None:
    """Why the ConfigMap would be rejected (the API server's 1 MiB limit), if it would."""
    size = sum(len(k) + len(v.encode()) for k, v in files.items())
    if size <= CONFIGMAP_BYTES * 0.9:
        return None
    return (
        f"the catalog ConfigMap is {size} bytes, near or over Kubernetes' 1 MiB limit; "
        "split rarely used servers into a second catalog or trim descriptions"
    )


def catalog_volume(files: dict[str, str]) -> Manifest:
    """The ConfigMap volume, mapping ``servers.<name>.yaml`` back to ``servers/<name>.yaml``."""
    items = [{"key": key, "path": key.replace("servers.", "servers/", 1)} for key in sorted(files)]
    return {"name": _VOLUME, "configMap": {"name": CATALOG_CONFIGMAP, "items": items}}


def catalog_mount() -> Manifest:
    return {"name": _VOLUME, "mountPath": CATALOG_MOUNT, "readOnly": True}


@dataclass(frozen=True)
class CatalogConfigArgs:
    catalog: Catalog
    namespace: pulumi.Input[str]


class CatalogConfig(pulumi.ComponentResource):
    """The ConfigMap holding platform.yaml, models.yaml and every server file."""

    def __init__(
        self, name: str, args: CatalogConfigArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:CatalogConfig", name, None, opts)
        self.files = catalog_files(args.catalog)
        self.checksum = catalog_checksum(self.files)
        warning = size_warning(self.files)
        if warning:
            pulumi.log.warn(warning, resource=self)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-configmap",
            metadata=object_meta(
                CATALOG_CONFIGMAP,
                component="catalog",
                namespace=args.namespace,
                annotations={CHECKSUM_ANNOTATION: self.checksum},
            ),
            data=self.files,
            opts=child_options(self),
        )
        self.name = config_map.metadata.name
        self.register_outputs({"name": self.name, "checksum": self.checksum})
