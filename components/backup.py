"""The nightly ``pg_dump`` of the fleet's database to an NFS export or a PVC.

A CronJob is used for both database engines: the catalog's targets (NFS, PVC) are plain
filesystems, which CloudNativePG's ``ScheduledBackup`` cannot write to (it needs an object
store or volume snapshots). The restricted Pod Security Standard forbids inline ``nfs``
volumes, so an NFS target becomes a static PersistentVolume bound to a claim.
"""

from __future__ import annotations

from catalog.model import Platform
from catalog.naming import database_host, database_resource_name, labels, runtime_port
from components.meta import Manifest
from components.pods import container, env_from_secret, pod_spec, scratch_volume
from components.secret_refs import DATABASE_PASSWORD_KEY

__all__ = ["POSTGRES_UID", "backup_claim", "backup_cronjob", "backup_name", "backup_volume"]

POSTGRES_UID = 999
"""The ``postgres`` user of the official PostgreSQL (and pgvector) images."""

_MOUNT = "/backup"
_SCRIPT = """set -eu
stamp=$(date -u +%Y%m%dT%H%M%SZ)
file="{mount}/${{PGDATABASE}}-${{stamp}}.dump"
pg_dump --format=custom --file="${{file}}.partial"
mv "${{file}}.partial" "${{file}}"
find {mount} -name "${{PGDATABASE}}-*.dump" -mtime +{keep} -delete
echo "backup written: ${{file}}"
"""


def backup_name() -> str:
    return f"{database_resource_name()}-backup"


def backup_volume(platform: Platform) -> Manifest | None:
    """The static NFS PersistentVolume, or ``None`` for a PVC target (provisioned normally)."""
    backup = platform.database.backup
    if backup.target != "nfs":
        return None
    return {
        "capacity": {"storage": backup.size or platform.database.size},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "",
        "mountOptions": ["nfsvers=4.1"],
        "nfs": {"server": backup.nfs_server, "path": backup.nfs_path},
        "claimRef": {"name": backup_name(), "namespace": platform.namespace.name},
    }


def backup_claim(platform: Platform) -> Manifest:
    backup = platform.database.backup
    if backup.target == "nfs":
        return {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeName": backup_name(),
            "resources": {"requests": {"storage": backup.size or platform.database.size}},
        }
    return {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": platform.storage_class,
        "resources": {"requests": {"storage": backup.size}},
    }


def backup_cronjob(platform: Platform, database_secret: str) -> Manifest:
    """CronJob spec: one dump at a time, old dumps pruned after ``retentionDays``."""
    db = platform.database
    env = [
        {"name": "PGHOST", "value": database_host(platform)},
        {"name": "PGPORT", "value": str(runtime_port("postgres", platform))},
        {"name": "PGUSER", "value": db.user},
        {"name": "PGDATABASE", "value": db.name},
        env_from_secret("PGPASSWORD", database_secret, DATABASE_PASSWORD_KEY),
    ]
    script = _SCRIPT.format(mount=_MOUNT, keep=db.backup.retention_days)
    dump = container(
        "pg-dump",
        db.image,
        command=["/bin/sh", "-c", script],
        env=env,
        resources=db.resources,
        volume_mounts=[
            {"name": "backup", "mountPath": _MOUNT},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    )
    return {
        "schedule": db.backup.schedule,
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "spec": {
                "backoffLimit": 2,
                "template": {
                    "metadata": {"labels": labels("backup", backup_name())},
                    "spec": pod_spec(
                        [dump],
                        uid=POSTGRES_UID,
                        fs_group=POSTGRES_UID,
                        restart_policy="OnFailure",
                        volumes=[
                            {
                                "name": "backup",
                                "persistentVolumeClaim": {"claimName": backup_name()},
                            },
                            scratch_volume(),
                        ],
                    ),
                },
            }
        },
    }
