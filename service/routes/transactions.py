"""The IP-transaction registry: registrations, technology turnover, statistics and observed prices."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from service.deps import (
    BundleDep,
    DataFeedDep,
    OnceDep,
    PriceReaderDep,
    RegulatorDep,
    SessionDep,
    TodayDep,
    TransactionReaderDep,
    TransactionWriterDep,
)
from service.reports.exports import ExportFormat
from service.routes.regulator import FILE, attachment
from service.routing import api_router
from service.schemas.transactions import (
    PriceDrift,
    TransactionCreate,
    TransactionPublic,
    TransactionStatistics,
    TurnoverCreate,
    TurnoverPublic,
)
from service.usecases import transactions as uc

router = api_router("/v1/transactions", "transactions", 401, 403, 404, 422, 503)
Days = Annotated[int, Query(ge=1, le=3650, description="Window of recent registrations, days.")]


@router.post("", status_code=201, response_model=TransactionPublic)
def register_transaction(
    body: TransactionCreate, session: SessionDep, principal: TransactionWriterDep, today: TodayDep, once: OnceDep
) -> Response:
    """Register a transfer, licence, pledge registration or release, disposal sale or capital contribution."""
    return once.run(principal, body, lambda: uc.register(session, principal, body, today=today))


@router.post("/turnover", status_code=201, response_model=TurnoverPublic)
def report_turnover(
    body: TurnoverCreate, session: SessionDep, principal: DataFeedDep, today: TodayDep, once: OnceDep
) -> Response:
    """Feed a period's technology-contract turnover (技术合同成交额), the denominator of the seed's share."""
    return once.run(principal, body, lambda: uc.report_turnover(session, principal, body, today=today))


@router.get("/statistics/{period}")
def get_statistics(period: str, session: SessionDep, _: RegulatorDep, today: TodayDep) -> TransactionStatistics:
    """A period's transactions by type, 市州, industry and quarter; royalty rates by industry; share of turnover."""
    return uc.statistics(session, period, today=today)


@router.get("/prices", response_class=Response, responses={200: FILE})
def export_prices(session: SessionDep, _: PriceReaderDep, today: TodayDep, format: ExportFormat = "csv") -> Response:
    """Registered prices as the data contract's observed prices (patent_id, price, source, date)."""
    body, media = uc.observed_prices(session, format, today=today)
    return attachment(body, media, f"iprisk-observed-prices.{format}")


@router.get("/prices/drift")
def get_price_drift(
    session: SessionDep, _: PriceReaderDep, bundle: BundleDep, today: TodayDep, days: Days = 365
) -> PriceDrift:
    """PSI of recently registered prices against the valuation model's training reference (bands 0.10 / 0.25)."""
    return uc.price_drift(session, bundle.get("valuation"), days=days, today=today)


@router.get("/{transaction_id}")
def get_transaction(transaction_id: str, session: SessionDep, principal: TransactionReaderDep) -> TransactionPublic:
    """One registered transaction (its registrant's, or any for the regulator)."""
    return uc.get(session, principal, transaction_id)
