"""Subsidy programmes of a fund: interest, premium and appraisal-fee subsidies, applications, payment, statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response

from service.auth import Principal
from service.deps import (
    FundContextDep,
    FundManagerDep,
    FundOverseerDep,
    FundReaderDep,
    LangDep,
    NowDep,
    OnceDep,
    SessionDep,
    TodayDep,
    require,
)
from service.routing import api_router
from service.schemas import subsidies as api
from service.usecases.funds import subsidies, subsidy_programmes

router = api_router("/v1/funds", "subsidies", 401, 403, 404, 409, 422)
FundId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
RecordId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,36}$")]
ApplicantDep = Annotated[Principal, Depends(require("bank", "fund_manager"))]


@router.post("/{fund_id}/subsidies/programmes", status_code=201, response_model=api.ProgrammeVersionPublic)
def add_programme_version(
    fund_id: FundId,
    body: api.ProgrammeVersionCreate,
    session: SessionDep,
    principal: FundOverseerDep,
    on: TodayDep,
    once: OnceDep,
) -> Response:
    """Store a version of a subsidy programme, in force from today or later (earlier: the regulator, with a reason)."""
    return once.run(principal, body, lambda: subsidy_programmes.add_version(session, principal, fund_id, body, on=on))


@router.get("/{fund_id}/subsidies/programmes")
def list_programme_versions(
    fund_id: FundId, session: SessionDep, principal: FundReaderDep
) -> list[api.ProgrammeVersionPublic]:
    """Every version of every subsidy programme of the fund."""
    return subsidy_programmes.list_versions(session, principal, fund_id)


@router.post("/{fund_id}/subsidies/applications", status_code=201, response_model=api.ApplicationPublic)
def file_application(
    fund_id: FundId,
    body: api.ApplicationCreate,
    session: SessionDep,
    principal: ApplicantDep,
    ctx: FundContextDep,
    lang: LangDep,
    on: TodayDep,
    once: OnceDep,
) -> Response:
    """Apply for a subsidy (a bank, or the fund's office for an enterprise): every rule with its reason, the amount."""
    return once.run(
        principal,
        body,
        lambda: subsidies.file_application(session, principal, ctx, fund_id, body, on=on, lang=lang),
    )


@router.get("/{fund_id}/subsidies/applications")
def list_applications(
    fund_id: FundId, session: SessionDep, principal: FundReaderDep, ctx: FundContextDep, lang: LangDep
) -> list[api.ApplicationPublic]:
    """Subsidy applications, oldest first (a bank: the ones it filed)."""
    return subsidies.list_applications(session, principal, ctx, fund_id, lang=lang)


@router.post("/{fund_id}/subsidies/applications/{application_id}/decision", response_model=api.ApplicationPublic)
def decide_application(
    fund_id: FundId,
    application_id: RecordId,
    body: api.ApplicationDecision,
    session: SessionDep,
    principal: FundManagerDep,
    ctx: FundContextDep,
    lang: LangDep,
    now: NowDep,
    once: OnceDep,
) -> Response:
    """Pay an eligible application from the subsidy account (posted to the ledger) or reject it with a reason."""
    return once.run(
        principal,
        body,
        lambda: subsidies.decide_application(
            session, principal, ctx, fund_id, application_id, body, now=now, lang=lang
        ),
    )


@router.get("/{fund_id}/subsidies/statistics")
def subsidy_statistics(fund_id: FundId, session: SessionDep, principal: FundOverseerDep) -> api.SubsidyStatistics:
    """Subsidies by programme (applications, paid, pending, by region) and the subsidy account, for the regulator."""
    return subsidies.subsidy_statistics(session, principal, fund_id)
