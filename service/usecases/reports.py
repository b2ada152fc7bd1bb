"""The quarterly report: its figures gathered from the book, the indicators and the registry, then rendered."""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlmodel import Session

from scoring.book import period_start
from service.errors import InvalidInput, Unavailable
from service.reports import quarterly
from service.reports.fonts import NoCjkFont, cjk_font
from service.usecases import book, indicators, transactions

ReportFormat = Literal["html", "pdf"]
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
HISTORY = 8
"""Quarter ends the chart of balance and NPL ratio goes back over."""


def gather(session: Session, period: str, *, today: date) -> quarterly.QuarterData:
    """Every figure of the quarter ``period`` (2026Q3); up to today while it runs."""
    if "Q" not in period:
        raise InvalidInput(f"{period!r} is not a quarter like 2026Q3", field="period")
    ind = indicators.indicators(session, period, today=today)
    first = period_start(period)
    since = date(first.year - (HISTORY // 4), first.month, 1)
    return quarterly.QuarterData(
        period=period,
        generated_on=today,
        indicators=ind,
        by_region=book.book_report(session, ["region"], as_of=ind.end, today=today),
        by_industry=book.book_report(session, ["industry"], as_of=ind.end, today=today),
        snapshots=book.snapshots(session, "quarterly", since=since, until=ind.end, today=today)[-HISTORY:],
        tolerance=book.tolerance_rows(session, period, today=today) if ind.end == book.end_of(period) else [],
        transactions=transactions.statistics(session, period, today=today),
    )


def render(session: Session, period: str, fmt: ReportFormat, *, today: date) -> tuple[bytes, str]:
    """The quarterly report as HTML or PDF bytes, with its media type; 503 without a CJK font."""
    data = gather(session, period, today=today)
    try:
        font = cjk_font()
    except NoCjkFont as exc:
        raise Unavailable(str(exc)) from exc
    if fmt == "pdf":
        return quarterly.to_pdf(data, font), MEDIA["pdf"]
    return quarterly.to_html(data, font).encode(), MEDIA["html"]
