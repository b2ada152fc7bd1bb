"""Book revaluation: mark every live loan's pledged patents in one batch, store the marks and the alerts.

The patents' current facts are read as columns (``patent_facts``, seeded on
first sight from each loan's assessment), marked by
:func:`scoring.watch.mark_patents` in chunks (one LightGBM call per booster per
chunk), and summed per loan with ``np.bincount``.  Only patents and loans that
raise something are turned back into objects to word their alerts; the alerts
of every loan are then merged with the stored ones (new ones open, gone ones
resolve) and each loan's mark replaces its last one.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scoring import features as F
from scoring.book import BookLoan, balance_at
from scoring.legal_events import LegalFacts
from scoring.vocab.arrays import FloatArray
from scoring.watch import Alert, LoanFigures, caps_of, loan_alerts, mark_patents, maturity_of, patent_alerts
from service.bundle import BundleHolder
from service.clock import Clock, business_today
from service.db import audit
from service.db.book_tables import LoanRepayment
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Assessment, Loan, LoanPatent
from service.db.watch_tables import LoanMark, PatentFacts, WatchAlert
from service.metrics import Metrics
from service.schemas.watch import RevaluationSummary
from service.settings import Settings
from service.usecases.alerts import merge_alerts, open_counts
from service.usecases.events import LIVE_STATUSES, refresh_facts
from service.usecases.watch import WatchContext, caps_by_type, watch_context

_DATES = ("filing_date", "grant_date")
LOAN_COLUMNS = (
    "loan_id",
    "institution",
    "amount_cny",
    "origination_date",
    "tenor_months",
    "booked_value",
    "annual_rate",
    "repayment_type",
)
log = logging.getLogger("iprisk.book")
ALERT_GAUGE_SECONDS = 30.0


@dataclass(frozen=True)
class Book:
    """The live book as columns: one row per pledged patent, with its loan's index into ``loans``."""

    loans: pd.DataFrame  # LOAN_COLUMNS
    patents: pd.DataFrame  # facts.* columns, patent.* columns, loan index
    facts_json: list[dict[str, Any]]


def _seed_missing(session: Session) -> int:
    """Give every live pledged patent without current facts its seed (first sight: one replay each)."""
    missing = session.exec(
        select(LoanPatent.patent_id)
        .join(Loan, col(Loan.id) == col(LoanPatent.loan_id))
        .outerjoin(PatentFacts, col(PatentFacts.patent_id) == col(LoanPatent.patent_id))
        .where(
            col(LoanPatent.active).is_(True),
            col(Loan.status).in_(LIVE_STATUSES),
            (col(PatentFacts.patent_id).is_(None)) | (col(PatentFacts.loan_id) != col(LoanPatent.loan_id)),
        )
    ).all()
    for pid in missing:
        refresh_facts(session, pid)
    session.flush()
    return len(missing)


