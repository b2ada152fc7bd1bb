"""Valuations and assessments: score, store with inputs and versions, audit, read back."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any, Generic, TypeVar

import numpy as np
from pydantic import ValidationError
from sqlalchemy import Insert, bindparam, func, insert
from sqlmodel import Session, col, select

from scoring.cover import Cover, RuleVersionRef, fund_cover, what_if_cover
from scoring.funds import FundRules
from scoring.pipeline import Collateral, ValuationResult, run_assessment, run_valuation
from scoring.policy import ScoringConfig
from scoring.pricing import rate_floor
from scoring.types import PATENT_ID_CONTEXT, FieldError, Patent
from scoring.vocab.lang import Lang
from service.auth import Principal
from service.bundle import ModelBundle
from service.db import audit
from service.db.engine import JSONText
from service.db.regulator_tables import FeatureSnapshot
from service.db.tables import Assessment, LoanPatent, Valuation
from service.errors import InvalidInput, NotFound, ServiceError, field_problem
from service.metrics import Metrics
from service.patent_ids import patent_id_mode
from service.schemas.scoring import (
    AssessmentRequest,
    AssessmentResponse,
    BatchItem,
    BatchItemError,
    BatchRequest,
    BatchResponse,
    Page,
    ValuationRequest,
    ValuationResponse,
    check_dated,
    check_pledge_ids,
    check_tenor,
)
from service.text_guard import first_bad
from service.usecases import events
from service.usecases.funds import ledger
from service.usecases.funds.access import visible_fund
from service.usecases.funds.evaluation import cap_usage
from service.usecases.funds.rules import rule_version_on
from service.usecases.tenancy import visible

T = TypeVar("T")
Stored = TypeVar("Stored", Valuation, Assessment)

_PLEDGES = LoanPatent.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__ (set by SQLAlchemy's declarative base)
# Built once and run on the session's connection: both are on every scoring request's path.
_ACTIVE_PLEDGES = select(_PLEDGES.c.patent_id).where(
    _PLEDGES.c.patent_id.in_(bindparam("ids", expanding=True)), _PLEDGES.c.active.is_(True)
)


@dataclass(frozen=True)
class Recorded(Generic[T]):
    """A result as returned and as stored: the model and its JSON text, the same bytes in both places."""

    model: T
    json: JSONText


@dataclass(frozen=True)
class ScoringContext:
    """What a valuation or an assessment needs besides its request: models, policy, metrics and the time.

    ``now`` and ``today`` are the request's instant and business day, read from the clock once
    (``service.deps``): ``now`` stamps what is stored, ``today`` dates a request that gives no date.
    """

    bundle: ModelBundle
    config: ScoringConfig
    metrics: Metrics
    lang: Lang
    now: datetime
    today: date


def pledged_elsewhere(session: Session, patent_ids: list[str]) -> set[str]:
    """Ids among ``patent_ids`` that secure an active loan recorded by any institution."""
    if not patent_ids:
        return set()
    return set(session.connection().execute(_ACTIVE_PLEDGES, {"ids": patent_ids}).scalars())


def snapshot(
    principal: Principal,
    *,
    model: str,
    version: str,
    result_type: str,
    result_id: str,
    x: np.ndarray,
    scores: list[float],
    now: datetime,
) -> list[dict[str, Any]]:
    """Feature-snapshot rows keeping the exact model inputs of every scored row (NaN as null), for drift."""
    return [
        {
            "created_at": now,
            "model": model,
            "version": version,
            "institution": principal.institution,
            "result_type": result_type,
            "result_id": result_id,
            "score": score,
            "x": [None if not math.isfinite(v) else float(v) for v in row],
        }
        for row, score in zip(x, scores, strict=True)
    ]


@cache
def _insert(table: Any) -> Insert:
    return insert(table.__table__)


def store(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Core INSERT of rows the request never reads back (the ORM's unit of work would be waste)."""
    if rows:
        session.connection().execute(_insert(table), rows)


