"""The IP-transaction registry: registration (the data feed, and banks for their own loans) and statistics.

A bank registers only what happens to its own loans' pledged patents (pledge registration,
release, disposal sale), naming the loan; the data feed registers any transaction of the
province and never names a bank's loan.  Statistics count transactions by the day they
occurred; a transaction's amount is its price, or a licence's upfront fee.  Registered prices
leave as observed prices in the data contract's shape (:func:`observed_prices`), so the
valuation model can retrain on the province's own market.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from scoring.book import period_start
from scoring.drift import bin_shares, psi, psi_band
from scoring.models import LoadedModel
from scoring.patent_ids import patent_type_of
from scoring.types import EARLIEST
from scoring.vocab.money import to_cny, to_fen
from scoring.vocab.zh import label
from service.auth import Principal
from service.db import audit
from service.db.book_tables import IpTransaction, TechnologyTurnover
from service.db.tables import LoanPatent
from service.errors import InvalidInput
from service.reports.exports import ExportFormat, to_bytes
from service.schemas.transactions import (
    BANK_TYPES,
    LICENCES,
    GroupFigures,
    Party,
    PriceDrift,
    RoyaltyStatistics,
    TransactionCreate,
    TransactionPublic,
    TransactionStatistics,
    TurnoverCreate,
    TurnoverPublic,
)
from service.usecases.book import end_of
from service.usecases.pledge_life import locked_loan
from service.usecases.tenancy import visible

PRICE_SOURCE = {"transfer": "transfer", "disposal_sale": "disposal", "capital_contribution": "appraisal"}
"""Transaction type → the data contract's price_source; licences with an upfront fee are "licence"."""


def _public(row: IpTransaction) -> TransactionPublic:
    return TransactionPublic(
        id=row.id,
        institution=row.institution,
        type=row.type,
        patent_id=row.patent_id,
        patent_type=row.patent_type,
        occurred_on=row.occurred_on,
        owner=Party.model_validate({"region": row.owner_region, "industry": row.owner_industry}),
        counterparty=Party.model_validate({"region": row.counterparty_region, "industry": row.counterparty_industry}),
        price_cny=to_cny(row.price_fen) if row.price_fen is not None else None,
        royalty_rate=row.royalty_rate,
        upfront_cny=to_cny(row.upfront_fen) if row.upfront_fen is not None else None,
        term_months=row.term_months,
        loan_id=row.loan_id,
        registered_at=row.registered_at,
    )


def _check_bank(session: Session, principal: Principal, req: TransactionCreate) -> None:
    """A bank's transaction is one of its own loan's pledged patent."""
    if req.type not in BANK_TYPES:
        raise InvalidInput(f"a bank registers {', '.join(BANK_TYPES)} of its own loans, not {req.type}", field="type")
    if req.loan_id is None:
        raise InvalidInput("a bank names the loan whose pledged patent it is", field="loan_id")
    loan = locked_loan(session, principal, req.loan_id, field="loan_id")
    pledged = session.exec(
        select(LoanPatent).where(LoanPatent.loan_id == loan.id, LoanPatent.patent_id == req.patent_id)
    ).first()
    if pledged is None:
        raise InvalidInput(f"patent {req.patent_id} is not pledged to loan {loan.id}", field="patent_id")


