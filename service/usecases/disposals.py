"""Disposal cases of defaulted loans: open with a suggested reserve, step through rounds and the sale, close.

Who: the lending bank, or the manager of a fund whose pool holds the loan (the
regulator reads).  Every step is stored with its business date and actor, and
audited.  Opening moves the pledge ``defaulted → in_disposal``; closing
records the proceeds as the recovery of the loan's paid fund claim (through
:func:`service.usecases.funds.recoveries.report_recovery`, the pro-rata
claw-back), the realised LGD, and moves the pledge ``in_disposal → disposed``,
which releases the patents (:func:`service.usecases.pledge_life.transition`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

import numpy as np
from sqlmodel import Session, col, select

from scoring.disposal import CaseStatus, Reserve, cut_price, next_status, realised_lgd, suggest_reserve
from scoring.pledge_life import TransitionRefused
from scoring.vocab import DisposalChannel
from scoring.vocab.money import money_from_model, to_cny, to_fen
from service.auth import Principal
from service.db import audit
from service.db.fund_tables import Claim, PoolLoan
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Loan
from service.db.watch_tables import DisposalCase, DisposalStep
from service.errors import Conflict, InvalidInput, NotFound
from service.schemas.claims import RecoveryCreate
from service.schemas.disposals import (
    DisposalOpen,
    DisposalPublic,
    DisposalStepCreate,
    DisposalStepPublic,
    ReservePublic,
)
from service.usecases import pledge_life
from service.usecases.funds.recoveries import report_recovery
from service.usecases.watch import WatchContext, evaluate, outstanding_on

AUCTION_CHANNELS = frozenset({"judicial_auction", "exchange_listing"})


def _may_act(session: Session, principal: Principal, loan: Loan, *, read: bool = False) -> bool:
    if principal.role == "regulator":
        return read
    if principal.role == "bank":
        return loan.institution == principal.institution
    pooled = session.exec(
        select(PoolLoan.id).where(PoolLoan.loan_id == loan.id, PoolLoan.fund_id == principal.institution)
    ).first()
    return principal.role == "fund_manager" and pooled is not None


def _loan(session: Session, principal: Principal, loan_id: str) -> Loan:
    loan = session.get(Loan, loan_id, with_for_update=True, populate_existing=True)
    if loan is None or not _may_act(session, principal, loan):
        raise NotFound(f"no loan {loan_id}", field="loan_id")
    return loan


def _case(session: Session, principal: Principal, case_id: str, *, read: bool = False) -> tuple[DisposalCase, Loan]:
    case = session.get(DisposalCase, case_id, with_for_update=not read, populate_existing=True)
    loan = session.get(Loan, case.loan_id) if case is not None else None
    if case is None or loan is None or not _may_act(session, principal, loan, read=read):
        raise NotFound(f"no disposal case {case_id}", field="case_id")
    return case, loan


def _not_after_today(on: date, today: date) -> None:
    if on > today:
        raise InvalidInput(f"{on} is after today ({today}, Beijing)", field="on")


def _step(
    session: Session, principal: Principal, case: DisposalCase, step: str, on: date, **values: Any
) -> DisposalStep:
    row = DisposalStep(
        case_id=case.id,
        step=step,
        on=on,
        institution=principal.institution,
        role=principal.role,
        key_id=principal.key_id,
        **values,
    )
    session.add(row)
    audit.append_by(
        session,
        principal,
        action=f"disposal.{step}",
        resource_type="disposal_case",
        resource_id=case.id,
        detail={
            "loan_id": case.loan_id,
            "on": on.isoformat(),
            "price_fen": values.get("price_fen"),
            "amount_fen": values.get("amount_fen"),
        },
    )
    return row


def _reserve(session: Session, ctx: WatchContext, loan: Loan, on: date) -> Reserve:
    e = evaluate(session, ctx, loan, on)
    counted = e.basis == 0
    return suggest_reserve(
        p10_cny=float(np.sum(e.q[counted, 0])),
        pledge_value_cny=float(np.sum(e.pledge_value)),
        liquidation_factor=ctx.valuation.liquidation_factor,
        cost_share=ctx.valuation.disposal_cost_share,
    )


def open_case(
    session: Session,
    principal: Principal,
    ctx: WatchContext,
    loan_id: str,
    req: DisposalOpen,
    *,
    today: date,
    now: datetime,
) -> DisposalPublic:
    """Open the disposal of a defaulted loan's patents with a suggested reserve price; the pledge goes in_disposal."""
    loan = _loan(session, principal, loan_id)
    _not_after_today(req.on, today)
    if session.exec(select(DisposalCase.id).where(DisposalCase.loan_id == loan.id)).first() is not None:
        raise Conflict(f"loan {loan.id} already has a disposal case", field="loan_id")
    if loan.pledge_state not in ("defaulted", "in_disposal"):
        raise Conflict(f"loan {loan.id} is {loan.pledge_state}: only a defaulted loan's patents are disposed of")
    since = pledge_life.last_transition_on(session, loan.id) or loan.origination_date
    if req.on < since:
        raise InvalidInput(f"{req.on} is before the loan became {loan.pledge_state} on {since}", field="on")
    reserve = _reserve(session, ctx, loan, req.on)
    case = DisposalCase(
        id=str(uuid.uuid4()),
        loan_id=loan.id,
        institution=loan.institution,
        opened_by=principal.institution,
        channel=req.channel,
        status="open",
        opened_on=req.on,
        # What the borrower owed when it defaulted: the principal outstanding at the default (the schedule
        # frozen there, less repayments reported), not the amount booked; the realised LGD is a share of it.
        ead_fen=to_fen(money_from_model(outstanding_on(session, loan, req.on))),
        suggested_reserve_fen=reserve.suggested_fen,
        reserve=reserve.model_dump(mode="json"),
        price_fen=reserve.suggested_fen,
    )
    session.add(case)
    session.flush()
    _step(
        session,
        principal,
        case,
        "open",
        req.on,
        price_fen=reserve.suggested_fen,
        detail={"channel": req.channel, "note": req.note},
    )
    if loan.pledge_state == "defaulted":
        pledge_life.transition(session, principal, loan, "start_disposal", on=req.on, now=now, reason=req.note)
    session.flush()
    return public(session, case)