def _synthetic(bundle: ModelBundle, *names: str) -> bool:
    return any(bool(bundle.get(n).manifest.get("synthetic")) for n in names)


def _valuation_response(
    bundle: ModelBundle, result: ValuationResult, *, vid: str, created: datetime, as_of: date, lang: Lang
) -> ValuationResponse:
    return ValuationResponse(
        id=vid,
        created_at=created.replace(tzinfo=UTC),
        as_of=as_of,
        model_versions={"valuation": bundle.get("valuation").version},
        synthetic_models=_synthetic(bundle, "valuation"),
        **bundle.confidence("valuation", lang=lang),
        patents=result.patents,
        package=result.package,
    )


def _not_after_today(as_of: date, today: date, *, field: str) -> None:
    """A valuation or an assessment is made on what is known: its date is today (Beijing) or earlier (422)."""
    if as_of > today:
        raise InvalidInput(f"{as_of} is after today ({today}, Beijing)", field=field)


def _dated(patents: list[Patent], as_of: date, tenor_months: int | None) -> None:
    """The date checks of a request that gave no date, on the request's business day (422 naming the field)."""
    try:
        check_dated(patents, as_of)
        if tenor_months is not None:
            check_tenor(patents, tenor_months, as_of)
    except FieldError as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc


def create_valuation(
    session: Session, principal: Principal, scoring: ScoringContext, req: ValuationRequest
) -> Recorded[ValuationResponse]:
    """Value a package, store it with its input and model version, and audit it."""
    ctx, bundle, config = req.context, scoring.bundle, scoring.config
    as_of = ctx.as_of or scoring.today
    _not_after_today(as_of, scoring.today, field="context.as_of")
    if ctx.as_of is None:  # a given date was checked with the request
        _dated(req.patents, as_of, None)
    # the patents as their recorded legal-status events left them by as_of (docs/after-booking.md)
    req = events.current_valuation(session, req, today=scoring.today)
    result = run_valuation(
        bundle.get("valuation"),
        req.patents,
        as_of=as_of,
        config=config,
        caps=config.ltv.for_institution(principal.institution),
        lang=scoring.lang,
        pledgor=ctx.pledgor_id,
        pledges=ctx.pledges,
        contract=ctx.contract,
        tenor_months=ctx.tenor_months,
        pledged_in_service=lambda: pledged_elsewhere(session, [p.patent_id for p in req.patents]),
        owner_revenue=ctx.owner_revenue_cny,
        revenue_attributable=ctx.revenue_attributable_cny,
        collateral=Collateral(
            high_tech=ctx.owner_high_tech,
            appraisal=ctx.appraised_value_cny,
            policy=config.valuation.pledge_value.for_institution(principal.institution),
        ),
    )
    vid, now = str(uuid.uuid4()), scoring.now
    response = _valuation_response(bundle, result, vid=vid, created=now, as_of=as_of, lang=scoring.lang)
    body = JSONText(response.model_dump_json())
    store(
        session,
        Valuation,
        [
            {
                "id": vid,
                "institution": principal.institution,
                "key_id": principal.key_id,
                "created_at": now,
                "as_of": as_of,
                "n_patents": len(req.patents),
                "total_p50": result.package.total_p50,
                "request": JSONText(req.model_dump_json()),
                "response": body,
                "model_versions": response.model_versions,
            }
        ],
    )
    audit.append_by(
        session,
        principal,
        action="valuation.create",
        resource_type="valuation",
        resource_id=vid,
        detail={"model_versions": response.model_versions, "total_p50": result.package.total_p50},
    )
    store(
        session,
        FeatureSnapshot,
        snapshot(
            principal,
            model="valuation",
            version=response.model_versions["valuation"],
            result_type="valuation",
            result_id=vid,
            x=result.inputs,
            scores=[math.log(v.p50) for v in result.patents],
            now=now,
        ),
    )
    for v in result.patents:
        scoring.metrics.value.observe(v.p50)
    return Recorded(response, body)


