"""The point-in-time loan book: each loan's outstanding balance and class at a date, and the NPL ratio.

The NPL ratio the regulator publishes is the NPL *balance* ÷ the outstanding *balance* at a date
(商业银行金融资产风险分类办法, CBIRC/PBoC Order 2023 No. 1; docs/regulator.md), not the original
principal of bad loans ÷ everything ever lent.  Everything here is a pure function of the facts a
loan carries (:class:`BookLoan`) and the date asked for; money is integer fen.

**Balance at a date** (:func:`balance_at`).  The schedule stands in for the instalments the bank has
not reported, as long as the loan is not in arrears:

- the amortisation schedule (:func:`schedule`) by repayment type: ``bullet`` (到期一次还本, all the
  principal at maturity; the default when the terms state none), ``equal_principal`` (等额本金, the
  same principal each month) or ``equal_instalment`` (等额本息, the same payment each month at the
  loan's annual rate; principal parts rise as interest falls; at a rate of 0 or none stated it is
  equal principal);
- reported repayments and write-offs (核销) up to the date lower the balance below the schedule
  (a prepayment, a partial repayment, recoveries after a default, a loss written off);
- a default freezes the schedule at the default date, and a report of days past due freezes it at the
  first unpaid due date (``as_of − days_past_due``): a loan in arrears paid nothing the bank did not
  report; a later report with nothing past due lifts the freeze;
- a loan reported repaid has no balance from that report's date.

So ``balance = max(0, min(scheduled balance at the freeze date, principal − reported payments))``.

**Class at a date** (:func:`class_at`): the class of the latest outcome report dated on or before
it; a loan reclassified from substandard to loss moves bucket on the second report's ``as_of``.  A
loan with no report yet is ``None`` (unreported), counted in the balance and not in the NPL balance.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Literal, get_args

from pydantic import BaseModel, Field

from scoring.pledge_checks import add_months
from scoring.types import EARLIEST, LATEST, FieldError
from scoring.vocab import FROZEN, NPL_CLASSES, NplClass, RepaymentType

NPL_BAD: tuple[NplClass, ...] = ("substandard", "doubtful", "loss")
BookDim = Literal["bank", "region", "industry", "patent_type", "ticket_band", "vintage"]
BOOK_DIMS: tuple[BookDim, ...] = get_args(BookDim)
TicketBand = Literal["under_10m", "10m_to_20m", "20m_and_over"]
TICKET_BANDS: tuple[TicketBand, ...] = get_args(TicketBand)
TEN_M_FEN, TWENTY_M_FEN = 10_000_000_00, 20_000_000_00
TOLERANCE = 0.03
"""Supervisory tolerance: an IP-pledge NPL ratio up to 3 percentage points above the bank's overall ratio."""
Frequency = Literal["monthly", "quarterly"]
PaymentKind = Literal["repayment", "write_off"]


class OutcomeFact(BaseModel):
    """One outcome report of a loan, as dated by its bank."""

    model_config = FROZEN
    as_of: date
    status: Literal["performing", "repaid", "default"]
    npl_class: NplClass
    days_past_due: int = Field(default=0, ge=0)
    default_date: date | None = None


class Payment(BaseModel):
    """Principal the bank reported repaid (or wrote off) on a day, fen."""

    model_config = FROZEN
    on: date
    amount_fen: int = Field(gt=0)
    kind: PaymentKind = "repayment"


class BookLoan(BaseModel):
    """What the book needs of one loan: principal, schedule, dimensions, reports and payments."""

    model_config = FROZEN
    loan_id: str
    principal_fen: int = Field(gt=0)
    origination: date
    tenor_months: int = Field(ge=1)
    repayment_type: RepaymentType = "bullet"
    annual_rate: float | None = Field(default=None, ge=0, le=1)
    bank: str
    region: str = "unknown"
    industry: str = "unknown"
    patent_type: str = "unknown"
    outcomes: tuple[OutcomeFact, ...] = Field(default=(), description="In reporting order (ties on as_of: last wins).")
    payments: tuple[Payment, ...] = ()

    def key(self, dim: BookDim) -> str:
        """The loan's value of one dimension (ticket band and vintage are derived from principal and date)."""
        if dim == "ticket_band":
            return ticket_band(self.principal_fen)
        if dim == "vintage":
            return str(self.origination.year)
        return str(getattr(self, dim))


