"""Working days under a holiday calendar: public holidays and make-up working days.

China moves working days around its public holidays (调休): a weekday can be a
holiday and a Saturday or Sunday can be a working day.  A
:class:`HolidayCalendar` holds both sets explicitly, so every function here is
pure; :func:`build_calendar` fills it from the ``chinese_calendar`` package
(public holidays and make-up days for the years it covers) plus overrides from
data (a fund's own closures, or years the package does not cover yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from scoring.vocab import FROZEN

CONFIG_FILE = Path(__file__).parent / "config" / "calendar.yaml"


class CalendarOverrides(BaseModel):
    """Days to add to the package's calendar: extra holidays and extra working days."""

    model_config = FROZEN
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


class HolidayCalendar(BaseModel):
    """Which days are working days.

    A day is a working day when it is a listed make-up working day, or when it
    is not a weekend day and not a listed holiday.
    """

    model_config = FROZEN
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = Field(default=frozenset(), description="Make-up working days (调休上班).")
    weekend: frozenset[int] = Field(default=frozenset({5, 6}), description="ISO weekday - 1 (5 = Saturday).")


def is_working_day(day: date, calendar: HolidayCalendar) -> bool:
    """Whether ``day`` is a working day under ``calendar``."""
    if day in calendar.workdays:
        return True
    return day.weekday() not in calendar.weekend and day not in calendar.holidays


def working_days_between(start: date, end: date, calendar: HolidayCalendar) -> int:
    """Working days after ``start`` up to and including ``end``.

    Parameters
    ----------
    start
        The day the clock starts (e.g. the default date); it never counts itself.
    end
        The last day counted (e.g. the filing date).
    calendar
        Holidays and make-up working days.

    Returns
    -------
    int
        Number of working days in ``(start, end]``; 0 when ``end <= start``.
    """
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    weekdays = weeks * (7 - len(calendar.weekend)) + sum(
        (start + timedelta(days=i)).weekday() not in calendar.weekend for i in range(1, extra + 1)
    )
    # count in O(listed days), not O(days in range): a claim may be decades late
    off = sum(
        start < d <= end and d.weekday() not in calendar.weekend and d not in calendar.workdays
        for d in calendar.holidays
    )
    made_up = sum(start < d <= end and d.weekday() in calendar.weekend for d in calendar.workdays)
    return weekdays - off + made_up


def add_working_days(start: date, n: int, calendar: HolidayCalendar) -> date:
    """The date ``n`` working days after ``start`` (``start`` itself never counts).

    Parameters
    ----------
    start
        Day the clock starts.
    n
        Working days to add (≥ 0).
    calendar
        Holidays and make-up working days.

    Returns
    -------
    date
        The ``n``-th working day after ``start`` (``start`` when ``n == 0``).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    day, left = start, n
    while left:
        day += timedelta(days=1)
        left -= is_working_day(day, calendar)
    return day


def build_calendar(
    holidays: Iterable[date], workdays: Iterable[date], overrides: CalendarOverrides | None = None
) -> HolidayCalendar:
    """A calendar from published holidays and make-up days, with overrides applied last.

    An override holiday removes the day from the make-up days and the other way round.
    """
    hol, work = set(holidays), set(workdays)
    if overrides is not None:
        hol = (hol | set(overrides.holidays)) - set(overrides.workdays)
        work = (work | set(overrides.workdays)) - set(overrides.holidays)
    return HolidayCalendar(holidays=frozenset(hol), workdays=frozenset(work))


def load_overrides(path: Path | None = None) -> CalendarOverrides:
    """Read calendar overrides from YAML (default: the bundled ``calendar.yaml``)."""
    raw: Mapping[str, Any] | None = yaml.safe_load((path or CONFIG_FILE).read_text(encoding="utf-8"))
    return CalendarOverrides.model_validate(raw or {})


def chinese_calendar(overrides: CalendarOverrides | None = None) -> HolidayCalendar:
    """China's calendar from the ``chinese_calendar`` package plus ``overrides``.

    Years the package does not cover fall back to Monday–Friday unless the
    overrides list their holidays.
    """
    import chinese_calendar as cc  # published data, read once at start-up

    return build_calendar(cc.holidays.keys(), cc.workdays.keys(), overrides)
