"""The point-in-time book from the database: repayments and NPL ratios banks report, and what the regulator reads.

The arithmetic is :mod:`scoring.book`'s; this module reads the facts (loans, their assessment's
repayment type, outcome reports, reported repayments), refuses what cannot be true (a date after
today, before origination, more than the balance) and shapes the answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import cast

from sqlmodel import Session, col, select

from scoring.book import (
    BookDim,
    BookLoan,
    Cell,
    Frequency,
    Payment,
    balance_at,
    period_end,
    period_ends,
    positions,
    tabulate,
    tolerance,
)
from scoring.types import FieldError
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_cny, to_fen
from service.auth import Principal
from service.db import audit
from service.db.book_tables import BankNplReport, LoanRepayment
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Assessment, Loan
from service.errors import InvalidInput
from service.reports.exports import ExportFormat, book_frame, to_bytes, value_label
from service.schemas.book import (
    BookCell,
    BookReport,
    BookSnapshot,
    NplRatioCreate,
    NplRatioPublic,
    RepaymentCreate,
    RepaymentPublic,
    ToleranceRow,
)
from service.usecases.alerts import settle_ltv_breach
from service.usecases.pledge_life import locked_loan

MAX_SNAPSHOTS = 240
"""Twenty years of month ends, sixty of quarter ends: more in one answer is not a question anyone asks."""


def _book_loan(
    loan: Loan, terms: dict[str, object], outcomes: list[LoanOutcome], paid: list[LoanRepayment]
) -> BookLoan:
    # model_validate checks the stored strings against the vocabularies they were written from.
    return BookLoan.model_validate(
        {
            "loan_id": loan.id,
            "principal_fen": round(loan.amount_cny * 100),
            "origination": loan.origination_date,
            "tenor_months": loan.tenor_months,
            "repayment_type": terms.get("repayment_type") or "bullet",
            "annual_rate": loan.annual_rate,
            "bank": loan.institution,
            "region": loan.region or "unknown",
            "industry": loan.industry or "unknown",
            "patent_type": loan.patent_type or "unknown",
            "outcomes": [
                {
                    "as_of": o.as_of,
                    "status": o.status,
                    "npl_class": o.npl_class,
                    "days_past_due": o.days_past_due,
                    "default_date": o.default_date,
                }
                for o in outcomes
            ],
            "payments": [{"on": p.paid_on, "amount_fen": p.amount_fen, "kind": p.kind} for p in paid],
        }
    )


def load_book(session: Session, *, loans: Sequence[Loan] | None = None) -> list[BookLoan]:
    """Every booked loan (or ``loans``) with its schedule terms, outcome reports and reported payments."""
    rows = list(loans) if loans is not None else list(session.exec(select(Loan).order_by(col(Loan.id))).all())
    ids = [x.id for x in rows]
    terms = {
        a_id: dict(req.get("loan", {}))
        for a_id, req in session.exec(
            select(Assessment.id, Assessment.request).where(col(Assessment.id).in_([x.assessment_id for x in rows]))
        ).all()
    }
    outcomes: dict[str, list[LoanOutcome]] = defaultdict(list)
    for o in session.exec(
        select(LoanOutcome).where(col(LoanOutcome.loan_id).in_(ids)).order_by(col(LoanOutcome.id))
    ).all():
        outcomes[o.loan_id].append(o)
    paid: dict[str, list[LoanRepayment]] = defaultdict(list)
    for p in session.exec(select(LoanRepayment).where(col(LoanRepayment.loan_id).in_(ids))).all():
        paid[p.loan_id].append(p)
    return [_book_loan(x, terms.get(x.assessment_id, {}), outcomes[x.id], paid[x.id]) for x in rows]


def report_repayment(
    session: Session, principal: Principal, loan_id: str, req: RepaymentCreate, *, today: date
) -> RepaymentPublic:
    """Record principal repaid or written off on the caller's loan; never more than its balance that day."""
    loan = locked_loan(session, principal, loan_id)
    if req.paid_on > today:
        raise InvalidInput(
            f"{req.paid_on} is after today ({today}, Beijing): report what has happened", field="paid_on"
        )
    if req.paid_on < loan.origination_date:
        raise InvalidInput(f"{req.paid_on} is before the loan's origination {loan.origination_date}", field="paid_on")
    (before,) = load_book(session, loans=[loan])
    amount = to_fen(req.amount_cny)
    # Later repayments already reported bound it too: the balance may never go below zero on any day.
    outstanding = min(
        balance_at(before, d) for d in {req.paid_on, *(p.on for p in before.payments if p.on > req.paid_on)}
    )
    if amount > outstanding:
        raise InvalidInput(
            f"{req.amount_cny} exceeds the outstanding principal {to_cny(outstanding)} on {req.paid_on}",
            field="amount_cny",
        )
    row = LoanRepayment(
        loan_id=loan.id,
        institution=principal.institution,
        key_id=principal.key_id,
        paid_on=req.paid_on,
        amount_fen=amount,
        kind=req.kind,
    )
    session.add(row)
    session.flush()
    after = before.model_copy(
        update={"payments": (*before.payments, Payment(on=req.paid_on, amount_fen=amount, kind=req.kind))}
    )
    # A repayment that cures a stored LTV breach resolves it now (the watch already shows it gone); the
    # audit entry says so, beside the amount.
    cured = settle_ltv_breach(
        session,
        loan.id,
        balance_then=lambda day: balance_at(before, day) / 100,
        balance_now=balance_at(after, today) / 100,
        today=today,
    )
    audit.append_by(
        session,
        principal,
        action=f"loan.{req.kind}",
        resource_type="loan",
        resource_id=loan.id,
        detail={"amount_fen": amount, "paid_on": req.paid_on.isoformat(), "ltv_breach_resolved": cured},
    )
    assert row.id is not None
    return RepaymentPublic(
        id=row.id,
        loan_id=loan.id,
        paid_on=row.paid_on,
        amount_cny=to_cny(amount),
        kind=row.kind,
        balance_cny=to_cny(balance_at(after, req.paid_on)),
        reported_at=row.reported_at,
    )