def ticket_band(principal_fen: int) -> TicketBand:
    """Size band of a loan by its original principal: under ¥10m (inclusive finance), ¥10–20m, ¥20m and over."""
    if principal_fen < TEN_M_FEN:
        return "under_10m"
    return "10m_to_20m" if principal_fen < TWENTY_M_FEN else "20m_and_over"


def schedule(loan: BookLoan) -> list[tuple[date, int]]:
    """Principal due by instalment date, fen; instalments fall monthly on the origination day (clamped).

    The last instalment takes the rounding remainder, so the parts sum to the principal exactly.
    """
    days, cumulative = _schedule(
        loan.principal_fen, loan.origination, loan.tenor_months, loan.repayment_type, loan.annual_rate
    )
    return [(d, c - (cumulative[i - 1] if i else 0)) for i, (d, c) in enumerate(zip(days, cumulative, strict=True))]


@lru_cache(maxsize=65_536)
def _schedule(
    p: int, origination: date, n: int, kind: RepaymentType, rate: float | None
) -> tuple[tuple[date, ...], tuple[int, ...]]:
    """(due dates, cumulative principal due by each), cached: snapshots ask the same loan for many dates."""
    if kind == "bullet":  # one instalment: no need for the other n − 1 dates (a book revalues 100,000 loans)
        return (add_months(origination, n),), (p,)
    days = tuple(add_months(origination, k) for k in range(1, n + 1))
    r = (rate or 0.0) / 12
    if kind == "equal_principal" or r == 0:
        parts = [p // n] * n
    else:
        payment = p * r / (1 - (1 + r) ** -n)
        parts, left = [], float(p)
        for _ in range(n):
            principal = payment - left * r
            parts.append(round(principal))
            left -= principal
    parts[-1] = p - sum(parts[:-1])
    return days, tuple(accumulate(parts))


def scheduled_balance(loan: BookLoan, on: date) -> int:
    """Principal outstanding on ``on`` by the schedule alone, fen (0 before origination)."""
    if on < loan.origination:
        return 0
    days, cumulative = _schedule(
        loan.principal_fen, loan.origination, loan.tenor_months, loan.repayment_type, loan.annual_rate
    )
    due = bisect_right(days, on)
    return loan.principal_fen - (cumulative[due - 1] if due else 0)


def latest_outcome(loan: BookLoan, on: date) -> OutcomeFact | None:
    """The latest report dated on or before ``on`` (a report dated later is not yet a fact)."""
    known = [o for o in loan.outcomes if o.as_of <= on]
    return max(enumerate(known), key=lambda t: (t[1].as_of, t[0]))[1] if known else None


def class_at(loan: BookLoan, on: date) -> NplClass | None:
    """The loan's class on ``on``: that of the latest report dated on or before it; None if unreported."""
    latest = latest_outcome(loan, on)
    return latest.npl_class if latest is not None else None


def balance_at(loan: BookLoan, on: date) -> int:
    """Outstanding principal on ``on``, fen: the schedule frozen at arrears, less reported payments (module doc)."""
    if on < loan.origination:
        return 0
    latest = latest_outcome(loan, on)
    freeze = on
    if latest is not None:
        if latest.status == "repaid":
            return 0
        if latest.status == "default" and latest.default_date is not None:
            freeze = min(on, latest.default_date)
        elif latest.days_past_due > 0:
            freeze = min(on, latest.as_of - timedelta(days=latest.days_past_due))
    paid = sum(p.amount_fen for p in loan.payments if p.on <= on)
    return max(0, min(scheduled_balance(loan, freeze), loan.principal_fen - paid))


class Position(BaseModel):
    """One loan on one day: balance and class."""

    model_config = FROZEN
    loan: BookLoan
    on: date
    balance_fen: int
    npl_class: NplClass | None

    @property
    def npl(self) -> bool:
        """Whether the balance counts as non-performing (substandard, doubtful or loss)."""
        return self.npl_class in NPL_BAD and self.balance_fen > 0


def positions(loans: Iterable[BookLoan], on: date) -> list[Position]:
    """Every loan's position on ``on`` (loans not yet originated included, with no balance)."""
    return [Position(loan=x, on=on, balance_fen=balance_at(x, on), npl_class=class_at(x, on)) for x in loans]


class Cell(BaseModel):
    """Balances of one group of loans on one day, fen."""

    model_config = FROZEN
    keys: dict[str, str] = Field(description="Dimension → value; empty for the total.")
    loans: int = Field(description="Loans with a balance.")
    balance_fen: int
    npl_balance_fen: int
    by_class_fen: dict[str, int] = Field(description="Balance by class; 'unreported' for loans with no report yet.")

    @property
    def npl_ratio(self) -> float | None:
        """NPL balance ÷ balance; None without a balance."""
        return self.npl_balance_fen / self.balance_fen if self.balance_fen else None


def _cell(keys: dict[str, str], group: Sequence[Position]) -> Cell:
    by_class: dict[str, int] = dict.fromkeys([*NPL_CLASSES, "unreported"], 0)
    for p in group:
        by_class[p.npl_class or "unreported"] += p.balance_fen
    return Cell(
        keys=keys,
        loans=sum(1 for p in group if p.balance_fen > 0),
        balance_fen=sum(p.balance_fen for p in group),
        npl_balance_fen=sum(p.balance_fen for p in group if p.npl),
        by_class_fen=by_class,
    )


def tabulate(book: Sequence[Position], by: Sequence[BookDim] = ()) -> tuple[Cell, list[Cell]]:
    """The total and one cell per combination of ``by`` (at most two dimensions) present on the book.

    Cells partition the loans, so their balances and NPL balances sum to the total's exactly.
    """
    if len(by) > 2 or len(set(by)) != len(by):
        raise FieldError("by", "give at most two different dimensions")
    groups: dict[tuple[str, ...], list[Position]] = defaultdict(list)
    for p in book:
        if p.balance_fen > 0:
            groups[tuple(p.loan.key(d) for d in by)].append(p)
    cells = [_cell(dict(zip(by, k, strict=True)), groups[k]) for k in sorted(groups)]
    return _cell({}, [p for p in book if p.balance_fen > 0]), cells


def period_end(period: str) -> date:
    """Last day of a period written ``2026Q3`` (quarter) or ``2026-09`` (month); FieldError ``period`` otherwise."""
    try:
        if len(period) == 6 and period[4] == "Q" and period[5] in "1234":
            year, month = int(period[:4]), 3 * int(period[5])
        elif len(period) == 7 and period[4] == "-":
            year, month = int(period[:4]), int(period[5:])
        else:
            raise ValueError(period)
        if not 1 <= month <= 12 or not EARLIEST.year <= year <= LATEST.year:
            raise ValueError(period)
        first_next = date(year + month // 12, month % 12 + 1, 1)
    except ValueError as exc:
        raise FieldError(
            "period", f"{period!r} is neither a quarter like 2026Q3 nor a month like 2026-09 (years 1985–2199)"
        ) from exc
    return first_next - timedelta(days=1)


def period_start(period: str) -> date:
    """First day of a period written ``2026Q3`` or ``2026-09`` (FieldError ``period`` otherwise)."""
    end = period_end(period)
    return date(end.year, end.month - (2 if "Q" in period else 0), 1)


def period_ends(start: date, end: date, frequency: Frequency) -> list[date]:
    """Month or quarter ends from the one containing ``start`` up to ``end`` inclusive (``end`` last if mid-period)."""
    step = 1 if frequency == "monthly" else 3
    month = start.month if frequency == "monthly" else 3 * ((start.month - 1) // 3) + 1
    out, cursor = [], date(start.year, month, 1)
    while cursor <= end:
        last = add_months(cursor, step) - timedelta(days=1)
        out.append(min(last, end))
        cursor = add_months(cursor, step)
    return out


class Tolerance(BaseModel):
    """A bank's IP-pledge NPL ratio against its overall ratio for a period, and the 3-point tolerance."""

    model_config = FROZEN
    bank: str
    ip_npl_ratio: float | None
    overall_npl_ratio: float | None = Field(description="As the bank reported it; None when not reported.")
    gap: float | None = Field(description="IP-pledge ratio − overall ratio, in ratio units (0.01 = 1 point).")
    within_tolerance: bool | None = Field(description="Gap at most 3 points: not penalised. None without both ratios.")


def tolerance(bank: str, ip_npl_ratio: float | None, overall_npl_ratio: float | None) -> Tolerance:
    """Whether ``bank``'s IP-pledge NPL ratio is within 3 percentage points above its overall one."""
    if ip_npl_ratio is None or overall_npl_ratio is None:
        return Tolerance(
            bank=bank, ip_npl_ratio=ip_npl_ratio, overall_npl_ratio=overall_npl_ratio, gap=None, within_tolerance=None
        )
    gap = ip_npl_ratio - overall_npl_ratio
    return Tolerance(
        bank=bank,
        ip_npl_ratio=ip_npl_ratio,
        overall_npl_ratio=overall_npl_ratio,
        gap=gap,
        within_tolerance=gap <= TOLERANCE + 1e-12,
    )
