"""The service's one clock: the instant in UTC, and the business day in Beijing time (Asia/Shanghai).

China has kept UTC+8 without daylight saving since 1991, so a fixed offset is
exact for every date this service accepts and needs no time-zone database.

:func:`system_now` is the only place that reads the system time.  The
application holds one :class:`Clock` (``service.state.AppState.clock``) and
hands it to requests (``service.deps.ClockDep``); a request reads it once
(``NowDep``) and derives its business day from that instant (``TodayDep``).
Tests swap it with ``create_app(settings, clock=...)`` or
``app.dependency_overrides``.  ``scoring`` never reads a clock: it is given dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def system_now() -> datetime:
    """The current instant, UTC-aware (the system clock)."""
    return datetime.now(UTC)


def business_today(now: datetime) -> date:
    """The date in Beijing at the instant ``now``."""
    return now.astimezone(BEIJING).date()


@dataclass(frozen=True)
class Clock:
    """Tells the time; ``source`` gives the current UTC-aware instant (default: the system clock)."""

    source: Callable[[], datetime] = system_now

    def now(self) -> datetime:
        """The current instant, UTC-aware."""
        return self.source().astimezone(UTC)

    def today(self) -> date:
        """Today's business date, Beijing time."""
        return business_today(self.now())

    @classmethod
    def fixed(cls, instant: datetime) -> Clock:
        """A clock stopped at ``instant`` (for tests and replays)."""
        return cls(lambda: instant)
