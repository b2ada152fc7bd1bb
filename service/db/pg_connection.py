"""The psycopg connection that bounds every wait on the server (see :mod:`service.db.limits`).

Its own module so that psycopg is imported only for a PostgreSQL URL: a SQLite
command (``iprisk keys create``) does not pay for loading it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors as pg_errors


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server ends within ``io_timeout`` seconds.

    ``io_timeout`` is set per connection (``None``: wait as psycopg does);
    migrations lift it while they run without a statement timeout.
    """

    io_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        """Consume ``gen`` like psycopg, but close the connection if the server does not answer in time."""
        limit = timeout if timeout is not None else self.io_timeout
        try:
            return super().wait(gen, interval, limit)
        except pg_errors._WaitTimeout:  # psycopg's own (private) signal that the wait expired
            if timeout is not None:
                raise  # psycopg's own deadline (e.g. a cancel request): psycopg handles it
            self.close()  # mid-protocol: it cannot be used again, and SQLAlchemy then discards it
            raise psycopg.OperationalError(f"the database did not answer within {limit:g} s") from None