def register(session: Session, principal: Principal, req: TransactionCreate, *, today: date) -> TransactionPublic:
    """Validate and store one transaction, audited."""
    if req.occurred_on > today:
        raise InvalidInput(f"{req.occurred_on} is after today ({today}, Beijing)", field="occurred_on")
    if principal.role == "bank":
        _check_bank(session, principal, req)
    elif req.loan_id is not None:
        raise InvalidInput("only the lending bank links a transaction to its loan", field="loan_id")
    row = IpTransaction(
        id=str(uuid.uuid4()),
        institution=principal.institution,
        key_id=principal.key_id,
        role=principal.role,
        type=req.type,
        patent_id=req.patent_id,
        patent_type=patent_type_of(req.patent_id),
        occurred_on=req.occurred_on,
        owner_region=req.owner.region,
        owner_industry=req.owner.industry,
        counterparty_region=req.counterparty.region,
        counterparty_industry=req.counterparty.industry,
        price_fen=to_fen(req.price_cny) if req.price_cny is not None else None,
        upfront_fen=to_fen(req.upfront_cny) if req.upfront_cny is not None else None,
        royalty_rate=req.royalty_rate,
        term_months=req.term_months,
        loan_id=req.loan_id,
    )
    session.add(row)
    session.flush()
    audit.append_by(
        session,
        principal,
        action="transaction.register",
        resource_type="transaction",
        resource_id=row.id,
        detail={
            "type": row.type,
            "patent_id": row.patent_id,
            "price_fen": row.price_fen,
            "upfront_fen": row.upfront_fen,
        },
    )
    return _public(row)


def get(session: Session, principal: Principal, transaction_id: str) -> TransactionPublic:
    """One transaction: its registrant's, or any for the regulator."""
    return _public(visible(session, principal, IpTransaction, transaction_id, what="transaction"))


def report_turnover(session: Session, principal: Principal, req: TurnoverCreate, *, today: date) -> TurnoverPublic:
    """Store a period's technology-contract turnover (a later figure corrects an earlier one)."""
    end = end_of(req.period)
    if end > today:
        raise InvalidInput(f"{req.period} ends {end}, after today ({today}, Beijing)", field="period")
    row = TechnologyTurnover(
        period=req.period,
        amount_fen=to_fen(req.turnover_cny),
        institution=principal.institution,
        key_id=principal.key_id,
    )
    session.add(row)
    session.flush()
    audit.append_by(
        session,
        principal,
        action="transaction.turnover",
        resource_type="period",
        resource_id=req.period,
        detail={"amount_fen": row.amount_fen},
    )
    return TurnoverPublic(period=row.period, turnover_cny=to_cny(row.amount_fen), reported_at=row.reported_at)


def _amount_fen(t: IpTransaction) -> int:
    return t.price_fen if t.price_fen is not None else (t.upfront_fen or 0)


def _quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _quarter_label(quarter: str) -> str:
    return f"{quarter[:4]}年第{quarter[5]}季度"


def _groups(
    rows: Iterable[IpTransaction], key: Callable[[IpTransaction], str], zh: Callable[[str], str]
) -> list[GroupFigures]:
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, int] = defaultdict(int)
    for t in rows:
        count[key(t)] += 1
        amount[key(t)] += _amount_fen(t)
    return [GroupFigures(key=k, label=zh(k), count=count[k], amount_cny=amount[k] / 100) for k in sorted(count)]


def _royalties(rows: Iterable[IpTransaction]) -> list[RoyaltyStatistics]:
    rates: dict[str, list[float]] = defaultdict(list)
    for t in rows:
        if t.type in LICENCES and t.royalty_rate is not None:
            rates[t.owner_industry].append(t.royalty_rate)
    out = []
    for industry in sorted(rates):
        r = np.array(rates[industry])
        p25, p50, p75 = np.quantile(r, [0.25, 0.5, 0.75])
        out.append(
            RoyaltyStatistics(
                industry=industry,
                label=label("industry", industry),
                licences=len(r),
                mean=float(r.mean()),
                p25=float(p25),
                median=float(p50),
                p75=float(p75),
                min=float(r.min()),
                max=float(r.max()),
            )
        )
    return out


