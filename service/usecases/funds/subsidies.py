"""Subsidy applications: judged and computed, paid through the ledger, counted for the regulator.

An application is judged under the programme version (:mod:`.subsidy_programmes`) in force on the day
that dates it (the interest period's end, or the day the premium or fee was paid), as claims are by
their default date.  Payment runs under
the fund lock and posts Dr subsidies_paid, Cr subsidy_cash: the subsidy account is funded by deposits
to it (``account: subsidy``) and never draws on the risk-compensation cash.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from scoring.fund_checks import RuleCheck
from scoring.fund_reasons import subsidy_step_reason
from scoring.subsidies import (
    SUBSIDY_KINDS,
    Applicant,
    SubsidyFacts,
    SubsidyKind,
    SubsidyRules,
    SubsidyStep,
    compute_subsidy,
    subsidy_checks,
)
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_cny
from service.auth import Principal
from service.configuration import FundContext
from service.db.fund_tables import SubsidyApplication
from service.errors import Conflict, InvalidInput, NotFound
from service.schemas import subsidies as api
from service.usecases.funds import ledger
from service.usecases.funds.access import audit_fund, locked_fund, visible_fund
from service.usecases.funds.subsidy_programmes import latest_version, version_on
from service.usecases.funds.views import checks_public

# stored strings back to their vocabularies (the columns hold only these values)
KINDS: dict[str, SubsidyKind] = {k: k for k in SUBSIDY_KINDS}
APPLICANTS: dict[str, Applicant] = {"bank": "bank", "enterprise": "enterprise"}
STATUSES: dict[str, api.ApplicationStatus] = {"pending": "pending", "paid": "paid", "rejected": "rejected"}


def application_public(row: SubsidyApplication, ctx: FundContext, lang: Lang) -> api.ApplicationPublic:
    """An application with its reasons in ``lang``."""
    steps = [SubsidyStep.model_validate(s) for s in row.steps]
    return api.ApplicationPublic(
        id=row.id,
        fund_id=row.fund_id,
        programme=row.programme,
        version=row.version,
        kind=KINDS[row.kind],
        filed_by=row.filed_by,
        applicant=APPLICANTS[row.applicant],
        enterprise_id=row.enterprise_id,
        applied_on=row.applied_on,
        year=row.year,
        eligible=row.eligible,
        status=STATUSES[row.status],
        checks=checks_public(row.checks, ctx, lang),
        steps=[
            api.StepPublic(step=s.step, amount_cny=to_cny(s.amount_fen), reason=subsidy_step_reason(s, ctx.texts, lang))
            for s in steps
        ],
        amount_cny=to_cny(row.amount_fen),
        facts=SubsidyFacts.model_validate(row.facts),
        decision_reason=row.decision_reason,
        decided_at=row.decided_at.replace(tzinfo=UTC) if row.decided_at else None,
        created_at=row.created_at.replace(tzinfo=UTC),
    )


def _used(session: Session, fund_id: str, enterprise_id: str, programme: str, year: int) -> int:
    """What the enterprise's other applications to the programme in the year were paid or hold (fen)."""
    q = select(func.coalesce(func.sum(SubsidyApplication.amount_fen), 0)).where(
        SubsidyApplication.fund_id == fund_id,
        SubsidyApplication.enterprise_id == enterprise_id,
        SubsidyApplication.programme == programme,
        SubsidyApplication.year == year,
        col(SubsidyApplication.status).in_(["pending", "paid"]),
    )
    return int(session.exec(q).one())


def file_application(
    session: Session,
    principal: Principal,
    ctx: FundContext,
    fund_id: str,
    req: api.ApplicationCreate,
    *,
    on: date,
    lang: Lang,
) -> api.ApplicationPublic:
    """Judge an application under the version in force on its reference day and compute its amount."""
    locked_fund(session, principal, fund_id)  # the per-enterprise cap reads what other applications hold
    latest = latest_version(session, fund_id, req.programme)
    if latest is None:
        raise NotFound(f"no programme {req.programme} in fund {fund_id}", field="programme")
    kind = SubsidyRules.model_validate(latest.rules).kind  # every version of a programme has the same kind
    day = req.facts.reference_day(kind)
    if day is None:
        field = "facts.period_end" if kind == "interest" else "facts.paid_on"
        raise InvalidInput(f"a {kind} application states {field.split('.')[1]}", field=field)
    if day > on or (req.facts.period_start is not None and req.facts.period_start > on):
        raise InvalidInput(f"{day} is after today ({on})", field="facts")
    version = version_on(session, fund_id, req.programme, day)
    if version is None:
        raise InvalidInput(f"programme {req.programme} had no version in force on {day}", field="facts")
    rules = SubsidyRules.model_validate(version.rules)
    checks = subsidy_checks(rules, req.facts, applied_on=on)
    steps: tuple[SubsidyStep, ...] = ()
    amount = 0
    if all(c.passed for c in checks if c.rule == "amount_facts"):
        used = _used(session, fund_id, req.facts.enterprise_id, req.programme, day.year)
        try:
            subsidy = compute_subsidy(rules, req.facts, enterprise_year_used_fen=used)
        except ValueError as exc:  # no LPR published by the period's first day
            raise InvalidInput(str(exc), field="facts.period_start") from exc
        steps, amount = subsidy.steps, subsidy.amount_fen
    eligible = all(c.passed for c in checks)
    row = SubsidyApplication(
        id=str(uuid.uuid4()),
        fund_id=fund_id,
        programme=req.programme,
        version=version.version,
        kind=rules.kind,
        filed_by=principal.institution,
        applicant=req.facts.applicant,
        enterprise_id=req.facts.enterprise_id,
        region=req.facts.region,
        year=day.year,
        applied_on=on,
        eligible=eligible,
        status="pending",
        amount_fen=amount if eligible else 0,
        facts=req.facts.model_dump(mode="json", exclude_none=True),
        checks=[c.model_dump(mode="json") for c in checks],
        steps=[s.model_dump(mode="json") for s in steps],
    )
    session.add(row)
    session.flush()
    detail = {"fund_id": fund_id, "programme": req.programme, "eligible": eligible, "amount_fen": row.amount_fen}
    audit_fund(session, principal, "fund.subsidy.apply", "fund_subsidy", row.id, detail)
    return application_public(row, ctx, lang)


