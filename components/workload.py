"""The Deployment and Service of a runtime service, all from the one runtime image.

Gateway, triage, router and discovery differ only in the sub-command
(``mcpfleet serve <service>``), port, replicas, resources, environment and RBAC, so their
workloads are built here once and the components add what is particular to each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from catalog.model import Platform, Resources
from catalog.naming import (
    CATALOG_ENV,
    CATALOG_MOUNT,
    DATABASE_URL_ENV,
    HTTP_PORT_NAME,
    RuntimeService,
    health_path,
    labels,
    runtime_port,
    runtime_resource_name,
    selector,
    service_port,
)
from components.catalog_config import CHECKSUM_ANNOTATION, catalog_mount, catalog_volume
from components.meta import Manifest
from components.pods import container, env_from_secret, pod_spec, scratch_volume

__all__ = ["CatalogMount", "RuntimeWorkload", "runtime_deployment", "runtime_service"]

DATABASE_URL_KEY = "DATABASE_URL"
DATA_DIR_ENV = "MCPFLEET_DATA_DIR"
"""Runtime scratch (audit spill files) on the pod's ``/tmp`` emptyDir: the root is read-only."""


@dataclass(frozen=True)
class CatalogMount:
    """The catalog ConfigMap's file list and checksum, so pods mount it and roll with it."""

    files: dict[str, str]
    checksum: str


@dataclass(frozen=True)
class RuntimeWorkload:
    """What differs between runtime services; the rest is the same image and pod shape."""

    service: RuntimeService
    replicas: int
    resources: Resources
    catalog: CatalogMount
    database_secret: str
    env: Sequence[Manifest] = field(default_factory=tuple)
    extra_args: Sequence[str] = field(default_factory=tuple)
    service_account: str | None = None
    automount_token: bool = False


def runtime_deployment(platform: Platform, workload: RuntimeWorkload) -> Manifest:
    """Deployment spec: ``mcpfleet serve <service>`` with the catalog and ``DATABASE_URL``."""
    name = runtime_resource_name(workload.service)
    env = [
        env_from_secret(DATABASE_URL_ENV, workload.database_secret, DATABASE_URL_KEY),
        {"name": CATALOG_ENV, "value": CATALOG_MOUNT},
        {"name": "HOME", "value": "/tmp"},
        {"name": DATA_DIR_ENV, "value": "/tmp/mcpfleet"},
        *workload.env,
    ]
    app = container(
        "app",
        platform.images.runtime,
        args=["serve", workload.service, "--host", "0.0.0.0", *workload.extra_args],
        env=env,
        ports={HTTP_PORT_NAME: runtime_port(workload.service, platform)},
        resources=workload.resources,
        volume_mounts=[catalog_mount(), {"name": "tmp", "mountPath": "/tmp"}],
        probe_path=health_path(workload.service),
        probe_port=HTTP_PORT_NAME,
    )
    return {
        "replicas": workload.replicas,
        "selector": {"matchLabels": selector(name)},
        "template": {
            "metadata": {
                "labels": labels(workload.service, name),
                "annotations": {CHECKSUM_ANNOTATION: workload.catalog.checksum},
            },
            "spec": pod_spec(
                [app],
                service_account=workload.service_account,
                automount_token=workload.automount_token,
                volumes=[catalog_volume(workload.catalog.files), scratch_volume()],
            ),
        },
    }


def runtime_service(
    platform: Platform,
    service: RuntimeService,
    *,
    service_type: str = "ClusterIP",
    extra_ports: Sequence[Manifest] = (),
) -> Manifest:
    """Service spec: the seed's port (:func:`catalog.naming.service_port`) named ``http``,
    forwarded to the container's."""
    port = service_port(service, platform)
    return {
        "type": service_type,
        "selector": selector(runtime_resource_name(service)),
        "ports": [
            {"name": HTTP_PORT_NAME, "port": port, "targetPort": HTTP_PORT_NAME, "protocol": "TCP"},
            *extra_ports,
        ],
    }