def load_book(session: Session) -> Book:
    """Every live loan and the current facts of its pledged patents, as columns."""
    _seed_missing(session)
    booked = col(Assessment.response)["valuation"]["package"]["pledge_value_cny"].as_float()
    schedule = col(Assessment.request)["loan"]["repayment_type"].as_string()
    loans = pd.DataFrame(
        session.connection()
        .execute(
            sa_select(
                col(Loan.id),
                col(Loan.institution),
                col(Loan.amount_cny),
                col(Loan.origination_date),
                col(Loan.tenor_months),
                booked,
                col(Loan.annual_rate),
                schedule,
            )
            .join(Assessment, col(Assessment.id) == col(Loan.assessment_id))
            .where(col(Loan.status).in_(LIVE_STATUSES))
            .order_by(col(Loan.id))
        )
        .all(),
        columns=[*LOAN_COLUMNS],
    )
    rows = session.exec(
        select(PatentFacts.loan_id, PatentFacts.facts)
        .join(
            LoanPatent,
            (col(LoanPatent.patent_id) == col(PatentFacts.patent_id))
            & (col(LoanPatent.loan_id) == col(PatentFacts.loan_id)),
        )
        .join(Loan, col(Loan.id) == col(LoanPatent.loan_id))
        .where(col(LoanPatent.active).is_(True), col(Loan.status).in_(LIVE_STATUSES))
    ).all()
    facts_json: list[dict[str, Any]] = [dict(r[1]) for r in rows]
    # The patent's fields beside the facts' own, one level flat (pd.json_normalize deep-copies every
    # record: minutes at 200,000 patents, docs/performance.md).
    flat = [{**{k: v for k, v in f.items() if k != "patent"}, **f["patent"]} for f in facts_json]
    patents = pd.DataFrame.from_records(flat) if flat else pd.DataFrame()
    if len(patents):
        index = pd.Index(loans["loan_id"])
        patents["loan"] = index.get_indexer(pd.Series([r[0] for r in rows]))
    return Book(loans=loans, patents=patents, facts_json=facts_json)


def _book_facts(session: Session) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Every live loan's outcome reports (in reporting order) and reported payments, by loan id."""
    live = col(Loan.status).in_(LIVE_STATUSES)
    reports: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for loan_id, as_of, status, npl_class, dpd, default_date in session.connection().execute(
        sa_select(
            col(LoanOutcome.loan_id),
            col(LoanOutcome.as_of),
            col(LoanOutcome.status),
            col(LoanOutcome.npl_class),
            col(LoanOutcome.days_past_due),
            col(LoanOutcome.default_date),
        )
        .join(Loan, col(Loan.id) == col(LoanOutcome.loan_id))
        .where(live)
        .order_by(col(LoanOutcome.id))
    ):
        reports[loan_id].append(
            {
                "as_of": as_of,
                "status": status,
                "npl_class": npl_class,
                "days_past_due": dpd,
                "default_date": default_date,
            }
        )
    paid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for loan_id, on, fen, kind in session.connection().execute(
        sa_select(
            col(LoanRepayment.loan_id),
            col(LoanRepayment.paid_on),
            col(LoanRepayment.amount_fen),
            col(LoanRepayment.kind),
        )
        .join(Loan, col(Loan.id) == col(LoanRepayment.loan_id))
        .where(live)
    ):
        paid[loan_id].append({"on": on, "amount_fen": fen, "kind": kind})
    return reports, paid


