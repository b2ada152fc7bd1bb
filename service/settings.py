"""Service settings, from environment variables prefixed ``IPRISK_``.

One data directory, ``IPRISK_HOME`` (default ``./iprisk-data``), holds the
SQLite database, the model store, the bundled synthetic portfolio and reports,
unless their own settings point elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scoring.patent_ids import PatentIdMode
from service.db_location import DEFAULT_HOME, check_scheme, database_url, resolve_home

# The most batch items any configuration may allow: also the schema's bound, so an oversize
# list is refused while parsing, before each item is validated (service/schemas/scoring.py).
BATCH_ITEMS_CEILING = 10_000


class Settings(BaseSettings):
    """Everything the service and the CLI need to know about their environment."""

    model_config = SettingsConfigDict(env_prefix="IPRISK_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="Data directory.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home.")
    model_store: Path | None = Field(default=None, description="Model store root; default home/models.")
    config_dir: Path | None = Field(default=None, description="Overrides for the bundled YAML configuration.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    reload_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    bootstrap_loans: int = Field(default=40_000, ge=500, le=1_000_000)
    bootstrap_seed: int = 20240601
    batch_max_items: int = Field(default=100, ge=1, le=BATCH_ITEMS_CEILING)
    max_patents_per_request: int = Field(default=50, ge=1, le=1000)
    patent_ids: PatentIdMode = Field(
        default="cn_only",
        description="cn_only: only Chinese application/patent numbers (check digit verified); allow_other: "
        "also other offices' or legacy numbers, compared as upper case without spaces (docs/patent-identity.md).",
    )
    demo_key: SecretStr | None = Field(default=None, description="Fixed demo key (else random).")
    drift_interval_seconds: float = Field(default=300.0, gt=0, le=86_400)
    drift_window_days: int = Field(default=30, ge=1, le=3650)
    revalue_interval_seconds: float = Field(
        default=86_400.0, ge=0, le=30 * 86_400, description="Book revaluation every so many seconds; 0 turns it off."
    )
    watch_fee_due_days: int = Field(
        default=30, ge=0, le=366, description="Alert on an annual fee due within so many days."
    )
    watch_value_fall_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Alert when a loan's pledge value fell by more than this share since booking.",
    )
    sqlite_checkpoint_interval_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="Background WAL checkpoints of the SQLite database."
    )
    # --- hardening (issue 15): request limits -------------------------------------------------
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Largest request body, enforced while reading (413 beyond).",
    )
    rate_limit_per_minute: int = Field(
        default=1200, ge=0, le=1_000_000, description="Requests per API key per minute on this replica (0: off)."
    )
    rate_limit_burst: int = Field(default=120, ge=1, le=100_000, description="Requests a key may send at once.")
    limit_concurrency: int = Field(
        default=256, ge=1, le=100_000, description="Connections and tasks served at once; beyond it a quick 503."
    )
    timeout_keep_alive_seconds: float = Field(default=5.0, gt=0, le=600, description="Idle keep-alive timeout.")
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Longest wait for the rest of a request body (408 beyond)."
    )
    ops_public: bool = Field(default=False, description="/metrics and readiness details without a key.")
    demo: bool = Field(
        default=True,
        description="Create and print a demo bank key when the service bootstraps "
        "its own synthetic models on SQLite (never with a database URL).",
    )
    # --- hardening (issue 15): database ---------------------------------------------------------
    db_statement_timeout_ms: int = Field(default=15_000, ge=100, le=3_600_000)
    db_lock_timeout_ms: int = Field(default=5_000, ge=10, le=3_600_000)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    db_connect_timeout_seconds: int = Field(default=3, ge=1, le=600)
    db_idle_session_timeout_ms: int = Field(
        default=600_000, ge=1000, le=86_400_000, description="PostgreSQL idle_in_transaction_session_timeout."
    )
    # --- hardening (issue 15): signed models and audit anchoring ------------------------------
    model_signing_key: SecretStr | None = Field(
        default=None, description="HMAC key that signs model manifests (else model_signing_key_file)."
    )
    model_signing_key_file: Path | None = Field(
        default=None, description="File holding the model signing key; default home/keys/model-signing.key."
    )
    audit_key_file: Path | None = Field(
        default=None, description="File holding the audit checkpoint key; default home/keys/audit.key."
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="Where signed audit checkpoints go (outside the database); default home/audit-checkpoints.",
    )
    audit_seal_interval_seconds: float = Field(
        default=0.5, gt=0, le=3600, description="How often committed audit entries are chained."
    )
    audit_checkpoint_interval_seconds: float = Field(default=60.0, gt=0, le=86_400)
    log_level: str = "INFO"
    actor: str = Field(default="cli", description="Who the CLI acts as in model history.")

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str | None) -> str | None:
        return check_scheme(v)

    @model_validator(mode="after")
    def _absolute_home(self) -> Settings:
        self.home = resolve_home(self.home)
        return self

    @property
    def db_url(self) -> str:
        """The database URL in force (the rule is :func:`service.db_location.database_url`)."""
        return database_url(self.home, self.database_url)

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
