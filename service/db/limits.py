"""How long the service waits for its database, and the connection that enforces it client-side.

PostgreSQL enforces ``statement_timeout``, ``lock_timeout`` and
``idle_in_transaction_session_timeout`` itself, but only for a server that
runs: a server that is stopped (SIGSTOP, a frozen VM) or a network that
swallows packets leaves the client waiting on its socket for ever, because
the kernel still acknowledges what is sent.  :class:`~service.db.pg_connection.DeadlineConnection`
bounds every network wait of a connection to :attr:`DbLimits.io_timeout_seconds`;
past it the connection is closed and the caller gets an ``OperationalError``
like any other lost connection (SQLAlchemy then discards it from the pool).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.settings import Settings

# Beyond the server's own statement timeout, the time a network wait may take before the
# client gives up: the server's cancellation, when it runs, arrives well within it.
IO_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class DbLimits:
    """Timeouts of one engine; the defaults are the settings' defaults (``IPRISK_DB_*``).

    On SQLite, ``lock_timeout_ms`` bounds the wait for the write lock (busy
    timeout, and the in-process writer queue); the others are PostgreSQL's.
    """

    statement_timeout_ms: int = 15_000
    lock_timeout_ms: int = 5_000
    idle_session_timeout_ms: int = 600_000
    connect_timeout_seconds: int = 3
    pool_timeout_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DbLimits:
        """The limits set by ``IPRISK_DB_*``: each field is the setting of its name prefixed ``db_``."""
        return cls(**{f.name: getattr(settings, f"db_{f.name}") for f in fields(cls)})

    @property
    def io_timeout_seconds(self) -> float:
        """Longest client-side wait for one answer of the server (statement timeout plus a margin)."""
        return self.statement_timeout_ms / 1000 + IO_MARGIN_SECONDS

    def postgres_connect_args(self) -> dict[str, Any]:
        """psycopg connection arguments: server-side timeouts as start-up options, a connect timeout."""
        options = (
            f"-c statement_timeout={self.statement_timeout_ms} -c lock_timeout={self.lock_timeout_ms} "
            f"-c idle_in_transaction_session_timeout={self.idle_session_timeout_ms}"
        )
        return {"options": options, "connect_timeout": self.connect_timeout_seconds, "application_name": "iprisk"}
