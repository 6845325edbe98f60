"""Runtime settings: environment names, CLI overrides, the catalog's embedding dimension."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime.settings import Settings

from ..conftest import SHIPPED_CATALOG


def test_settings_come_from_the_documented_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:hunter2@db/mcpfleet")
    monkeypatch.setenv("MCPFLEET_DATA_DIR", "/var/lib/mcpfleet")
    monkeypatch.setenv("MCPFLEET_CATALOG", "/etc/mcpfleet/catalog")
    monkeypatch.setenv("MCPFLEET_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://app:hunter2@db/mcpfleet"
    assert settings.data_dir == Path("/var/lib/mcpfleet")
    assert settings.catalog == Path("/etc/mcpfleet/catalog")
    assert settings.log_level == "DEBUG"


def test_the_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "MCPFLEET_DATA_DIR", "MCPFLEET_CATALOG", "MCPFLEET_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url is None
    assert (settings.data_dir, settings.catalog) == (Path(".mcpfleet"), Path("catalog"))
    assert settings.token_cache_ttl == 5.0 and settings.audit_arguments is False


def test_the_database_password_never_shows_in_repr_or_str(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:hunter2@db/mcpfleet")
    settings = Settings()
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)


def test_cli_flags_override_the_environment_only_when_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCPFLEET_DATA_DIR", "/from/env")
    assert Settings.with_overrides(data_dir=None).data_dir == Path("/from/env")
    assert Settings.with_overrides(data_dir=Path("/from/flag")).data_dir == Path("/from/flag")


def test_the_embedding_dimension_follows_the_catalogs_embedding_model(tmp_path: Path) -> None:
    assert Settings(catalog=SHIPPED_CATALOG).resolved_embedding_dim() == 384
    other = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, other, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    platform = other / "platform.yaml"
    platform.write_text(
        platform.read_text().replace("embeddingModel: minilm", "embeddingModel: nomic-embed")
    )
    assert Settings(catalog=other).resolved_embedding_dim() == 768
    assert Settings(catalog=other, embedding_dim=16).resolved_embedding_dim() == 16


def test_a_bad_log_level_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPFLEET_LOG_LEVEL", "loud")
    with pytest.raises(ValidationError, match="log_level"):
        Settings()
