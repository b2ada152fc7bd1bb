"""The business day is Beijing time (UTC+8, no daylight saving), whatever the server's zone."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from scoring.types import FieldError, Patent
from service.clock import Clock, business_today
from service.deps import get_today
from service.schemas.scoring import EXAMPLE_PATENT, check_dated


def test_the_business_day_turns_at_midnight_in_beijing_not_in_utc() -> None:
    assert business_today(datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)) == date(2026, 11, 30)
    assert business_today(datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC)) == date(2026, 12, 1)  # 00:00 in Beijing


def test_the_same_instant_gives_the_same_day_in_any_zone() -> None:
    instant = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 July in Beijing
    new_york = instant.astimezone(timezone(timedelta(hours=-4)))
    assert business_today(instant) == business_today(new_york) == date(2026, 7, 1)


def test_a_request_without_a_date_is_judged_on_todays_beijing_date() -> None:
    instant = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Beijing
    today = asyncio.run(get_today(Clock.fixed(instant).now()))  # the day a request without a date gets
    assert today == date(2026, 12, 1)
    granted_today = Patent(**{**EXAMPLE_PATENT, "grant_date": today.isoformat()})
    check_dated([granted_today], today)  # a fact of today is known today: accepted
    granted_tomorrow = Patent(**{**EXAMPLE_PATENT, "grant_date": (today + timedelta(days=1)).isoformat()})
    with pytest.raises(FieldError) as refused:
        check_dated([granted_tomorrow], today)
    assert refused.value.field == "patents.0.grant_date" and str(today) in refused.value.problem
