"""The catalog ConfigMap holds exactly the catalog, and loads back into the same model."""

from __future__ import annotations

from pathlib import Path

from catalog import Catalog, load_catalog
from catalog.naming import CATALOG_CONFIGMAP
from components.catalog_config import (
    CatalogConfig,
    CatalogConfigArgs,
    catalog_checksum,
    catalog_files,
    catalog_volume,
    size_warning,
)

from .conftest import REMOTE, render, with_servers


def _materialise(files: dict[str, str], volume: dict, root: Path) -> Path:
    """Lay the files out the way the kubelet projects the ConfigMap volume."""
    for item in volume["configMap"]["items"]:
        target = root / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files[item["key"]])
    return root


def test_the_mounted_files_load_back_into_an_equal_catalog(
    shipped: Catalog, tmp_path: Path
) -> None:
    catalog = with_servers(shipped, REMOTE)
    files = catalog_files(catalog)
    loaded = load_catalog(_materialise(files, catalog_volume(files), tmp_path))
    assert loaded.platform == catalog.platform
    assert loaded.models == catalog.models
    assert loaded.servers == tuple(sorted(catalog.servers, key=lambda s: s.name))


def test_the_config_map_carries_every_file_and_its_checksum(shipped: Catalog) -> None:
    rendering = render(lambda: CatalogConfig("cat", CatalogConfigArgs(shipped, "mcp-system")))
    config_map = rendering.find("ConfigMap", CATALOG_CONFIGMAP).manifest
    assert set(config_map["data"]) == {
        "platform.yaml",
        "models.yaml",
        *(f"servers.{s.name}.yaml" for s in shipped.servers),
    }
    checksum = catalog_checksum(catalog_files(shipped))
    assert config_map["metadata"]["annotations"]["mcpfleet.io/catalog-checksum"] == checksum


def test_a_catalog_change_changes_the_checksum_that_rolls_the_pods(shipped: Catalog) -> None:
    before = catalog_checksum(catalog_files(shipped))
    after = catalog_checksum(catalog_files(with_servers(shipped, REMOTE)))
    assert before != after


def test_a_catalog_too_big_for_one_configmap_is_warned_about(shipped: Catalog) -> None:
    files = catalog_files(shipped)
    assert size_warning(files) is None
    files["servers.huge.yaml"] = "x" * 1_000_000
    assert "1 MiB limit" in (size_warning(files) or "")