def end_of(period: str) -> date:
    """Last day of ``period``; 422 naming ``period`` when it is no quarter or month."""
    return _period(period)


def _period(period: str, *, today: date | None = None) -> date:
    try:
        end = period_end(period)
    except FieldError as exc:
        raise InvalidInput(exc.problem, field=exc.field) from exc
    if today is not None and end > today:
        raise InvalidInput(
            f"{period} ends {end}, after today ({today}, Beijing): report it once it has ended", field="period"
        )
    return end


def report_npl_ratio(session: Session, principal: Principal, req: NplRatioCreate, *, today: date) -> NplRatioPublic:
    """Record the caller's overall NPL ratio for a period that has ended (a later report corrects an earlier one)."""
    end = _period(req.period, today=today)
    row = BankNplReport(
        institution=principal.institution,
        key_id=principal.key_id,
        period=req.period,
        period_end=end,
        npl_ratio=req.npl_ratio,
    )
    session.add(row)
    session.flush()
    audit.append_by(
        session,
        principal,
        action="bank.npl_ratio",
        resource_type="bank",
        resource_id=principal.institution,
        detail={"period": req.period, "npl_ratio": req.npl_ratio},
    )
    return NplRatioPublic(
        institution=row.institution,
        period=row.period,
        period_end=row.period_end,
        npl_ratio=row.npl_ratio,
        reported_at=row.reported_at,
    )


def cell(c: Cell, lang: Lang = "en") -> BookCell:
    """A book cell in CNY for the API, with the Chinese labels of its keys for ``lang`` zh."""
    return BookCell(
        keys=c.keys,
        labels={d: value_label(cast(BookDim, d), v) for d, v in c.keys.items()} if lang == "zh" else {},
        loans=c.loans,
        balance_cny=c.balance_fen / 100,
        npl_balance_cny=c.npl_balance_fen / 100,
        npl_ratio=c.npl_ratio,
        by_class_cny={k: v / 100 for k, v in c.by_class_fen.items()},
    )


def _as_of(as_of: date | None, today: date) -> date:
    if as_of is not None and as_of > today:
        raise InvalidInput(f"{as_of} is after today ({today}, Beijing)", field="as_of")
    return as_of or today


def book_report(
    session: Session, by: Sequence[BookDim], *, as_of: date | None, today: date, lang: Lang = "en"
) -> BookReport:
    """Balances and NPL ratio on ``as_of`` (default today), total and by up to two crossed dimensions."""
    on = _as_of(as_of, today)
    try:
        total, cells = tabulate(positions(load_book(session), on), by)
    except FieldError as exc:
        raise InvalidInput(exc.problem, field=exc.field) from exc
    return BookReport(as_of=on, by=list(by), total=cell(total, lang), cells=[cell(c, lang) for c in cells])


def export_book(
    session: Session, by: Sequence[BookDim], fmt: ExportFormat, *, as_of: date | None, today: date
) -> tuple[bytes, str]:
    """The book on a day as a file with Chinese headers and labels."""
    report = book_report(session, by, as_of=as_of, today=today)
    return to_bytes(book_frame(report.cells, report.total, by), fmt, sheet=f"贷款余额 {report.as_of}")


def snapshots(
    session: Session, frequency: Frequency, *, since: date | None, until: date | None, today: date
) -> list[BookSnapshot]:
    """The book's total at every month or quarter end from ``since`` (default: the first origination) to ``until``."""
    end = _as_of(until, today)
    book = load_book(session)
    start = since or min((x.origination for x in book), default=end)
    if start > end:
        raise InvalidInput(f"since {start} is after {end}", field="since")
    ends = period_ends(start, end, frequency)
    if len(ends) > MAX_SNAPSHOTS:
        raise InvalidInput(
            f"{len(ends)} {frequency} snapshots asked; at most {MAX_SNAPSHOTS}: start later", field="since"
        )
    return [BookSnapshot(on=d, total=cell(tabulate(positions(book, d))[0])) for d in ends]


def tolerance_rows(session: Session, period: str, *, today: date) -> list[ToleranceRow]:
    """Per bank: its IP-pledge NPL ratio at the period's end against the overall ratio it reported."""
    end = _period(period, today=today)
    _, cells = tabulate(positions(load_book(session), end), ["bank"])
    ip = {c.keys["bank"]: c.npl_ratio for c in cells}
    reported = {
        r.institution: r.npl_ratio
        for r in session.exec(
            select(BankNplReport).where(BankNplReport.period == period).order_by(col(BankNplReport.id))
        ).all()
    }
    return [
        ToleranceRow(period=period, **tolerance(bank, ip.get(bank), reported.get(bank)).model_dump())
        for bank in sorted(set(ip) | set(reported))
    ]
