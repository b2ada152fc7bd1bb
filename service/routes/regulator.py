"""The regulator's read-only view: portfolio, monitoring, model inventory, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Query, Response

from scoring.book import BookDim, Frequency
from service.deps import (
    AuditDep,
    BundleDep,
    ConfigDep,
    LangDep,
    MetricsDep,
    ModelCardsDep,
    MonitorDep,
    NowDep,
    RegulatorDep,
    SessionDep,
    StoreDep,
    TodayDep,
)
from service.reports.exports import MEDIA, ExportFormat
from service.routing import api_router
from service.schemas.book import BookReport, BookSnapshot, ToleranceRow
from service.schemas.regulator import (
    AuditCheck,
    AuditCheckpoint,
    DriftReport,
    FundStatistics,
    GroupBy,
    ModelCard,
    ModelInventory,
    OfficialIndicators,
    PerformanceReport,
    PortfolioReport,
)
from service.usecases import book, indicators, inventory, portfolio, regulator, reports
from service.usecases.funds import statistics as fund_stats
from service.usecases.monitoring import performance_report
from service.usecases.reports import ReportFormat

FILE: dict[str, Any] = {
    "description": "The file, as an attachment.",
    "content": {m.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()},
}


def attachment(body: bytes, media: str, name: str) -> Response:
    """A file answer the browser saves as ``name``."""
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


router = api_router("/v1/regulator", "regulator", 401, 403, 404, 422, 503)
Days = Annotated[int, Query(ge=1, le=3650, description="Window of recent traffic, days.")]
KeptSeq = Annotated[int | None, Query(ge=1, description="Entry of a checkpoint you kept (with hash).")]
ByDims = Annotated[
    list[BookDim] | None,
    Query(
        max_length=2,
        description="Up to two dimensions to cross: bank, region, industry, patent_type, ticket_band, vintage.",
    ),
]
KeptHash = Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="Its hash, hex (with seq).")]


@router.get("/portfolio")
def get_portfolio(session: SessionDep, _: RegulatorDep, today: TodayDep, group_by: GroupBy = "bank") -> PortfolioReport:
    """Loans, amounts, ticket bands, PD, EL, NPL rate, collateral and LTV by group, with a monthly series."""
    return portfolio.portfolio_report(session, group_by, today=today)


@router.get("/portfolio/export", response_class=Response, responses={200: FILE})
def export_portfolio(
    session: SessionDep,
    _: RegulatorDep,
    today: TodayDep,
    group_by: GroupBy = "bank",
    format: ExportFormat = "csv",
) -> Response:
    """The portfolio statistics as CSV (UTF-8 with BOM), Parquet or XLSX with Chinese headers, for publication."""
    body, media = portfolio.export(portfolio.portfolio_report(session, group_by, today=today), format)
    return attachment(body, media, f"iprisk-portfolio-{group_by}.{format}")


@router.get("/book")
def get_book(
    session: SessionDep, _: RegulatorDep, today: TodayDep, lang: LangDep, by: ByDims = None, as_of: date | None = None
) -> BookReport:
    """Outstanding balance, balance by class and NPL ratio (NPL balance ÷ balance) on a day, crossed by up to two."""
    return book.book_report(session, by or [], as_of=as_of, today=today, lang=lang)


@router.get("/book/export", response_class=Response, responses={200: FILE})
def export_book(
    session: SessionDep,
    _: RegulatorDep,
    today: TodayDep,
    by: ByDims = None,
    as_of: date | None = None,
    format: ExportFormat = "csv",
) -> Response:
    """The book on a day as CSV (UTF-8 with BOM), Parquet or XLSX with Chinese headers and labels."""
    body, media = book.export_book(session, by or [], format, as_of=as_of, today=today)
    return attachment(body, media, f"iprisk-book-{'-'.join(by or ['total'])}.{format}")


@router.get("/book/snapshots")
def get_book_snapshots(
    session: SessionDep,
    _: RegulatorDep,
    today: TodayDep,
    frequency: Frequency = "quarterly",
    since: date | None = None,
    until: date | None = None,
) -> list[BookSnapshot]:
    """The book's balance and NPL ratio at every month or quarter end."""
    return book.snapshots(session, frequency, since=since, until=until, today=today)


