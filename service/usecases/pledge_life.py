"""The pledge life applied to stored loans: transitions, the release of patents, disposal and explicit release.

The allowed transitions are one table, :data:`scoring.pledge_life.TRANSITIONS`;
this module only applies it.  A transition locks the loan's row first (on
PostgreSQL ``SELECT … FOR UPDATE``; SQLite has one writer), so two requests
moving one loan — a repayment report and a release, say — are judged one
after the other against the state the first left.  A refused transition is a
409 naming the current state and the requested event; every transition that
changes the state is stored in ``pledge_events`` and audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlmodel import Session, col, select

from scoring.pledge_life import (
    CREDIT_STATUS,
    IN_FORCE,
    PledgeEvent,
    PledgeState,
    RegistrationStatus,
    TransitionRefused,
    next_registration,
    next_state,
    releases,
)
from scoring.vocab.money import to_fen
from service.auth import Principal
from service.db import audit
from service.db.pledge_tables import PledgeEvent as EventRow
from service.db.pledge_tables import PledgeRegistration
from service.db.tables import Loan, LoanPatent
from service.errors import Conflict, InvalidInput, NotFound
from service.schemas.loans import LoanPublic
from service.schemas.pledges import DisposalReport, ReleaseRequest
from service.usecases.loan_views import loan_public


def locked_loan(session: Session, principal: Principal, loan_id: str, *, field: str | None = None) -> Loan:
    """The caller's loan, its row locked for this transaction; 404 as if absent when it is another's."""
    loan = session.get(Loan, loan_id, with_for_update=True, populate_existing=True)
    if loan is None or loan.institution != principal.institution:
        raise NotFound(f"no loan {loan_id}", field=field)
    return loan


def state_of(loan: Loan) -> PledgeState:
    """The loan's pledge state (only this module writes it, from the table's states)."""
    return cast(PledgeState, loan.pledge_state)


def allow(loan: Loan, event: PledgeEvent, *, field: str | None = None) -> PledgeState:
    """The state ``event`` would lead to; 409 naming the state and the event if the table has no such step."""
    try:
        return next_state(state_of(loan), event)
    except TransitionRefused as exc:
        raise Conflict(f"loan {loan.id}: {exc}", field=field) from exc


def record(session: Session, principal: Principal, loan_id: str, **values: Any) -> EventRow:
    """Append one event to the pledge's history (never updated or deleted)."""
    row = EventRow(loan_id=loan_id, institution=principal.institution, key_id=principal.key_id, **values)
    session.add(row)
    return row


def transition(
    session: Session,
    principal: Principal,
    loan: Loan,
    event: PledgeEvent,
    *,
    on: date,
    now: datetime,
    reason: str | None = None,
    price_fen: int | None = None,
    field: str | None = None,
) -> PledgeState:
    """Apply ``event`` to ``loan`` (409 if impossible); a new state is stored, audited and may release the patents."""
    before = state_of(loan)
    after = allow(loan, event, field=field)
    if after == before:
        return after  # a repeated report: the outcome itself is stored and audited by its use case
    loan.pledge_state, loan.status = after, CREDIT_STATUS[after]
    if loan.status == "closed" and loan.closed_at is None:
        loan.closed_at = now
    session.add(loan)
    record(
        session,
        principal,
        loan.id,
        event=event,
        from_state=before,
        to_state=after,
        occurred_on=on,
        reason=reason,
        price_fen=price_fen,
    )
    if releases(before, after):
        release_patents(session, principal, loan, on=on)
    audit.append_by(
        session,
        principal,
        action=f"pledge.{event}",
        resource_type="loan",
        resource_id=loan.id,
        detail={"from": before, "to": after, "on": on.isoformat(), "reason": reason, "price_fen": price_fen},
    )
    session.flush()
    return after


def release_patents(session: Session, principal: Principal, loan: Loan, *, on: date) -> None:
    """End the pledge of every patent of ``loan`` on ``on``: free for another pledge, registrations released."""
    for lp in session.exec(select(LoanPatent).where(col(LoanPatent.loan_id) == loan.id)).all():
        lp.active = False
        session.add(lp)
    for reg in session.exec(select(PledgeRegistration).where(PledgeRegistration.loan_id == loan.id)).all():
        if reg.status == "released":
            continue
        before = reg.status
        reg.status = next_registration(cast(RegistrationStatus, before), "released")
        reg.released_on = on
        session.add(reg)
        record(
            session,
            principal,
            loan.id,
            patent_id=reg.patent_id,
            event="release",
            from_state=before,
            to_state="released",
            occurred_on=on,
        )


def registered_since(session: Session, loan_id: str) -> date | None:
    """The day the last of the loan's pledged patents was registered, or None while one is not in force.

    In force: registered or changed, not applied or released (Civil Code art. 444: the pledge
    of a patent right is created on registration).
    """
    pledged = set(session.exec(select(LoanPatent.patent_id).where(LoanPatent.loan_id == loan_id)).all())
    regs = session.exec(select(PledgeRegistration).where(PledgeRegistration.loan_id == loan_id)).all()
    in_force = {r.patent_id: r.registration_date for r in regs if r.status in IN_FORCE}
    if not pledged or not pledged <= set(in_force):
        return None
    return max(d for pid, d in in_force.items() if pid in pledged and d is not None)


def last_transition_on(session: Session, loan_id: str) -> date | None:
    """The business date of the loan's latest state transition (None before any)."""
    return session.exec(
        select(col(EventRow.occurred_on))
        .where(EventRow.loan_id == loan_id, col(EventRow.patent_id).is_(None))
        .order_by(col(EventRow.id).desc())
        .limit(1)
    ).first()


def _dated(session: Session, loan: Loan, on: date, *, today: date, field: str) -> None:
    if on > today:
        raise InvalidInput(f"{on} is after today ({today}, Beijing)", field=field)
    since = last_transition_on(session, loan.id) or loan.origination_date
    if on < since:
        raise InvalidInput(f"{on} is before the loan became {loan.pledge_state} on {since}", field=field)


def report_disposal(
    session: Session, principal: Principal, loan_id: str, req: DisposalReport, *, today: date, now: datetime
) -> LoanPublic:
    """A defaulted loan's patents go into disposal, or have been disposed of (which ends their pledge)."""
    loan = locked_loan(session, principal, loan_id)
    event: PledgeEvent = "start_disposal" if req.stage == "started" else "dispose"
    allow(loan, event, field="stage")
    _dated(session, loan, req.on, today=today, field="on")
    price = to_fen(req.price_cny) if req.price_cny is not None else None
    transition(session, principal, loan, event, on=req.on, now=now, reason=req.reason, price_fen=price)
    return loan_public(session, loan)


def release_loan(
    session: Session, principal: Principal, loan_id: str, req: ReleaseRequest, *, today: date, now: datetime
) -> LoanPublic:
    """Release a defaulted loan's patents without disposal, for the reason given."""
    loan = locked_loan(session, principal, loan_id)
    allow(loan, "release")
    on = req.on or today
    _dated(session, loan, on, today=today, field="on")
    transition(session, principal, loan, "release", on=on, now=now, reason=req.reason)
    return loan_public(session, loan)
