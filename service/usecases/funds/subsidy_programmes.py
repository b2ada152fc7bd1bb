"""Subsidy programmes of a fund as versioned rule data: which version is in force on a day, adding one.

A version takes effect today or later; only the regulator backdates one, with a reason, and never under
an application filed on or after its first day.  A programme keeps its kind across versions.
"""

from __future__ import annotations

from datetime import UTC, date

from sqlmodel import Session, col, select

from scoring.subsidies import SubsidyRules
from service.auth import Principal
from service.db.fund_tables import SubsidyApplication, SubsidyVersion
from service.errors import Conflict, InvalidInput
from service.schemas import subsidies as api
from service.usecases.funds.access import audit_fund, locked_fund, visible_fund


def latest_version(session: Session, fund_id: str, programme: str) -> SubsidyVersion | None:
    return session.exec(
        select(SubsidyVersion)
        .where(SubsidyVersion.fund_id == fund_id, SubsidyVersion.programme == programme)
        .order_by(col(SubsidyVersion.version).desc())
    ).first()


def version_on(session: Session, fund_id: str, programme: str, day: date) -> SubsidyVersion | None:
    """The programme's version in force on ``day``."""
    return session.exec(
        select(SubsidyVersion)
        .where(
            SubsidyVersion.fund_id == fund_id,
            SubsidyVersion.programme == programme,
            col(SubsidyVersion.effective_from) <= day,
        )
        .order_by(col(SubsidyVersion.effective_from).desc())
    ).first()


def _version_public(v: SubsidyVersion) -> api.ProgrammeVersionPublic:
    return api.ProgrammeVersionPublic(
        fund_id=v.fund_id,
        programme=v.programme,
        version=v.version,
        effective_from=v.effective_from,
        rules=SubsidyRules.model_validate(v.rules),
        created_at=v.created_at.replace(tzinfo=UTC),
        created_by=v.created_by,
    )


def _check_backdating(
    session: Session, principal: Principal, fund_id: str, req: api.ProgrammeVersionCreate, on: date
) -> None:
    if req.effective_from >= on:
        return
    if principal.role != "regulator":
        raise InvalidInput(
            f"effective_from {req.effective_from} is before today ({on}): ask the regulator to backdate it",
            field="effective_from",
        )
    if req.reason is None:
        raise InvalidInput(f"a version in force before today ({on}) needs a reason", field="reason")
    filed = session.exec(
        select(SubsidyApplication).where(
            SubsidyApplication.fund_id == fund_id,
            SubsidyApplication.programme == req.programme,
            SubsidyApplication.applied_on >= req.effective_from,
        )
    ).first()
    if filed is not None:
        raise Conflict(f"application {filed.id} was judged under the version in force then", field="effective_from")


def add_version(
    session: Session, principal: Principal, fund_id: str, req: api.ProgrammeVersionCreate, *, on: date
) -> api.ProgrammeVersionPublic:
    """Store the next version of a programme (today or later; earlier: the regulator, with a reason)."""
    locked_fund(session, principal, fund_id)
    _check_backdating(session, principal, fund_id, req, on)
    same = (SubsidyVersion.fund_id == fund_id, SubsidyVersion.programme == req.programme)
    if session.exec(select(SubsidyVersion).where(*same, SubsidyVersion.effective_from == req.effective_from)).first():
        raise Conflict(
            f"a version of {req.programme} already takes effect on {req.effective_from}", field="effective_from"
        )
    last = latest_version(session, fund_id, req.programme)
    if last is not None and SubsidyRules.model_validate(last.rules).kind != req.rules.kind:
        raise InvalidInput(f"programme {req.programme} pays {last.rules['kind']}: its kind stays", field="rules.kind")
    v = SubsidyVersion(
        fund_id=fund_id,
        programme=req.programme,
        version=(last.version if last else 0) + 1,
        effective_from=req.effective_from,
        rules=req.rules.model_dump(mode="json"),
        created_by=principal.institution,
    )
    session.add(v)
    session.flush()
    detail = {"programme": req.programme, "version": v.version, "effective_from": req.effective_from.isoformat()}
    audit_fund(session, principal, "fund.subsidy.programme", "fund", fund_id, {**detail, "reason": req.reason})
    return _version_public(v)


def list_versions(session: Session, principal: Principal, fund_id: str) -> list[api.ProgrammeVersionPublic]:
    """Every version of every programme of the fund."""
    visible_fund(session, principal, fund_id)
    rows = session.exec(
        select(SubsidyVersion)
        .where(SubsidyVersion.fund_id == fund_id)
        .order_by(col(SubsidyVersion.programme), col(SubsidyVersion.version))
    ).all()
    return [_version_public(v) for v in rows]
