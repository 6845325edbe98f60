"""PostgreSQL with pgvector: a StatefulSet, or a CloudNativePG ``Cluster``, plus backups."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Platform
from catalog.naming import (
    database_host,
    database_resource_name,
    labels,
    runtime_port,
    selector,
)
from components.backup import (
    POSTGRES_UID,
    backup_claim,
    backup_cronjob,
    backup_name,
    backup_volume,
)
from components.meta import Manifest, child_options, object_meta
from components.pods import (
    container,
    env_from_secret,
    pod_spec,
    resource_requirements,
    scratch_volume,
)
from components.secret_refs import DATABASE_PASSWORD_KEY

__all__ = ["VectorDatabase", "VectorDatabaseArgs", "cnpg_cluster", "postgres_statefulset"]

_COMPONENT = "postgres"
_DATA = "/var/lib/postgresql/data"
_CNPG_API = "postgresql.cnpg.io/v1"


@dataclass(frozen=True)
class VectorDatabaseArgs:
    platform: Platform
    namespace: pulumi.Input[str]
    credentials_secret: str
    """Secret with ``POSTGRES_PASSWORD`` (and ``username``/``password`` for CloudNativePG)."""


def postgres_statefulset(platform: Platform, credentials_secret: str) -> Manifest:
    """One PostgreSQL pod with its data on a PVC of the catalog's size and storage class."""
    db = platform.database
    name = database_resource_name()
    ready = ["pg_isready", "-h", "127.0.0.1", "-U", db.user, "-d", db.name]
    postgres = container(
        "postgres",
        db.image,
        env=[
            {"name": "POSTGRES_USER", "value": db.user},
            {"name": "POSTGRES_DB", "value": db.name},
            {"name": "PGDATA", "value": f"{_DATA}/pgdata"},
            env_from_secret("POSTGRES_PASSWORD", credentials_secret, DATABASE_PASSWORD_KEY),
        ],
        ports={"postgres": runtime_port("postgres", platform)},
        resources=db.resources,
        volume_mounts=[
            {"name": "data", "mountPath": _DATA},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    )
    postgres["readinessProbe"] = {"exec": {"command": ready}, "periodSeconds": 10}
    postgres["livenessProbe"] = {
        "exec": {"command": ready},
        "periodSeconds": 20,
        "failureThreshold": 6,
        "initialDelaySeconds": 30,
    }
    return {
        "serviceName": f"{name}-headless",
        "replicas": 1,
        "selector": {"matchLabels": selector(name)},
        "template": {
            "metadata": {"labels": labels(_COMPONENT, name)},
            "spec": pod_spec(
                [postgres],
                uid=POSTGRES_UID,
                fs_group=POSTGRES_UID,
                volumes=[scratch_volume("run", "64Mi"), scratch_volume()],
            ),
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data", "labels": labels(_COMPONENT, name)},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": platform.storage_class,
                    "resources": {"requests": {"storage": db.size}},
                },
            }
        ],
    }


def cnpg_cluster(platform: Platform, credentials_secret: str) -> Manifest:
    """A CloudNativePG ``Cluster`` bootstrapped with the fleet's owner, database and pgvector."""
    db = platform.database
    return {
        "instances": db.instances,
        "imageName": db.image,
        "storage": {"size": db.size, "storageClass": platform.storage_class},
        "bootstrap": {
            "initdb": {
                "database": db.name,
                "owner": db.user,
                "secret": {"name": credentials_secret},
                "postInitApplicationSQL": ["CREATE EXTENSION IF NOT EXISTS vector"],
            }
        },
        "resources": resource_requirements(db.resources),
    }


class VectorDatabase(pulumi.ComponentResource):
    """The database every runtime service shares, and its scheduled ``pg_dump``."""

    def __init__(
        self, name: str, args: VectorDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:VectorDatabase", name, None, opts)
        platform, ns = args.platform, args.namespace
        db = platform.database
        resource_name = database_resource_name()
        port = runtime_port("postgres", platform)
        if db.engine == "cloudnative-pg":
            if "cloudnative-pg" not in db.image:
                pulumi.log.warn(
                    f"database.image {db.image} is not a CloudNativePG operand image; "
                    "CloudNativePG needs e.g. ghcr.io/cloudnative-pg/postgresql:17-standard "
                    "(which ships pgvector)",
                    resource=self,
                )
            k8s.apiextensions.CustomResource(
                f"{name}-cluster",
                api_version=_CNPG_API,
                kind="Cluster",
                metadata=object_meta(resource_name, component=_COMPONENT, namespace=ns),
                spec=cnpg_cluster(platform, args.credentials_secret),
                opts=child_options(self),
            )
        else:
            if db.instances > 1:
                pulumi.log.warn(
                    f"database.instances is {db.instances} but engine `statefulset` runs one "
                    "PostgreSQL pod; use engine `cloudnative-pg` for replicas",
                    resource=self,
                )
            ports = [{"name": "postgres", "port": port, "targetPort": "postgres"}]
            k8s.core.v1.Service(
                f"{name}-headless",
                metadata=object_meta(
                    f"{resource_name}-headless",
                    component=_COMPONENT,
                    instance=resource_name,
                    namespace=ns,
                ),
                spec={
                    "clusterIP": "None",
                    "publishNotReadyAddresses": True,
                    "selector": selector(resource_name),
                    "ports": ports,
                },
                opts=child_options(self),
            )
            k8s.core.v1.Service(
                f"{name}-service",
                metadata=object_meta(resource_name, component=_COMPONENT, namespace=ns),
                spec={"selector": selector(resource_name), "ports": ports},
                opts=child_options(self),
            )
            k8s.apps.v1.StatefulSet(
                f"{name}-statefulset",
                metadata=object_meta(resource_name, component=_COMPONENT, namespace=ns),
                spec=postgres_statefulset(platform, args.credentials_secret),
                opts=child_options(self),
            )
        self._backup(name, args)
        self.host = database_host(platform)
        self.register_outputs({"host": self.host, "port": port})

    def _backup(self, name: str, args: VectorDatabaseArgs) -> None:
        volume = backup_volume(args.platform)
        depends: list[pulumi.Resource] = []
        if volume is not None:
            depends.append(
                k8s.core.v1.PersistentVolume(
                    f"{name}-backup-volume",
                    metadata=object_meta(backup_name(), component="backup"),
                    spec=volume,
                    opts=child_options(self),
                )
            )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-backup-claim",
            metadata=object_meta(backup_name(), component="backup", namespace=args.namespace),
            spec=backup_claim(args.platform),
            opts=child_options(self, depends_on=depends),
        )
        k8s.batch.v1.CronJob(
            f"{name}-backup",
            metadata=object_meta(backup_name(), component="backup", namespace=args.namespace),
            spec=backup_cronjob(args.platform, args.credentials_secret),
            opts=child_options(self, depends_on=[claim]),
        )