def get_valuation(session: Session, principal: Principal, vid: str) -> ValuationResponse:
    """A stored valuation, exactly as it was returned."""
    return ValuationResponse.model_validate(visible(session, principal, Valuation, vid, what="valuation").response)


def get_assessment(session: Session, principal: Principal, aid: str) -> AssessmentResponse:
    """A stored assessment, exactly as it was returned."""
    return AssessmentResponse.model_validate(visible(session, principal, Assessment, aid, what="assessment").response)


def _stored_patents(row: Valuation) -> list[Patent]:
    """A stored valuation's patents, read under today's id rules (it may predate canonical ids)."""
    patents = []
    for i, p in enumerate(row.request["patents"]):
        try:
            patents.append(Patent.model_validate(p, context={PATENT_ID_CONTEXT: patent_id_mode()}))
        except ValidationError as exc:
            field, problem = field_problem(exc.errors()[0])
            raise InvalidInput(
                f"valuation {row.id}: patents.{i}.{field} {problem}; value the patents again", field="valuation_id"
            ) from exc
    return patents


def _patents_for(
    session: Session, principal: Principal, req: AssessmentRequest, as_of: date
) -> tuple[list[Patent], str | None]:
    if req.patents is not None:
        if req.as_of is None:  # a given date was checked with the request
            _dated(req.patents, as_of, req.loan.tenor_months)
        return list(req.patents), None
    assert req.valuation_id is not None
    row = visible(session, principal, Valuation, req.valuation_id, what="valuation", field="valuation_id", read=False)
    patents = _stored_patents(row)
    try:
        check_dated(patents, as_of)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="as_of") from exc
    try:
        check_tenor(patents, req.loan.tenor_months, as_of)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="loan.tenor_months") from exc
    try:
        check_pledge_ids(req.pledges, patents, field="pledges")
    except FieldError as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc
    return patents, row.id


def loan_cover(session: Session, principal: Principal, req: AssessmentRequest, as_of: date) -> Cover:
    """The cover of a default at EAD: the named fund's rule version in force, or the typed what-if.

    Usage is what the pool has reserved or paid this year (the year of ``as_of``) for the
    borrower, the caller's institution and the fund; the balance is what is available now.
    """
    c = req.cover
    if c is None:
        return what_if_cover(req.loan)
    day = c.rules_on or as_of
    if day > as_of:
        raise InvalidInput(f"{day} is after the application date {as_of}", field="cover.rules_on")
    try:
        visible_fund(session, principal, c.fund_id)
    except NotFound as exc:
        raise NotFound(exc.detail, field="cover.fund_id") from exc
    version = rule_version_on(session, c.fund_id, day)
    if version is None:
        raise InvalidInput(f"fund {c.fund_id} has no rules in force on {day}", field="cover.rules_on")
    rules = FundRules.model_validate(version.rules)
    if c.insurer_share is not None and any(p.name == "insurer" and p.role == "co_payer" for p in rules.parties):
        raise InvalidInput(
            f"rule version {version.version} of fund {c.fund_id} names an insurer and sets its share",
            field="cover.insurer_share",
        )
    usage = cap_usage(
        session, c.fund_id, as_of.year, borrower_id=req.borrower.enterprise_id, bank_id=principal.institution
    )
    return fund_cover(
        rules,
        ref=RuleVersionRef(
            fund_id=c.fund_id, version=version.version, effective_from=version.effective_from, name=rules.name
        ),
        ead_cny=req.loan.amount_cny,
        ip_share=req.loan.ip_share_of_collateral,
        usage=usage,
        available_fen=ledger.available_fen(session, c.fund_id),
        insurer_share=c.insurer_share,
    )


