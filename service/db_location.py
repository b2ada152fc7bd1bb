"""Where the database is: the one rule for its URL, and a light reader of it for the key commands.

:class:`service.settings.Settings` reads every ``IPRISK_`` variable with
pydantic-settings, which with its validators costs about a fifth of a second to
import and build.  ``iprisk keys`` needs only the database, so it reads the two
variables that locate it here, with the same rules: names in any case (as
pydantic-settings reads them), ``IPRISK_HOME`` expanded and made absolute, and only
``sqlite://`` or ``postgresql://`` URLs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("iprisk-data")
SCHEMES = ("sqlite", "postgresql")
BAD_SCHEME = "IPRISK_DATABASE_URL must be a sqlite:// or postgresql:// URL"


def check_scheme(url: str | None) -> str | None:
    """``url`` if it is a SQLite or PostgreSQL URL (or unset); ValueError otherwise."""
    if url is not None and not url.startswith(SCHEMES):
        raise ValueError(BAD_SCHEME)
    return url


def resolve_home(home: Path) -> Path:
    """The data directory as an absolute path (``~`` expanded)."""
    return home.expanduser().resolve()


def database_url(home: Path, url: str | None) -> str:
    """The SQLAlchemy URL in force: ``url`` (PostgreSQL through psycopg 3), else SQLite in ``home``."""
    if url:
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{home / 'iprisk.db'}"


@dataclass(frozen=True)
class DbLocation:
    """The data directory and the database URL, as the settings would give them."""

    home: Path
    database_url: str | None = None

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        return database_url(self.home, self.database_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DbLocation:
        """Read ``IPRISK_HOME`` and ``IPRISK_DATABASE_URL`` (ValueError on a URL of another kind)."""
        env = {k.lower(): v for k, v in (os.environ if environ is None else environ).items()}
        home = resolve_home(Path(env.get("iprisk_home", DEFAULT_HOME)))
        return cls(home=home, database_url=check_scheme(env.get("iprisk_database_url")))