def statistics(session: Session, period: str, *, today: date) -> TransactionStatistics:
    """The period's transactions by type, 市州, industry, quarter; royalty rates; the share of turnover."""
    end = min(end_of(period), today)
    start = period_start(period)
    upto = session.exec(select(IpTransaction).where(col(IpTransaction.occurred_on) <= end)).all()
    rows = [t for t in upto if t.occurred_on >= start]
    transfer_licence = sum(_amount_fen(t) for t in rows if t.type == "transfer" or t.type in LICENCES)
    fed = session.exec(
        select(TechnologyTurnover).where(TechnologyTurnover.period == period).order_by(col(TechnologyTurnover.id))
    ).all()
    turnover = fed[-1].amount_fen if fed else None
    return TransactionStatistics(
        period=period,
        start=start,
        end=end,
        count=len(rows),
        amount_cny=sum(_amount_fen(t) for t in rows) / 100,
        by_type=_groups(rows, lambda t: t.type, lambda k: label("transaction_type", k)),
        by_region=_groups(rows, lambda t: t.owner_region or "outside", lambda k: label("region", k)),
        by_industry=_groups(rows, lambda t: t.owner_industry, lambda k: label("industry", k)),
        by_quarter=_groups(upto, lambda t: _quarter(t.occurred_on), _quarter_label),
        royalty_rates=_royalties(rows),
        transfer_and_licence_cny=transfer_licence / 100,
        technology_turnover_cny=turnover / 100 if turnover is not None else None,
        share_of_turnover=transfer_licence / turnover if turnover else None,
    )


def _prices(session: Session, *, since: date, until: date) -> list[tuple[str, str, int, date]]:
    """(patent_id, price source, fen, date) of every registered price from ``since`` to ``until``."""
    out = []
    for t in session.exec(
        select(IpTransaction)
        .where(col(IpTransaction.occurred_on) >= since, col(IpTransaction.occurred_on) <= until)
        .order_by(col(IpTransaction.occurred_on), col(IpTransaction.id))
    ).all():
        source = "licence" if t.type in LICENCES else PRICE_SOURCE.get(t.type)
        fen = t.upfront_fen if t.type in LICENCES else t.price_fen
        if source is not None and fen:
            out.append((t.patent_id, source, fen, t.occurred_on))
    return out


def observed_prices(session: Session, fmt: ExportFormat, *, today: date) -> tuple[bytes, str]:
    """Registered prices as the data contract's observed prices (patents table columns), one row per price."""
    rows = [
        {"patent_id": p, "observed_price_cny": fen / 100, "price_source": source, "price_date": on}
        for p, source, fen, on in _prices(session, since=EARLIEST, until=today)
    ]
    frame = pd.DataFrame(rows, columns=["patent_id", "observed_price_cny", "price_source", "price_date"])
    return to_bytes(frame, fmt, sheet="observed_prices")


MIN_PRICES = 30
"""Fewer registered prices in the window give no PSI: ten bins need a few rows each."""


def price_drift(session: Session, model: LoadedModel, *, days: int, today: date) -> PriceDrift:
    """PSI of the window's registered prices, de-biased by source as training does, against the reference.

    The reference is the observed prices the valuation model was trained on (log CNY, de-biased by
    source: ``extra.reference_prices``); a version registered before that was kept falls back to its
    score reference, the log fair value of the patents pledged in the training period, and says so.
    """
    since = today - timedelta(days=days)
    prices = _prices(session, since=since, until=today)
    extra = model.manifest.get("extra") or {}
    reference = extra.get("reference_prices")
    kind: Literal["observed_prices", "model_values"] = "observed_prices"
    if not reference:
        reference, kind = (extra.get("reference") or {}).get("score"), "model_values"
    bias = extra.get("price_bias") or {}
    base = {"model": model.name, "version": model.version, "since": since, "rows": len(prices), "reference": kind}
    if len(prices) < MIN_PRICES or not reference:
        note = f"need at least {MIN_PRICES} registered prices (have {len(prices)}) and a training reference"
        return PriceDrift(**base, psi=None, band=None, note=note)
    logs = np.log(np.array([fen / 100 / float(bias.get(source, 1.0)) for _, source, fen, _ in prices]))
    value = psi(reference["shares"], bin_shares(logs, reference["edges"]))
    return PriceDrift(**base, psi=value, band=psi_band(value))
