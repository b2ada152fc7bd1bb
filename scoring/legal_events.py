"""Legal-status events of a patent after booking, and what each does to the patent's current facts.

An event is a typed fact dated ``on`` (a discriminated union on ``type``); :func:`apply_event`
turns the current :class:`LegalFacts` (the :class:`~scoring.types.Patent` every later valuation
reads, plus what the watch needs beside it: fee deadlines, open cases, the pledge's registration)
into the next.  Pure: the service stores the events and the facts (docs/after-booking.md).

Annual fees (专利法实施细则, 2023 revision, art. 116 / 2010 revision art. 98): a fee is due by
the anniversary of the filing date; an unpaid fee may be paid within 6 months of that day with a
surcharge of 5% of the full year's fee for each month late beyond the first (no surcharge within
the first month, 25% in the sixth); unpaid after that, the patent lapses from the due date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from scoring.pledge_checks import add_months
from scoring.types import Day, Patent
from scoring.vocab import FROZEN, OwnerType
from scoring.vocab.money import Money
from scoring.vocab.shares import Share

GRACE_MONTHS = 6
"""Months after the due date in which an unpaid annual fee may still be paid (with the surcharge)."""
SURCHARGE_PER_MONTH = Decimal("0.05")
"""Share of the full year's fee added for each month late beyond the first."""

