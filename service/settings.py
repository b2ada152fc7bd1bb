"""Service settings, from environment variables prefixed ``IPRISK_``.

One data directory, ``IPRISK_HOME`` (default ``./iprisk-data``), holds the
SQLite database, the model store, the bundled synthetic portfolio and reports,
unless their own settings point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _usable_cores() -> int:
    """Cores this process may run on (its affinity where the platform has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


class Settings(BaseSettings):
    """Everything the service and the CLI need to know about their environment."""

    model_config = SettingsConfigDict(env_prefix="IPRISK_", extra="ignore")

    home: Path = Field(default=Path("iprisk-data"), description="Data directory.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home.")
    model_store: Path | None = Field(default=None, description="Model store root; default home/models.")
    config_dir: Path | None = Field(default=None, description="Overrides for the bundled YAML configuration.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    reload_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    bootstrap_loans: int = Field(default=40_000, ge=500, le=1_000_000)
    bootstrap_seed: int = 20240601
    batch_max_items: int = Field(default=100, ge=1, le=10_000)
    max_patents_per_request: int = Field(default=50, ge=1, le=1000)
    demo_key: SecretStr | None = Field(default=None, description="Fixed demo key (else random).")
    drift_interval_seconds: float = Field(default=300.0, gt=0, le=86_400)
    drift_window_days: int = Field(default=30, ge=1, le=3650)
    sqlite_checkpoint_interval_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="Background WAL checkpoints of the SQLite database.")
    spare_core_threads: int = Field(
        default_factory=lambda: 1 if _usable_cores() >= 2 else 0, ge=0, le=4,
        description="Helper threads that share the valuation SHAP of an assessment or a valuation when it is the "
                    "only request in flight (0: all on the request's thread). Default 1 where two cores are usable.")
    log_level: str = "INFO"
    actor: str = Field(default="cli", description="Who the CLI acts as in model history.")

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("IPRISK_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return v

    @model_validator(mode="after")
    def _absolute_home(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        return self

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        return f"sqlite:///{self.home / 'iprisk.db'}"

    @property
    def store_path(self) -> Path:
        """The model store root in force."""
        return (self.model_store or self.home / "models").expanduser().resolve()

    @property
    def data_path(self) -> Path:
        """Where the bundled synthetic portfolio is generated."""
        return self.home / "data"

    @property
    def reports_path(self) -> Path:
        """Where training reports go."""
        return self.home / "reports"