def _apply(case: DisposalCase, req: DisposalStepCreate) -> dict[str, Any]:
    """Change the case for one step; the values stored with the step."""
    if req.step == "list":
        case.price_fen = to_fen(req.price_cny) if req.price_cny is not None else case.price_fen
        case.listed_on = case.listed_on or req.on
        return {"price_fen": case.price_fen}
    if req.step == "round_failed":
        case.rounds += 1
        case.price_fen = cut_price(case.price_fen or case.suggested_reserve_fen)
        return {"price_fen": case.price_fen, "detail": {"failed_round": case.rounds}}
    if req.step in ("sold", "licensed"):
        assert req.price_cny is not None  # the schema requires it
        if case.status == "listed" or case.channel in AUCTION_CHANNELS:
            case.rounds += 1
        case.sale_price_fen, case.sold_on = to_fen(req.price_cny), req.on
        return {"price_fen": case.sale_price_fen}
    if req.step == "cost":
        assert req.amount_cny is not None
        case.costs_fen += to_fen(req.amount_cny)
        return {"amount_fen": to_fen(req.amount_cny)}
    return {}


def _last_on(session: Session, case_id: str) -> date | None:
    return session.exec(
        select(col(DisposalStep.on))
        .where(DisposalStep.case_id == case_id)
        .order_by(col(DisposalStep.id).desc())
        .limit(1)
    ).first()


def add_step(
    session: Session, principal: Principal, case_id: str, req: DisposalStepCreate, *, today: date, now: datetime
) -> DisposalPublic:
    """The case's next step (409 if the table has none such); dated not after today nor before the last step."""
    case, loan = _case(session, principal, case_id)
    try:
        to = next_status(cast(CaseStatus, case.status), req.step)
    except TransitionRefused as exc:
        raise Conflict(f"case {case.id}: {exc}", field="step") from exc
    _not_after_today(req.on, today)
    last = _last_on(session, case.id) or case.opened_on
    if req.on < last:
        raise InvalidInput(f"{req.on} is before the case's last step on {last}", field="on")
    values = _apply(case, req)
    detail = {**values.pop("detail", {}), "note": req.note}
    case.status = to
    if req.step == "close":
        _close(session, principal, case, loan, on=req.on, today=today, now=now)
        values = {"amount_fen": case.recovery_fen}
        detail |= {"realised_lgd": case.realised_lgd, "claim_id": case.claim_id}
    session.add(case)
    _step(session, principal, case, req.step, req.on, detail=detail, **values)
    session.flush()
    return public(session, case)


def paid_claim(session: Session, loan_id: str) -> Claim | None:
    """The approved (paid) fund claim on the loan, if it was pooled and claimed."""
    return session.exec(
        select(Claim)
        .join(PoolLoan, col(PoolLoan.id) == col(Claim.pool_loan_id))
        .where(col(PoolLoan.loan_id) == loan_id, col(Claim.status) == "approved")
        .order_by(col(Claim.created_at).desc())
    ).first()