EventType = Literal[
    "fee_paid",
    "fee_due",
    "lapsed",
    "restored",
    "invalidation_requested",
    "invalidation_decided",
    "transferred",
    "licensed",
    "litigation_filed",
    "litigation_decided",
    "preservation_ordered",
    "preservation_lifted",
    "pledge_registration_changed",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
InvalidationOutcome = Literal["upheld", "partially_invalidated", "wholly_invalidated"]
LicenceKind = Literal["exclusive", "sole", "ordinary", "open"]
LitigationKind = Literal["infringement", "ownership", "other"]
LitigationOutcome = Literal["won", "lost", "settled", "withdrawn"]
RegistrationChange = Literal["registered", "changed", "released"]
CaseText = Annotated[str, Field(min_length=1, max_length=64)]


class _Event(BaseModel):
    model_config = FROZEN
    on: Day = Field(description="The day the event happened (not after today, Beijing).")


class FeePaid(_Event):
    """An annual fee (年费) paid for ``fee_year`` (1 = the first year from filing)."""

    type: Literal["fee_paid"] = "fee_paid"
    fee_year: int = Field(ge=1, le=20)
    amount_cny: Money | None = None
    surcharge_cny: Money | None = Field(default=None, description="滞纳金 paid with it, if late.")


class FeeDue(_Event):
    """An annual fee falls due on ``due_date`` (may lie ahead); ``amount_cny`` the full year's fee."""

    type: Literal["fee_due"] = "fee_due"
    fee_year: int = Field(ge=1, le=20)
    due_date: Day
    amount_cny: Money | None = None


class Lapsed(_Event):
    """The patent lapsed (专利权终止), e.g. for fees unpaid after the grace period."""

    type: Literal["lapsed"] = "lapsed"
    reason: Literal["fees_unpaid", "abandoned", "other"] = "fees_unpaid"


class Restored(_Event):
    """The patent's rights were restored (恢复权利) after a lapse."""

    type: Literal["restored"] = "restored"


class InvalidationRequested(_Event):
    """Someone requested invalidation (无效宣告请求)."""

    type: Literal["invalidation_requested"] = "invalidation_requested"
    case_number: CaseText


class InvalidationDecided(_Event):
    """The decision on an invalidation request: upheld, partly or wholly invalidated."""

    type: Literal["invalidation_decided"] = "invalidation_decided"
    case_number: CaseText
    outcome: InvalidationOutcome
    claims_remaining: int | None = Field(
        default=None, ge=1, le=500, description="Claims left after a partial invalidation (required then)."
    )


class Transferred(_Event):
    """The patent was transferred (转让) to a new owner."""

    type: Literal["transferred"] = "transferred"
    new_owner_id: str = Field(min_length=1, max_length=64)
    new_owner_type: OwnerType = "enterprise"


class Licensed(_Event):
    """A licence was granted; ``open`` is an open licence (开放许可) with its published royalty."""

    type: Literal["licensed"] = "licensed"
    kind: LicenceKind
    royalty_rate: Share | None = Field(default=None, description="Share of net sales (required for an open licence).")
    licensee: str | None = Field(default=None, max_length=200)


class LitigationFiled(_Event):
    """A lawsuit about the patent was filed; an ownership suit is an ownership dispute."""

    type: Literal["litigation_filed"] = "litigation_filed"
    case_number: CaseText
    kind: LitigationKind = "infringement"


class LitigationDecided(_Event):
    """A lawsuit about the patent ended."""

    type: Literal["litigation_decided"] = "litigation_decided"
    case_number: CaseText
    outcome: LitigationOutcome


class PreservationOrdered(_Event):
    """A court preservation order (财产保全) froze the patent."""

    type: Literal["preservation_ordered"] = "preservation_ordered"
    case_number: CaseText
    court: str | None = Field(default=None, max_length=200)


class PreservationLifted(_Event):
    """A preservation order was lifted."""

    type: Literal["preservation_lifted"] = "preservation_lifted"
    case_number: CaseText


class PledgeRegistrationChanged(_Event):
    """The pledge's registration at CNIPA changed: registered, changed (new term) or released."""

    type: Literal["pledge_registration_changed"] = "pledge_registration_changed"
    change: RegistrationChange
    term_end: Day | None = Field(default=None, description="The registered pledge term's last day, if stated.")


LegalEvent = Annotated[
    FeePaid
    | FeeDue
    | Lapsed
    | Restored
    | InvalidationRequested
    | InvalidationDecided
    | Transferred
    | Licensed
    | LitigationFiled
    | LitigationDecided
    | PreservationOrdered
    | PreservationLifted
    | PledgeRegistrationChanged,
    Field(discriminator="type"),
]
"""One legal-status event, typed by its ``type``."""


class LegalFacts(BaseModel):
    """A patent's current facts: the patent itself and what the watch reads beside it."""

    model_config = FROZEN
    patent: Patent
    fee_due_date: date | None = Field(default=None, description="The next unpaid annual fee's due date.")
    fee_due_year: int | None = None
    fee_due_amount_cny: Money | None = None
    open_invalidations: tuple[str, ...] = ()
    open_litigation: tuple[str, ...] = ()
    preservation_orders: tuple[str, ...] = ()
    open_licence_royalty: Share | None = Field(default=None, description="Published royalty of an open licence.")
    pledge_registration: RegistrationChange | None = None
    pledge_term_end: date | None = None
    last_event_on: date | None = None
    owner_revenue_cny: float | None = Field(
        default=None, ge=0, description="The borrower's revenue the assessment valued the patent with (a model input)."
    )


class EventRefused(ValueError):
    """An event that does not fit the facts (``field`` names the field; the service answers 422)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def check_event(event: LegalEvent) -> None:
    """Rules across an event's fields (:class:`EventRefused` naming the field)."""
    if isinstance(event, Licensed) and event.kind == "open" and event.royalty_rate is None:
        raise EventRefused("royalty_rate", "an open licence (开放许可) publishes its royalty: give it")
    if isinstance(event, InvalidationDecided):
        partial = event.outcome == "partially_invalidated"
        if partial and event.claims_remaining is None:
            raise EventRefused("claims_remaining", "a partial invalidation leaves some claims: give how many")
        if not partial and event.claims_remaining is not None:
            raise EventRefused("claims_remaining", "only a partial invalidation leaves a number of claims")


def grace_end(due: date) -> date:
    """The last day an annual fee due on ``due`` may be paid (with the surcharge)."""
    return add_months(due, GRACE_MONTHS)


def months_late(due: date, paid: date) -> int:
    """Started months after ``due`` on ``paid`` (0 on or before the due date; 1 within the first month)."""
    if paid <= due:
        return 0
    months = 0
    while add_months(due, months) < paid:
        months += 1
    return months


def surcharge_share(due: date, paid: date) -> Decimal:
    """The surcharge (滞纳金) as a share of the year's fee: 5% per month late beyond the first, at most 25%."""
    late = min(months_late(due, paid), GRACE_MONTHS)
    return SURCHARGE_PER_MONTH * max(0, late - 1)


def _without(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return tuple(i for i in items if i != item)


def _with(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return items if item in items else (*items, item)


def apply_event(facts: LegalFacts, event: LegalEvent) -> LegalFacts:
    """The facts after ``event``: the patent's fields every valuation reads, and the watch's own."""
    p, f = facts.patent, facts
    patent: dict[str, object] = {}
    watch: dict[str, object] = {"last_event_on": max(event.on, f.last_event_on or event.on)}
    match event:
        case FeePaid():
            patent |= {"annual_fees_paid_years": max(p.annual_fees_paid_years, event.fee_year), "fees_up_to_date": True}
            if f.fee_due_year is not None and event.fee_year >= f.fee_due_year:
                watch |= {"fee_due_date": None, "fee_due_year": None, "fee_due_amount_cny": None}
        case FeeDue():
            if event.fee_year > p.annual_fees_paid_years:
                watch |= {"fee_due_date": event.due_date, "fee_due_year": event.fee_year}
                watch["fee_due_amount_cny"] = event.amount_cny
        case Lapsed():
            patent |= {"legal_status": "lapsed", "fees_up_to_date": event.reason != "fees_unpaid"}
        case Restored():  # back to what it was before the lapse: granted, or an application if never granted
            patent |= {"legal_status": "granted" if p.grant_date else "pending", "fees_up_to_date": True}
        case InvalidationRequested():
            patent |= {"invalidation_requests": p.invalidation_requests + 1, "invalidation_pending": True}
            watch["open_invalidations"] = _with(f.open_invalidations, event.case_number)
        case InvalidationDecided():
            still = _without(f.open_invalidations, event.case_number)
            patent["invalidation_pending"] = bool(still)
            watch["open_invalidations"] = still
            if event.outcome == "wholly_invalidated":
                patent["legal_status"] = "invalidated"
            elif event.outcome == "partially_invalidated" and event.claims_remaining and p.claims_count is not None:
                claims = min(event.claims_remaining, p.claims_count)  # a design has no claims to count
                patent |= {"claims_count": claims, "independent_claims": min(p.independent_claims or 1, claims)}
        case Transferred():
            patent |= {
                "owner_id": event.new_owner_id,
                "owner_type": event.new_owner_type,
                "transfers_count": p.transfers_count + 1,
            }
        case Licensed():
            patent["licences_count"] = p.licences_count + 1
            if event.kind == "open":
                watch["open_licence_royalty"] = event.royalty_rate
        case LitigationFiled():
            patent["litigation_count"] = p.litigation_count + 1
            if event.kind == "ownership":
                patent["ownership_dispute"] = True
            watch["open_litigation"] = _with(f.open_litigation, f"{event.kind}:{event.case_number}")
        case LitigationDecided():
            still = tuple(c for c in f.open_litigation if c.split(":", 1)[1] != event.case_number)
            watch["open_litigation"] = still
            patent["ownership_dispute"] = any(c.startswith("ownership:") for c in still)
        case PreservationOrdered():
            patent["preservation_order"] = True
            watch["preservation_orders"] = _with(f.preservation_orders, event.case_number)
        case PreservationLifted():
            still = _without(f.preservation_orders, event.case_number)
            patent["preservation_order"] = bool(still)
            watch["preservation_orders"] = still
        case PledgeRegistrationChanged():
            watch["pledge_registration"] = event.change
            if event.term_end is not None:
                watch["pledge_term_end"] = event.term_end
    new_patent = Patent.model_validate({**p.model_dump(), **patent}) if patent else p
    return f.model_copy(update={**watch, "patent": new_patent})