@router.get("/tolerance/{period}")
def get_tolerance(period: str, session: SessionDep, _: RegulatorDep, today: TodayDep) -> list[ToleranceRow]:
    """Per bank: IP-pledge NPL ratio against its reported overall ratio; within 3 points is not penalised."""
    return book.tolerance_rows(session, period, today=today)


@router.get("/indicators/{period}")
def get_indicators(period: str, session: SessionDep, _: RegulatorDep, today: TodayDep) -> OfficialIndicators:
    """The published indicators of a quarter (2026Q3) or month (2026-09): lending, balance, enterprises, rates."""
    return indicators.indicators(session, period, today=today)


@router.get(
    "/reports/{period}",
    response_class=Response,
    responses={200: {"description": "The report.", "content": {"text/html": {}, "application/pdf": {}}}},
)
def get_report(
    period: str, session: SessionDep, _: RegulatorDep, today: TodayDep, format: ReportFormat = "html"
) -> Response:
    """The quarterly report in Chinese (2026Q3), as HTML or PDF: indicators, tables, charts."""
    body, media = reports.render(session, period, format, today=today)
    return attachment(body, media, f"iprisk-report-{period}.{format}")


@router.get("/funds")
def get_funds(session: SessionDep, _: RegulatorDep) -> list[FundStatistics]:
    """Every fund: pool vs committed lines, claims by status, paid and recovered by party, utilisation."""
    return fund_stats.all_fund_statistics(session)


@router.get("/monitoring/drift")
def get_drift(
    session: SessionDep,
    _: RegulatorDep,
    bundle: BundleDep,
    metrics: MetricsDep,
    monitor: MonitorDep,
    now: NowDep,
    days: Days = 30,
) -> list[DriftReport]:
    """PSI per input and for the score, training reference vs recent traffic (bands 0.10 / 0.25)."""
    reports = regulator.drift_all(session, bundle, metrics, days=days, now=now)
    monitor.record(reports)
    return reports


@router.get("/monitoring/performance")
def get_performance(
    session: SessionDep, _: RegulatorDep, config: ConfigDep, today: TodayDep, as_of: date | None = None
) -> PerformanceReport:
    """Realised default rate by grade vs expected (binomial test) and AUC on matured loans."""
    return performance_report(session, config.grades, as_of=as_of or today)


@router.get("/models")
def get_models(store: StoreDep, _: RegulatorDep) -> ModelInventory:
    """Every model and version with its manifest facts, aliases and who moved them when."""
    return inventory.inventory(store)


@router.get("/models/{name}/champion")
def get_champion_at(name: str, store: StoreDep, _: RegulatorDep, at: datetime) -> dict[str, object]:
    """Which version was champion at a given instant."""
    when = at if at.tzinfo else at.replace(tzinfo=UTC)
    return inventory.champion_at(store, name, when)


@router.get("/models/{name}/{version}/card")
def get_model_card(
    name: str, version: str, store: StoreDep, cards: ModelCardsDep, lang: LangDep, _: RegulatorDep
) -> ModelCard:
    """The model card of one version, in the language asked for (Accept-Language)."""
    return inventory.model_card(store, cards[lang], name, version, lang=lang)


@router.get("/audit/verify")
def verify_audit(
    session: SessionDep, _: RegulatorDep, keeper: AuditDep, seq: KeptSeq = None, hash: KeptHash = None
) -> AuditCheck:
    """Recompute the audit hash chain, check it against the signed checkpoints (and yours); name any problem."""
    return regulator.check_audit(session, keeper, seq=seq, digest=hash)


@router.get("/audit/checkpoints")
def get_audit_checkpoints(_: RegulatorDep, keeper: AuditDep) -> list[AuditCheckpoint]:
    """The signed checkpoints of the audit chain, oldest first: keep a copy to verify against later."""
    return regulator.export_checkpoints(keeper)
