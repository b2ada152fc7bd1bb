"""Registrations of a loan's pledge with CNIPA (专利权质押登记), recorded and changed by the lending bank.

A registration is per pledged patent; one CNIPA registration number may cover
several patents of one contract.  Its steps are the table
:data:`scoring.pledge_life.REGISTRATION_STEPS` (applied → registered → changed
…; released only when the loan's pledge ends), each appended to the pledge's
history and audited.  Registrations are recorded only while the patents are
pledged; once every pledged patent's registration is in force, a ``booked``
loan becomes ``registered``.

Dates: none after today (Beijing); none before the earlier of the loan's
assessment date and its origination date — the pledge contract that CNIPA
registers secures this loan, which did not exist before it was assessed or
originated (a loan booked after the fact may have originated before its
assessment, so the earlier of the two bounds it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlmodel import Session, select

from scoring.patent_ids import PatentIdError
from scoring.pledge_life import RegistrationStatus, TransitionRefused, next_registration
from service.auth import Principal
from service.db import audit
from service.db.pledge_tables import PledgeRegistration
from service.db.tables import Assessment, Loan, LoanPatent
from service.errors import Conflict, InvalidInput, NotFound
from service.patent_ids import canonical_stored_id
from service.schemas.loans import LoanPublic
from service.schemas.pledges import RegistrationChange, RegistrationCreate
from service.usecases.loan_views import loan_public
from service.usecases.pledge_life import allow, locked_loan, record, registered_since, state_of, transition


def _earliest(session: Session, loan: Loan) -> date:
    a = session.get(Assessment, loan.assessment_id)
    return min(a.as_of, loan.origination_date) if a is not None else loan.origination_date


def _check_dates(session: Session, loan: Loan, reg: PledgeRegistration, *, today: date) -> None:
    """422 naming the first date of ``reg`` that is in the future, too early, or out of order."""
    earliest = _earliest(session, loan)
    for name in ("applied_on", "registration_date", "changed_on"):
        day: date | None = getattr(reg, name)
        if day is None:
            continue
        if day > today:
            raise InvalidInput(f"{day} is after today ({today}, Beijing)", field=name)
        if day < earliest:
            raise InvalidInput(
                f"{day} is before the loan was assessed or originated ({earliest}): a registration of another pledge",
                field=name,
            )
    if reg.applied_on and reg.registration_date and reg.registration_date < reg.applied_on:
        raise InvalidInput(f"is before the application on {reg.applied_on}", field="registration_date")
    if reg.changed_on and reg.registration_date and reg.changed_on < reg.registration_date:
        raise InvalidInput(f"is before the registration on {reg.registration_date}", field="changed_on")
    if reg.term_end <= reg.term_start:
        raise InvalidInput(f"{reg.term_end} is not after term_start {reg.term_start}", field="term_end")
    if reg.registration_date and reg.registration_date > reg.term_end:
        raise InvalidInput(f"the pledge term ended on {reg.term_end}, before registration", field="term_end")


def _step(status: str | None, to: RegistrationStatus) -> RegistrationStatus:
    try:
        return next_registration(cast(RegistrationStatus | None, status), to)
    except TransitionRefused as exc:
        raise Conflict(str(exc), field="status") from exc


def _after_recording(session: Session, principal: Principal, loan: Loan, *, now: datetime) -> None:
    """A booked loan whose every pledged patent is now registered becomes ``registered`` (on the last one's day)."""
    session.flush()
    if state_of(loan) == "booked" and (since := registered_since(session, loan.id)) is not None:
        transition(session, principal, loan, "register", on=since, now=now)


def _audit(session: Session, principal: Principal, loan: Loan, action: str, detail: dict[str, object]) -> None:
    audit.append_by(
        session,
        principal,
        action=action,
        resource_type="loan",
        resource_id=loan.id,
        detail=detail,
    )


def record_registrations(
    session: Session, principal: Principal, loan_id: str, req: RegistrationCreate, *, today: date, now: datetime
) -> LoanPublic:
    """Record the registration (or application) of the pledge of some or all of the loan's patents."""
    loan = locked_loan(session, principal, loan_id)
    allow(loan, "record_registration")
    pledged = list(session.exec(select(LoanPatent.patent_id).where(LoanPatent.loan_id == loan.id)).all())
    targets = req.patent_ids or pledged
    for i, pid in enumerate(targets):
        if pid not in pledged:
            raise InvalidInput(f"{pid} is not pledged to loan {loan.id}", field=f"patent_ids.{i}")
    existing = {
        r.patent_id for r in session.exec(select(PledgeRegistration).where(PledgeRegistration.loan_id == loan.id)).all()
    }
    if taken := sorted(set(targets) & existing):
        raise Conflict(f"already recorded for {taken}: send a change to .../registrations/{{patent_id}}/changes")
    values = req.model_dump(exclude={"patent_ids"})
    for pid in sorted(targets):
        reg = PledgeRegistration(loan_id=loan.id, patent_id=pid, **values)
        reg.status = _step(None, req.status)
        _check_dates(session, loan, reg, today=today)
        session.add(reg)
        record(
            session,
            principal,
            loan.id,
            patent_id=pid,
            event="record",
            from_state=None,
            to_state=reg.status,
            occurred_on=req.registration_date or req.applied_on or today,
            detail=req.model_dump(mode="json"),
        )
    _audit(
        session,
        principal,
        loan,
        "pledge.registration.record",
        {"patents": sorted(targets), **req.model_dump(mode="json")},
    )
    _after_recording(session, principal, loan, now=now)
    return loan_public(session, loan)


def change_registration(
    session: Session,
    principal: Principal,
    loan_id: str,
    patent_id: str,
    req: RegistrationChange,
    *,
    today: date,
    now: datetime,
) -> LoanPublic:
    """The next step of one patent's registration: registered after its application, or changed."""
    loan = locked_loan(session, principal, loan_id)
    try:
        pid = canonical_stored_id(patent_id)
    except PatentIdError as exc:
        raise InvalidInput(f"patent id {exc.problem}", field="patent_id") from exc
    reg = session.exec(
        select(PledgeRegistration).where(PledgeRegistration.loan_id == loan.id, PledgeRegistration.patent_id == pid)
    ).first()
    if reg is None:
        raise NotFound(f"no registration of {pid} on loan {loan.id}", field="patent_id")
    allow(loan, "record_registration")
    before = reg.status
    reg.status = _step(before, req.status)
    for name, value in req.model_dump(exclude={"status", "reason"}, exclude_none=True).items():
        setattr(reg, name, value)
    reg.updated_at = now
    _check_dates(session, loan, reg, today=today)
    session.add(reg)
    on = req.changed_on or req.registration_date or today
    record(
        session,
        principal,
        loan.id,
        patent_id=pid,
        event="change" if req.status == "changed" else "register",
        from_state=before,
        to_state=reg.status,
        occurred_on=on,
        reason=req.reason,
        detail=req.model_dump(mode="json"),
    )
    _audit(session, principal, loan, "pledge.registration.change", {"patent": pid, **req.model_dump(mode="json")})
    _after_recording(session, principal, loan, now=now)
    return loan_public(session, loan)
