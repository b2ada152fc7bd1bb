"""A fund's rules: versions in force from a date, and who may backdate one.

A claim is judged under the version in force on its default date, a pooled
loan enters under the version in force on its entry date.
"""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import func
from sqlmodel import Session, col, select

from scoring.funds import FundRules
from service.auth import Principal
from service.db.fund_tables import Claim, FundRuleVersion
from service.errors import Conflict, InvalidInput
from service.schemas.funds import RuleVersionCreate, RuleVersionPublic
from service.usecases.funds.access import audit_fund, locked_fund, visible_fund


def rule_version_on(session: Session, fund_id: str, day: date) -> FundRuleVersion | None:
    """The rule version in force on ``day``: the latest ``effective_from`` not after it."""
    return session.exec(
        select(FundRuleVersion)
        .where(FundRuleVersion.fund_id == fund_id, col(FundRuleVersion.effective_from) <= day)
        .order_by(col(FundRuleVersion.effective_from).desc())
    ).first()


def rules_of(session: Session, fund_id: str, version: int) -> FundRules:
    """The rules of one stored version."""
    row = session.exec(
        select(FundRuleVersion).where(FundRuleVersion.fund_id == fund_id, FundRuleVersion.version == version)
    ).one()
    return FundRules.model_validate(row.rules)


def _version_public(v: FundRuleVersion) -> RuleVersionPublic:
    return RuleVersionPublic(
        fund_id=v.fund_id,
        version=v.version,
        effective_from=v.effective_from,
        rules=FundRules.model_validate(v.rules),
        created_at=v.created_at.replace(tzinfo=UTC),
        created_by=v.created_by,
    )


def _check_backdating(session: Session, principal: Principal, fund_id: str, req: RuleVersionCreate, on: date) -> None:
    """A version in force before today: the regulator only, with a reason, never under an already-filed claim.

    A claim is judged under the version in force on its default date, so a backdated version would re-judge
    every claim whose default date falls on or after its first day: 409 if any such claim was filed.
    """
    if req.effective_from >= on:
        return
    if principal.role != "regulator":
        raise InvalidInput(
            f"effective_from {req.effective_from} is before today ({on}): a fund manager's rule "
            "version takes effect today or later; ask the regulator to backdate it",
            field="effective_from",
        )
    if req.reason is None or not req.reason.strip():
        raise InvalidInput(f"a rule version in force before today ({on}) needs a reason", field="reason")
    filed = session.exec(
        select(Claim)
        .where(Claim.fund_id == fund_id, Claim.default_date >= req.effective_from)
        .order_by(col(Claim.default_date))
    ).first()
    if filed is not None:
        raise Conflict(
            f"claim {filed.id} (default date {filed.default_date}) was filed under the rules in force then; "
            f"a version from {req.effective_from} would change how it is judged",
            field="effective_from",
        )


def add_rule_version(
    session: Session, principal: Principal, fund_id: str, req: RuleVersionCreate, *, on: date
) -> RuleVersionPublic:
    """Store the next version of a fund's rules (see :func:`_check_backdating`); 409 if one already starts that day."""
    locked_fund(session, principal, fund_id)  # version numbers are assigned one at a time; no claim is filed meanwhile
    _check_backdating(session, principal, fund_id, req, on)
    taken = session.exec(
        select(FundRuleVersion).where(
            FundRuleVersion.fund_id == fund_id, FundRuleVersion.effective_from == req.effective_from
        )
    ).first()
    if taken is not None:
        raise Conflict(f"version {taken.version} already takes effect on {req.effective_from}", field="effective_from")
    last = session.exec(select(func.max(FundRuleVersion.version)).where(FundRuleVersion.fund_id == fund_id)).one()
    v = FundRuleVersion(
        fund_id=fund_id,
        version=(last or 0) + 1,
        effective_from=req.effective_from,
        rules=req.rules.model_dump(mode="json"),
        created_by=principal.institution,
    )
    session.add(v)
    session.flush()
    backdated = req.effective_from < on
    audit_fund(
        session,
        principal,
        "fund.rules.backdate" if backdated else "fund.rules",
        "fund",
        fund_id,
        {
            "version": v.version,
            "effective_from": req.effective_from.isoformat(),
            "name": req.rules.name,
            "entered_on": on.isoformat(),
            "backdated_days": max((on - req.effective_from).days, 0),
            "reason": req.reason,
        },
    )
    return _version_public(v)


def list_rule_versions(session: Session, principal: Principal, fund_id: str) -> list[RuleVersionPublic]:
    """Every version of a fund's rules, oldest first."""
    visible_fund(session, principal, fund_id)
    rows = session.exec(
        select(FundRuleVersion).where(FundRuleVersion.fund_id == fund_id).order_by(col(FundRuleVersion.version))
    ).all()
    return [_version_public(v) for v in rows]
