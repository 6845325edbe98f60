"""Runtime settings from the environment (and CLI flags), read once per process.

``DATABASE_URL`` picks an external PostgreSQL; without it the runtime starts the embedded
server in ``MCPFLEET_DATA_DIR``. The embedding dimension is not a setting of its own: it
follows the catalog (``platform.triage.embeddingModel`` → that model's ``dimension``) so
the vectors stored always match the model that makes them.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog import Catalog, load_catalog

__all__ = ["LogLevel", "Settings", "embedding_dimension"]

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Everything a runtime process needs to find its data and its catalog.

    Secrets (the database URL may carry a password) are ``SecretStr``: they never show in
    ``repr``, logs or error messages; call ``.get_secret_value()`` where they are used.
    """

    model_config = SettingsConfigDict(
        env_prefix="MCPFLEET_",
        extra="ignore",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "MCPFLEET_DATABASE_URL", "database_url"),
        description="External PostgreSQL; unset means the embedded server in data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".mcpfleet"),
        description="Local state: the embedded PostgreSQL cluster, audit spill files.",
    )
    catalog: Path = Field(default=Path("catalog"), description="The catalog directory.")
    server_dirs: tuple[Path, ...] = Field(
        default=(), description="Extra server-file directories (the local fleet's overlay)."
    )
    log_level: LogLevel = "INFO"
    embedding_dim: int | None = Field(
        default=None, ge=1, description="Override the dimension derived from the catalog."
    )
    token_cache_ttl: float = Field(
        default=5.0, ge=0, description="Seconds a verified token is trusted without the DB."
    )
    token_stale_ttl: float = Field(
        default=300.0,
        ge=0,
        description="While the DB is unreachable, seconds a verified token keeps working "
        "after its last check (never past its expiry).",
    )
    audit_arguments: bool = Field(
        default=False, description="Store tool-call argument values in the audit log."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Largest connection pool size.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def with_overrides(cls, **overrides: Any) -> Settings:
        """Settings from the environment, with CLI flags that were given (not None) on top."""
        return cls(**{key: value for key, value in overrides.items() if value is not None})

    @cached_property
    def loaded_catalog(self) -> Catalog:
        """The catalog, loaded on first use.

        Raises:
            catalog.CatalogError: listing every problem in it.
        """
        return load_catalog(self.catalog, server_dirs=self.server_dirs)

    def resolved_embedding_dim(self) -> int:
        """The override if set, otherwise the catalog's embedding model dimension."""
        if self.embedding_dim is not None:
            return self.embedding_dim
        return embedding_dimension(self.loaded_catalog)


def embedding_dimension(catalog: Catalog) -> int:
    """The dimension of ``platform.triage.embeddingModel`` (the catalog checks it has one)."""
    model = catalog.model(catalog.platform.triage.embedding_model)
    if model.dimension is None:  # the catalog's cross-checks make this unreachable
        raise ValueError(f"embedding model {model.name!r} declares no dimension")
    return model.dimension
