"""The service's clock: the business day is Beijing time (Asia/Shanghai).

China has kept UTC+8 without daylight saving since 1991, so a fixed offset is
exact for every date this service accepts and needs no time-zone database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def business_today(now: datetime | None = None) -> date:
    """Today's date in Beijing (``now`` defaults to the current instant)."""
    return (now or datetime.now(UTC)).astimezone(BEIJING).date()