def _close(
    session: Session, principal: Principal, case: DisposalCase, loan: Loan, *, on: date, today: date, now: datetime
) -> None:
    proceeds = case.sale_price_fen or 0
    net = max(0, proceeds - case.costs_fen)
    case.proceeds_fen, case.closed_on = proceeds, on
    claim = paid_claim(session, loan.id)
    default_on = claim.default_date if claim is not None else _default_date(session, loan.id)
    case.realised_lgd = realised_lgd(
        ead_fen=case.ead_fen,
        proceeds_fen=proceeds,
        costs_fen=case.costs_fen,
        years_to_recovery=(on - default_on).days / 365.25 if default_on is not None else 0.0,
        annual_rate=loan.annual_rate or 0.0,
    )
    if claim is not None:
        amount = min(net, claim.loss_fen - claim.recovered_fen)
        case.fund_id, case.claim_id, case.recovery_fen = claim.fund_id, claim.id, amount
        if amount > 0:
            req = RecoveryCreate(amount_cny=to_cny(amount), recovered_on=on)
            report_recovery(session, principal, claim.fund_id, claim.id, req, on=today)
    if loan.pledge_state == "in_disposal":  # else the pledge already ended (reported disposed, released or repaid)
        reason = f"disposal case {case.id} ({case.channel})"
        pledge_life.transition(session, principal, loan, "dispose", on=on, now=now, reason=reason, price_fen=proceeds)


def latest_report(session: Session, loan_id: str) -> LoanOutcome | None:
    return session.exec(
        select(LoanOutcome)
        .where(LoanOutcome.loan_id == loan_id)
        .order_by(col(LoanOutcome.as_of).desc(), col(LoanOutcome.id).desc())
    ).first()


def _default_date(session: Session, loan_id: str) -> date | None:
    report = latest_report(session, loan_id)
    return report.default_date if report is not None else None


def _money(fen: int | None) -> Any:
    return to_cny(fen) if fen is not None else None


def public(session: Session, case: DisposalCase) -> DisposalPublic:
    """The case as the API shows it, with its steps (oldest first)."""
    steps = session.exec(
        select(DisposalStep).where(DisposalStep.case_id == case.id).order_by(col(DisposalStep.id))
    ).all()
    reserve = Reserve.model_validate(case.reserve)
    return DisposalPublic(
        id=case.id,
        loan_id=case.loan_id,
        institution=case.institution,
        opened_by=case.opened_by,
        channel=cast(DisposalChannel, case.channel),
        status=cast(CaseStatus, case.status),
        opened_on=case.opened_on,
        ead_cny=to_cny(case.ead_fen),
        reserve=ReservePublic(
            suggested_cny=to_cny(reserve.suggested_fen), basis=reserve.basis, reasons=reserve.reasons
        ),
        price_cny=_money(case.price_fen),
        rounds=case.rounds,
        listed_on=case.listed_on,
        sold_on=case.sold_on,
        sale_price_cny=_money(case.sale_price_fen),
        costs_cny=to_cny(case.costs_fen),
        proceeds_cny=_money(case.proceeds_fen),
        net_cny=_money(max(0, case.proceeds_fen - case.costs_fen)) if case.proceeds_fen is not None else None,
        closed_on=case.closed_on,
        fund_id=case.fund_id,
        claim_id=case.claim_id,
        recovery_cny=_money(case.recovery_fen),
        realised_lgd=case.realised_lgd,
        steps=[
            DisposalStepPublic(
                step=s.step,
                on=s.on,
                price_cny=_money(s.price_fen),
                amount_cny=_money(s.amount_fen),
                detail=s.detail,
                institution=s.institution,
                role=s.role,
                at=s.at.replace(tzinfo=UTC),
            )
            for s in steps
        ],
    )


def get_case(session: Session, principal: Principal, case_id: str) -> DisposalPublic:
    """A case the caller may see (its bank, a fund manager pooling the loan, the regulator)."""
    case, _ = _case(session, principal, case_id, read=True)
    return public(session, case)


def case_of_loan(session: Session, principal: Principal, loan_id: str) -> DisposalPublic:
    """The disposal case of a loan the caller may see."""
    loan = session.get(Loan, loan_id)
    case = session.exec(select(DisposalCase).where(DisposalCase.loan_id == loan_id)).first()
    if loan is None or case is None or not _may_act(session, principal, loan, read=True):
        raise NotFound(f"no disposal case for loan {loan_id}", field="loan_id")
    return public(session, case)