def create_assessment(
    session: Session, principal: Principal, scoring: ScoringContext, req: AssessmentRequest
) -> Recorded[AssessmentResponse]:
    """Assess one pledge-loan application, store it with inputs and versions, audit it."""
    bundle, config = scoring.bundle, scoring.config
    as_of = req.as_of or scoring.today
    _not_after_today(as_of, scoring.today, field="as_of")
    patents, valuation_id = _patents_for(session, principal, req, as_of)
    # the patents as their recorded legal-status events left them by as_of (docs/after-booking.md),
    # whether sent with the application or taken from a stored valuation; every entry path
    # (the API, a batch item, the console) comes through here
    patents = events.with_current_facts(session, patents, as_of=as_of)
    if req.patents is not None:
        req = req.model_copy(update={"patents": patents})
    caps = config.ltv.for_institution(principal.institution)
    cover = loan_cover(session, principal, req, as_of)
    result = run_assessment(
        bundle.get("valuation"),
        bundle.get("pd"),
        borrower=req.borrower,
        loan=req.loan,
        patents=patents,
        as_of=as_of,
        config=config,
        caps=caps,
        lang=scoring.lang,
        pledges=req.pledges,
        contract=req.contract,
        # looked up while the valuation's SHAP computes
        pledged_in_service=lambda: pledged_elsewhere(session, [p.patent_id for p in patents]),
        cover_share=cover.share,
        appraisal=req.appraised_value_cny,
        pledge_policy=config.valuation.pledge_value.for_institution(principal.institution),
        lgd_model=bundle.models.get("lgd"),
    )
    pricing = rate_floor(
        lifetime_pd=result.credit.pd_tenor,
        lgd=result.credit.lgd.with_cover,
        tenor_months=req.loan.tenor_months,
        asked_rate=req.loan.annual_rate,
        params=config.pricing.for_institution(principal.institution),
        texts=config.pricing,
        lang=scoring.lang,
    )
    aid, now = str(uuid.uuid4()), scoring.now
    versions = {"valuation": bundle.get("valuation").version, "pd": bundle.get("pd").version}
    if result.credit.lgd.model is not None:
        versions["lgd"] = result.credit.lgd.model.model_version
    valuation = _valuation_response(
        bundle, result.valuation, vid=valuation_id or aid, created=now, as_of=as_of, lang=scoring.lang
    )
    response = AssessmentResponse(
        id=aid,
        created_at=now.replace(tzinfo=UTC),
        as_of=as_of,
        model_versions=versions,
        synthetic_models=_synthetic(bundle, *versions),
        **bundle.confidence(*versions, lang=scoring.lang),
        valuation_id=valuation_id,
        valuation=valuation,
        cover=cover,
        pricing=pricing,
        **dict(result.credit),  # validated instances: pydantic takes them as they are
    )
    body = JSONText(response.model_dump_json())
    store(
        session,
        Assessment,
        [
            {
                "id": aid,
                "institution": principal.institution,
                "key_id": principal.key_id,
                "created_at": now,
                "as_of": as_of,
                "borrower_id": req.borrower.enterprise_id,
                "amount_cny": req.loan.amount_cny,
                "pd": result.credit.pd,
                "grade": result.credit.grade,
                "decision": result.credit.decision,
                "expected_loss": result.credit.expected_loss,
                "valuation_id": valuation_id,
                "request": JSONText(req.model_dump_json()),
                "response": body,
                "model_versions": versions,
            }
        ],
    )
    audit.append_by(
        session,
        principal,
        action="assessment.create",
        resource_type="assessment",
        resource_id=aid,
        detail={"model_versions": versions, "pd": result.credit.pd, "decision": result.credit.decision},
    )
    store(
        session,
        FeatureSnapshot,
        [
            *snapshot(
                principal,
                model="pd",
                version=versions["pd"],
                result_type="assessment",
                result_id=aid,
                x=result.inputs,
                scores=[result.credit.pd],
                now=now,
            ),
            *snapshot(
                principal,
                model="valuation",
                version=versions["valuation"],
                result_type="assessment",
                result_id=aid,
                x=result.valuation.inputs,
                scores=[math.log(v.p50) for v in result.valuation.patents],
                now=now,
            ),
            *(
                snapshot(
                    principal,
                    model="lgd",
                    version=versions["lgd"],
                    result_type="assessment",
                    result_id=aid,
                    x=result.lgd_inputs,
                    scores=[result.credit.lgd.model.model_lgd],
                    now=now,
                )
                if result.lgd_inputs is not None and result.credit.lgd.model is not None
                else ()
            ),
        ],
    )
    scoring.metrics.pd.observe(result.credit.pd)
    return Recorded(response, body)