def _own(session: Session, principal: Principal, fund_id: str, application_id: str) -> SubsidyApplication:
    visible_fund(session, principal, fund_id)
    row = session.get(SubsidyApplication, application_id)
    if row is None or row.fund_id != fund_id or (principal.role == "bank" and row.filed_by != principal.institution):
        raise NotFound(f"no subsidy application {application_id} in fund {fund_id}")
    return row


def list_applications(
    session: Session, principal: Principal, ctx: FundContext, fund_id: str, *, lang: Lang
) -> list[api.ApplicationPublic]:
    """Applications, oldest first (a bank: the ones it filed)."""
    visible_fund(session, principal, fund_id)
    q = select(SubsidyApplication).where(SubsidyApplication.fund_id == fund_id)
    if principal.role == "bank":
        q = q.where(SubsidyApplication.filed_by == principal.institution)
    return [application_public(r, ctx, lang) for r in session.exec(q.order_by(col(SubsidyApplication.created_at)))]


def decide_application(
    session: Session,
    principal: Principal,
    ctx: FundContext,
    fund_id: str,
    application_id: str,
    req: api.ApplicationDecision,
    *,
    now: datetime,
    lang: Lang,
) -> api.ApplicationPublic:
    """Pay (Dr subsidies_paid, Cr subsidy_cash) or reject with a reason; 409 once decided or if the account is short."""
    locked_fund(session, principal, fund_id)
    row = _own(session, principal, fund_id, application_id)
    session.refresh(row)
    if row.status != "pending":
        raise Conflict(f"application {application_id} is already {row.status}", field="decision")
    if req.decision == "reject":
        if not (req.reason or "").strip():
            raise InvalidInput("a rejection needs a reason", field="reason")
        row.status, row.amount_fen = "rejected", 0
    else:
        if not row.eligible:
            failed = [RuleCheck.model_validate(c).rule for c in row.checks if not c["passed"]]
            raise Conflict(f"the application fails the programme's rules ({', '.join(failed)})", field="decision")
        cash = ledger.available_fen(session, fund_id, "subsidy_cash")
        if cash < row.amount_fen:
            raise Conflict(f"the subsidy account holds only {to_cny(cash)} CNY", field="decision")
        memo = f"subsidy {row.id} ({row.programme}) to {row.applicant} {row.enterprise_id}"
        postings = [("subsidies_paid", row.amount_fen, 0), ("subsidy_cash", 0, row.amount_fen)]
        ledger.post(session, fund_id, kind="subsidy", memo=memo, postings=postings)
        row.status = "paid"
    row.decision_reason, row.decided_at = req.reason, now
    session.add(row)
    session.flush()
    detail = {"fund_id": fund_id, "amount_fen": row.amount_fen, "reason": req.reason}
    audit_fund(session, principal, f"fund.subsidy.{req.decision}", "fund_subsidy", row.id, detail)
    return application_public(row, ctx, lang)


def subsidy_statistics(session: Session, principal: Principal, fund_id: str) -> api.SubsidyStatistics:
    """Per-programme figures and the subsidy account, which must agree with the paid applications."""
    visible_fund(session, principal, fund_id)
    rows = session.exec(select(SubsidyApplication).where(SubsidyApplication.fund_id == fund_id)).all()
    by: dict[str, list[SubsidyApplication]] = defaultdict(list)
    for r in rows:
        by[r.programme].append(r)
    programmes = []
    for code, apps in sorted(by.items()):
        paid = [a for a in apps if a.status == "paid"]
        regions: dict[str, int] = defaultdict(int)
        for a in paid:
            regions[a.region or "not_reported"] += a.amount_fen
        programmes.append(
            api.ProgrammeStatistics(
                programme=code,
                kind=KINDS[apps[0].kind],
                applications=len(apps),
                eligible=sum(a.eligible for a in apps),
                paid=len(paid),
                rejected=sum(a.status == "rejected" for a in apps),
                pending=sum(a.status == "pending" for a in apps),
                enterprises_paid=len({a.enterprise_id for a in paid}),
                paid_cny=to_cny(sum(a.amount_fen for a in paid)),
                pending_cny=to_cny(sum(a.amount_fen for a in apps if a.status == "pending")),
                paid_by_region_cny={k: to_cny(v) for k, v in sorted(regions.items())},
            )
        )
    bal = ledger.balance(session, fund_id)
    paid_total = to_cny(sum(a.amount_fen for a in rows if a.status == "paid"))
    return api.SubsidyStatistics(
        fund_id=fund_id,
        programmes=programmes,
        subsidy_contributions_cny=bal.subsidy_contributions_cny,
        subsidies_paid_cny=bal.subsidies_paid_cny,
        subsidy_balance_cny=bal.subsidy_balance_cny,
        reconciled=bal.reconciled and bal.subsidies_paid_cny == paid_total,
    )
