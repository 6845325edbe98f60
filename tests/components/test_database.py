"""PostgreSQL + pgvector as a StatefulSet or a CloudNativePG Cluster, with nightly dumps."""

from __future__ import annotations

from catalog import Catalog
from components.database import VectorDatabase, VectorDatabaseArgs
from components.render import Rendering

from .conftest import render, with_platform

SECRET = "mcpfleet-secrets-database"


def _render(catalog: Catalog) -> Rendering:
    return render(
        lambda: VectorDatabase("db", VectorDatabaseArgs(catalog.platform, "mcp-system", SECRET))
    )


def test_statefulset_keeps_data_on_a_claim_of_the_catalog_size_and_class(shipped: Catalog) -> None:
    rendering = _render(shipped)
    spec = rendering.find("StatefulSet", "postgres-vector-db").manifest["spec"]
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert claim["spec"]["storageClassName"] == "local-path"
    assert spec["serviceName"] == "postgres-vector-db-headless"
    postgres = spec["template"]["spec"]["containers"][0]
    assert postgres["image"] == "pgvector/pgvector:0.8.1-pg17"
    password = next(e for e in postgres["env"] if e["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": "POSTGRES_PASSWORD"}
    assert rendering.find("Service", "postgres-vector-db-headless").manifest["spec"][
        "clusterIP"
    ] == ("None")


def test_nfs_backups_use_a_static_volume_because_restricted_pods_cannot_mount_nfs(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped)
    volume = rendering.find("PersistentVolume", "postgres-vector-db-backup").manifest["spec"]
    assert volume["nfs"] == {"server": "10.30.0.5", "path": "/mnt/tank/backups/mcpfleet"}
    claim = rendering.find("PersistentVolumeClaim", "postgres-vector-db-backup").manifest["spec"]
    assert claim["volumeName"] == "postgres-vector-db-backup"
    assert claim["storageClassName"] == ""
    cron = rendering.find("CronJob", "postgres-vector-db-backup").manifest["spec"]
    assert cron["schedule"] == "0 3 * * *"
    assert cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    script = pod["containers"][0]["command"][-1]
    assert "pg_dump --format=custom" in script
    assert "-mtime +14 -delete" in script
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["backup"] == {
        "name": "backup",
        "persistentVolumeClaim": {"claimName": "postgres-vector-db-backup"},
    }


def test_a_pvc_backup_target_is_provisioned_from_the_storage_class(shipped: Catalog) -> None:
    catalog = with_platform(
        shipped,
        database=shipped.platform.database.model_copy(
            update={
                "backup": shipped.platform.database.backup.model_copy(
                    update={"target": "pvc", "size": "50Gi"}
                )
            }
        ),
    )
    rendering = _render(catalog)
    assert rendering.of_kind("PersistentVolume") == []
    claim = rendering.find("PersistentVolumeClaim", "postgres-vector-db-backup").manifest["spec"]
    assert claim["storageClassName"] == "local-path"
    assert claim["resources"]["requests"]["storage"] == "50Gi"


def test_cloudnative_pg_bootstraps_the_database_with_pgvector_from_the_same_secret(
    shipped: Catalog,
) -> None:
    catalog = with_platform(
        shipped,
        database={
            "engine": "cloudnative-pg",
            "instances": 3,
            "image": "ghcr.io/cloudnative-pg/postgresql:17-standard-bookworm",
        },
    )
    rendering = _render(catalog)
    assert rendering.of_kind("StatefulSet") == []
    spec = rendering.find("Cluster", "postgres-vector-db").manifest["spec"]
    assert spec["instances"] == 3
    assert spec["storage"] == {"size": "100Gi", "storageClass": "local-path"}
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["secret"] == {"name": SECRET}
    assert initdb["postInitApplicationSQL"] == ["CREATE EXTENSION IF NOT EXISTS vector"]
    env = rendering.find("CronJob", "postgres-vector-db-backup").manifest["spec"]["jobTemplate"]
    container = env["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "PGHOST", "value": "postgres-vector-db-rw"} in container["env"]
    assert rendering.warnings == []


def test_unsupported_settings_are_warned_about_not_silently_dropped(shipped: Catalog) -> None:
    replicas = _render(with_platform(shipped, database={"instances": 2}))
    assert any("runs one PostgreSQL pod" in w for w in replicas.warnings)
    image = _render(with_platform(shipped, database={"engine": "cloudnative-pg"}))
    assert any("not a CloudNativePG operand image" in w for w in image.warnings)