def outstanding(session: Session, loans: pd.DataFrame, on: date) -> FloatArray:
    """Each loan's principal outstanding on ``on``, CNY, in the order of ``loans`` (:data:`LOAN_COLUMNS`).

    The same arithmetic as the single loan's watch (:func:`service.usecases.watch.outstanding_on`,
    :func:`scoring.book.balance_at`): the schedule frozen at arrears, less the repayments and
    write-offs reported up to that day; the facts are read in two queries for the whole book.
    """
    reports, paid = _book_facts(session)
    out = np.empty(len(loans))
    columns: list[list[Any]] = [loans[c].tolist() for c in LOAN_COLUMNS]
    rows = [dict(zip(LOAN_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)]
    for i, r in enumerate(rows):
        loan = BookLoan.model_validate(
            {
                "loan_id": r["loan_id"],
                "principal_fen": round(r["amount_cny"] * 100),
                "origination": r["origination_date"],
                "tenor_months": r["tenor_months"],
                "repayment_type": r["repayment_type"] or "bullet",
                "annual_rate": None if pd.isna(r["annual_rate"]) else r["annual_rate"],
                "bank": r["institution"],
                "outcomes": reports.get(r["loan_id"], ()),
                "payments": paid.get(r["loan_id"], ()),
            }
        )
        out[i] = balance_at(loan, on) / 100
    return out


def _columns(patents: pd.DataFrame) -> dict[str, np.ndarray]:
    cols = {c: patents[c].to_numpy() for c in patents.columns}
    for name in _DATES:
        cols[name] = pd.to_datetime(patents[name]).to_numpy().astype("datetime64[D]")
    return cols


def _caps(book: Book, ctx: WatchContext) -> np.ndarray:
    caps = np.zeros(len(book.patents))
    inst = book.loans["institution"].to_numpy()[book.patents["loan"].to_numpy()]
    types = book.patents["patent_type"].to_numpy()
    for name in np.unique(inst):
        here = inst == name
        caps[here] = caps_of(types[here], caps_by_type(ctx.ltv.for_institution(str(name))))
    return caps


def _flagged(p: pd.DataFrame, cols: dict[str, np.ndarray], maturity: np.ndarray) -> np.ndarray:
    """Patents whose facts may raise an alert (the others need no object built)."""
    life_at_maturity = F.remaining_life_years(cols["patent_type"], cols["filing_date"], maturity)
    listed = [p[c].map(bool).to_numpy() for c in ("open_invalidations", "open_litigation", "preservation_orders")]
    flags: np.ndarray = (
        (p["legal_status"].to_numpy() != "granted")
        | p["fee_due_date"].notna().to_numpy()
        | p["pledge_term_end"].notna().to_numpy()
        | (life_at_maturity <= 0)
        | np.logical_or.reduce(listed)
    )
    return flags


def revalue_book(
    session: Session, ctx: WatchContext, *, today: date, progress: Callable[[int, int], object] | None = None
) -> RevaluationSummary:
    """Revalue every live loan's collateral today; store the marks and merge the alerts (caller commits)."""
    started = time.perf_counter()
    book = load_book(session)
    loans, p = book.loans, book.patents
    n_loans = len(loans)
    raised: dict[str, list[Alert]] = defaultdict(list)
    ids: list[str] = [str(x) for x in loans["loan_id"]]
    value: FloatArray
    max_loan: FloatArray
    total_p50: FloatArray
    cap_max: FloatArray = np.zeros(n_loans)
    if len(p):
        rev = p["owner_revenue_cny"].to_numpy(dtype=np.float64)
        cols = _columns(p)
        marks = mark_patents(ctx.model, cols, today, owner_revenue=rev, progress=progress)
        caps = _caps(book, ctx)
        li = p["loan"].to_numpy()
        value = np.asarray(np.bincount(li, weights=marks.pledge_value, minlength=n_loans), dtype=np.float64)
        max_loan = np.asarray(np.bincount(li, weights=marks.pledge_value * caps, minlength=n_loans), dtype=np.float64)
        np.maximum.at(cap_max, li, caps)
        total_p50 = np.asarray(np.bincount(li, weights=marks.q[:, 1], minlength=n_loans), dtype=np.float64)
    else:
        value = max_loan = total_p50 = np.zeros(n_loans)
    amount = outstanding(session, loans, today)
    maturities = [maturity_of(o, int(t)) for o, t in zip(loans["origination_date"], loans["tenor_months"], strict=True)]
    maturity = np.array(maturities, dtype="datetime64[D]")
    booked_value = loans["booked_value"].astype(float).to_numpy()
    fall = np.where(booked_value > 0, 1 - value / np.where(booked_value > 0, booked_value, 1), 0.0)
    for i in np.flatnonzero((amount - max_loan > 0.005) | (fall > ctx.thresholds.value_fall_share)):
        cap = max_loan[i] / value[i] if value[i] > 0 else cap_max[i]
        repay = max(0.0, amount[i] - max_loan[i])
        figures = LoanFigures(
            float(amount[i]),
            float(value[i]),
            float(max_loan[i]),
            amount[i] / value[i] if value[i] > 0 else None,
            float(cap),
            float(repay),
            float(repay / cap) if cap > 0 else 0.0,
        )
        raised[ids[i]] += loan_alerts(figures, booked_value=float(booked_value[i]), thresholds=ctx.thresholds)
    if len(p):
        li = p["loan"].to_numpy()
        for j in np.flatnonzero(_flagged(p, cols, maturity[li])):
            f = LegalFacts.model_validate(book.facts_json[j])
            raised[ids[li[j]]] += patent_alerts(f, as_of=today, maturity=maturities[li[j]], thresholds=ctx.thresholds)
    _store_alerts(session, loans, raised, today=today)
    _store_marks(session, loans, value, total_p50, max_loan, amount, today=today, version=ctx.model.version)
    seconds = time.perf_counter() - started
    opened = session.exec(select(WatchAlert.id).where(col(WatchAlert.status) == "open")).all()
    audit.append(
        session,
        key_id=None,
        role="system",
        institution="iprisk",
        action="watch.revalue",
        resource_type="book",
        resource_id=today.isoformat(),
        detail={"loans": n_loans, "patents": len(p), "model_version": ctx.model.version, "seconds": round(seconds, 3)},
    )
    return RevaluationSummary(
        as_of=today,
        loans=n_loans,
        patents=len(p),
        alerts_open=len(opened),
        seconds=seconds,
        model_version=ctx.model.version,
    )


def _store_alerts(session: Session, loans: pd.DataFrame, raised: dict[str, list[Alert]], *, today: date) -> None:
    stored: dict[str, list[WatchAlert]] = defaultdict(list)
    for row in session.exec(select(WatchAlert).where(col(WatchAlert.status) != "resolved")).all():
        stored[row.loan_id].append(row)
    institution = dict(zip(loans["loan_id"], loans["institution"], strict=True))
    for loan_id in set(stored) | set(raised):
        inst = institution.get(loan_id) or stored[loan_id][0].institution
        merge_alerts(session, loan_id, inst, stored.get(loan_id, []), raised.get(loan_id, []), today=today)
    session.flush()


def _store_marks(
    session: Session,
    loans: pd.DataFrame,
    value: np.ndarray,
    total_p50: np.ndarray,
    max_loan: np.ndarray,
    amount: np.ndarray,
    *,
    today: date,
    version: str,
) -> None:
    table: Any = LoanMark.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
    session.connection().execute(delete(table))
    ltv = np.where(value > 0, amount / np.where(value > 0, value, 1), np.nan)
    frame = pd.DataFrame(
        {
            "loan_id": loans["loan_id"],
            "as_of": today,
            "pledge_value_cny": value,
            "total_p50_cny": total_p50,
            "max_loan_cny": max_loan,
            "ltv": pd.Series(ltv).astype(object).where(~np.isnan(ltv), None),
            "model_version": version,
            "marked_at": pd.Timestamp.now(tz="UTC").to_pydatetime(),
        }
    )
    if len(frame):
        records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
        session.connection().execute(insert(table), records)


def scheduled_revaluation(
    engine: Engine, holder: BundleHolder, metrics: Metrics, settings: Settings, clock: Clock
) -> None:
    """The periodic job: revalue the book today with the models serving now, then refresh the alert gauges."""
    bundle, configuration = holder.bundle, holder.configuration
    if bundle is None or configuration is None or "valuation" not in bundle.models:
        return  # nothing to mark with yet; the next run tries again
    ctx = watch_context(bundle.get("valuation"), configuration.scoring, settings)
    with Session(engine) as session:
        summary = revalue_book(session, ctx, today=business_today(clock.now()))
        session.commit()
        metrics.set_alerts(open_counts(session))
    log.info("book revalued: %d loans, %d patents in %.1f s", summary.loans, summary.patents, summary.seconds)


def refresh_gauges(engine: Engine, metrics: Metrics) -> None:
    """Set ``iprisk_alerts_open`` from the stored alerts (events and acknowledgements change them between runs)."""
    with Session(engine) as session:
        metrics.set_alerts(open_counts(session))