def create_batch(
    session: Session, principal: Principal, scoring: ScoringContext, req: BatchRequest, *, max_items: int
) -> BatchResponse:
    """Assess each item on its own: a bad item fails alone and writes nothing of its own."""
    if len(req.items) > max_items:
        raise InvalidInput(f"at most {max_items} items per batch (got {len(req.items)})", field="items")
    results = []
    for i, raw in enumerate(req.items):
        try:
            unstorable = first_bad(raw)  # the text guard leaves the items to this loop
            if unstorable is not None:
                raise InvalidInput(f"{unstorable[0]}: {unstorable[1]}", field=unstorable[0])
            item = AssessmentRequest.model_validate(raw)
            # Every failure is raised before create_assessment writes anything,
            # so a failed item leaves no row behind without a savepoint.
            results.append(
                BatchItem(
                    index=i,
                    status="ok",
                    assessment=create_assessment(session, principal, scoring, item).model,
                )
            )
        except ValidationError as exc:
            field, problem = field_problem(exc.errors()[0])
            results.append(
                BatchItem(
                    index=i,
                    status="error",
                    error=BatchItemError(
                        error="ValidationError", detail=f"{field}: {problem}", field=f"items.{i}.{field}"
                    ),
                )
            )
        except ServiceError as exc:
            results.append(
                BatchItem(
                    index=i,
                    status="error",
                    error=BatchItemError(
                        error=type(exc).__name__,
                        detail=exc.detail,
                        field=f"items.{i}.{exc.field}" if exc.field else None,
                    ),
                )
            )
    ok = sum(r.status == "ok" for r in results)
    return BatchResponse(succeeded=ok, failed=len(results) - ok, results=results)


@dataclass(frozen=True)
class CreatedWindow:
    """Which page of stored results: created from ``since`` to ``until`` (UTC days, inclusive)."""

    since: date | None
    until: date | None
    limit: int
    offset: int


def list_results(session: Session, principal: Principal, table: type[Stored], window: CreatedWindow) -> Page:
    """A page of the caller's stored results, newest first, filtered by creation date."""
    q = select(table)
    if principal.role != "regulator":
        q = q.where(col(table.institution) == principal.institution)
    if window.since is not None:
        q = q.where(col(table.created_at) >= datetime.combine(window.since, time.min, tzinfo=UTC))
    if window.until is not None:
        q = q.where(col(table.created_at) <= datetime.combine(window.until, time.max, tzinfo=UTC))
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    q = q.order_by(col(table.created_at).desc(), col(table.id)).offset(window.offset).limit(window.limit)
    rows = session.exec(q).all()
    return Page(total=total, limit=window.limit, offset=window.offset, items=[_summary(r) for r in rows])


def _summary(row: Valuation | Assessment) -> dict[str, Any]:
    base = {
        "id": row.id,
        "created_at": row.created_at.replace(tzinfo=UTC).isoformat(),
        "as_of": row.as_of.isoformat(),
        "model_versions": row.model_versions,
    }
    if isinstance(row, Valuation):
        return {**base, "n_patents": row.n_patents, "total_p50": row.total_p50}
    return {
        **base,
        "borrower_id": row.borrower_id,
        "amount_cny": row.amount_cny,
        "pd": row.pd,
        "grade": row.grade,
        "decision": row.decision,
        "expected_loss": row.expected_loss,
    }
