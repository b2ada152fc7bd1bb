"""Typed dependencies: session, principal and roles, the application's state piece by piece, clock, language.

Every dependency is ``async def`` and does no I/O on the common path: a sync
dependency costs a thread-pool hand-off (0.3–0.8 ms each on this 2-core
machine, measured in benchmarks/profile_assessment.py).  Database work
happens in the endpoint's own worker thread: :class:`service.routing.UnitOfWorkRoute`
confirms a cached API key there and commits the session there, so a request
makes one hand-off.  The session dependency only commits what an async
endpoint left open, and rolls back on any error.

Every piece of the application's state (``service.state.AppState``) has its
own dependency here; nothing else reads ``app.state``.  A request reads the
clock once (:data:`NowDep`) and derives its business day from that instant
(:data:`TodayDep`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from models_store import ModelStore
from scoring.policy import ScoringConfig
from scoring.vocab.lang import Lang
from service.audit_checkpoints import AuditKeeper
from service.auth import Principal, hash_key, lookup_digest
from service.bundle import ModelBundle
from service.clock import Clock, business_today
from service.configuration import CardText, FundContext
from service.errors import Forbidden, Unauthorized, Unavailable
from service.metrics import Metrics
from service.monitor import DriftMonitor
from service.responses import run_once
from service.routing import confirm_key
from service.settings import Settings
from service.state import AppState, app_state
from service.usecases.idempotency import HEADER, Call
from service.usecases.scoring import CreatedWindow, ScoringContext
from service.usecases.watch import WatchContext, watch_context

T = TypeVar("T")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed on success, rolled back on any error.

    Creating a session does no I/O; the endpoint's thread commits it (see
    ``service.routing``), so on success there is normally nothing left here.
    """
    session = Session(app_state(request.app).engine, expire_on_commit=False)
    request.state.session = session
    try:
        yield session
    except BaseException:
        if session.in_transaction():
            await run_in_threadpool(session.rollback)
        raise
    else:
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    finally:
        session.close()


# scope="function": commit before the response is sent, so a client that reads
# back what it just wrote always finds it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_principal(
    request: Request, session: SessionDep, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    """The caller behind ``Authorization: Bearer <key>``; 401 otherwise.

    A key seen before comes from the in-memory cache and is confirmed active
    in the endpoint's transaction (``service.routing``); a new key is read now.
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    digest = hash_key(authorization[7:].strip())
    cache = app_state(request.app).key_cache
    principal = cache.get(digest)
    if principal is not None:
        request.state.unconfirmed_key = (digest, principal, cache)
        return principal
    principal = await run_in_threadpool(lookup_digest, session, digest)
    if principal is None:
        raise Unauthorized("unknown or revoked API key")
    cache.put(digest, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Request, Principal], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only ``roles``; 403 for any other authenticated caller."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            # A revoked key is 401 whatever the route: confirm a cached one before saying 403.
            if getattr(request.state, "unconfirmed_key", None) is not None:
                await run_in_threadpool(confirm_key, request)
            raise Forbidden(f"role {principal.role!r} may not use this route (allowed: {', '.join(roles)})")
        return principal

    return check


# Who may read /metrics and readiness details (traffic of every institution): the supervisor and
# the operators, not the banks, insurers or funds; anyone when IPRISK_OPS_PUBLIC=true.
OPS_ROLES = ("regulator", "data_team")


async def get_ops_reader(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    """A regulator or data-team caller (401/403 otherwise); None when operations data is public."""
    if app_state(request.app).settings.ops_public:
        return None
    principal = await get_principal(request, session, authorization)
    return await require(*OPS_ROLES)(request, principal)


async def get_ops_details(
    request: Request, session: SessionDep, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> bool:
    """Whether to show readiness details: without a key, or with another role's key, only the status."""
    if authorization is None and not app_state(request.app).settings.ops_public:
        return False
    try:
        await get_ops_reader(request, session, authorization)
    except Forbidden:
        return False
    return True


OpsReaderDep = Annotated[Principal | None, Depends(get_ops_reader)]
OpsDetailsDep = Annotated[bool, Depends(get_ops_details)]
# Who may call: one name per set of roles, named by the people in it.
BankDep = Annotated[Principal, Depends(require("bank"))]
RegulatorDep = Annotated[Principal, Depends(require("regulator"))]
FundManagerDep = Annotated[Principal, Depends(require("fund_manager"))]
ScorerDep = Annotated[Principal, Depends(require("bank", "insurer"))]
"""Values, assesses and prices: banks and insurers."""
ScoringReaderDep = Annotated[Principal, Depends(require("bank", "insurer", "regulator"))]
"""Reads valuations, assessments and quotes: their scorers and the regulator."""
LoanReaderDep = Annotated[Principal, Depends(require("bank", "regulator"))]
"""Reads booked loans and outcomes: the lending bank and the regulator."""
FundReaderDep = Annotated[Principal, Depends(require("bank", "fund_manager", "regulator"))]
"""Reads a fund's rules, pool and claims: member banks, its manager and the regulator."""
FundOverseerDep = Annotated[Principal, Depends(require("fund_manager", "regulator"))]
"""Oversees a fund: its manager and the regulator."""
DataFeedDep = Annotated[Principal, Depends(require("data_feed"))]
"""Feeds the province's registries: IP transactions, technology-contract turnover, patents' legal-status events."""
TransactionWriterDep = Annotated[Principal, Depends(require("data_feed", "bank"))]
"""Registers IP transactions: the data feed, and banks for their own loans' pledged patents."""
TransactionReaderDep = Annotated[Principal, Depends(require("data_feed", "bank", "regulator"))]
"""Reads a registered transaction: its registrant and the regulator."""
PriceReaderDep = Annotated[Principal, Depends(require("data_team", "regulator"))]
"""Takes the registered prices for retraining: the data team and the regulator."""
EventSenderDep = Annotated[Principal, Depends(require("bank", "data_feed"))]
"""Sends legal-status events: a bank for the patents it holds as collateral, and the data feed."""
DisposerDep = Annotated[Principal, Depends(require("bank", "fund_manager"))]
"""Runs a disposal case: the lending bank and the fund manager whose pool holds the loan."""


async def get_state(request: Request) -> AppState:
    """The application's state (for the operations routes that report on all of it)."""
    return app_state(request.app)


StateDep = Annotated[AppState, Depends(get_state)]


def _from_state(read: Callable[[AppState], T]) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """A dependency giving one piece of the application's state."""

    async def piece(request: Request) -> T:
        return read(app_state(request.app))

    return piece


async def get_bundle(request: Request) -> ModelBundle:
    """The models serving now (a snapshot: a reload mid-request does not change it)."""
    bundle = app_state(request.app).models.bundle
    if bundle is None or not {"valuation", "pd"} <= set(bundle.models):
        raise Unavailable("models are not loaded yet")
    return bundle


BundleDep = Annotated[ModelBundle, Depends(get_bundle)]
# The configuration in force: loaded at start-up, reloaded with the models (service.configuration).
get_config = _from_state(lambda s: s.configuration.scoring)
ConfigDep = Annotated[ScoringConfig, Depends(get_config)]
get_fund_context = _from_state(lambda s: s.configuration.funds)
FundContextDep = Annotated[FundContext, Depends(get_fund_context)]
"""Fund reason texts and the working-day calendar."""
get_model_cards = _from_state(lambda s: s.configuration.model_cards)
ModelCardsDep = Annotated[Mapping[Lang, Mapping[str, CardText]], Depends(get_model_cards)]
"""The written part of the model cards, by language and model name."""
get_store = _from_state(lambda s: s.store)
StoreDep = Annotated[ModelStore, Depends(get_store)]
get_settings = _from_state(lambda s: s.settings)
SettingsDep = Annotated[Settings, Depends(get_settings)]
get_metrics = _from_state(lambda s: s.metrics)
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
get_monitor = _from_state(lambda s: s.monitor)
MonitorDep = Annotated[DriftMonitor, Depends(get_monitor)]
get_audit = _from_state(lambda s: s.audit)
AuditDep = Annotated[AuditKeeper, Depends(get_audit)]
"""The audit log's sealer and checkpoints (docs/audit.md)."""
get_clock = _from_state(lambda s: s.clock)
ClockDep = Annotated[Clock, Depends(get_clock)]
"""The service's clock: tests swap it with ``create_app(clock=...)`` or a dependency override."""


async def get_now(clock: ClockDep) -> datetime:
    """The request's instant, UTC: the clock is read once per request."""
    return clock.now()


NowDep = Annotated[datetime, Depends(get_now)]


async def get_today(now: NowDep) -> date:
    """The request's business day (Beijing), from the request's instant; tests override it to pin a date."""
    return business_today(now)


TodayDep = Annotated[date, Depends(get_today)]


async def get_lang(accept_language: Annotated[str | None, Header()] = None) -> Lang:
    """``zh`` when Accept-Language prefers Chinese, else ``en``."""
    if not accept_language:
        return "en"
    best = sorted(
        ((part.split(";")[0].strip().lower(), _q(part)) for part in accept_language.split(",")),
        key=lambda t: -t[1],
    )
    for tag, _ in best:
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def _q(part: str) -> float:
    for param in part.split(";")[1:]:
        k, _, v = param.strip().partition("=")
        if k == "q":
            try:
                return float(v)
            except ValueError:
                return 0.0
    return 1.0


LangDep = Annotated[Lang, Depends(get_lang)]


async def get_scoring(
    request: Request, bundle: BundleDep, lang: LangDep, now: NowDep, today: TodayDep
) -> ScoringContext:
    """Everything a valuation or an assessment needs besides its request (its SHAP may use the spare core)."""
    state = app_state(request.app)
    return ScoringContext(bundle, state.configuration.scoring, state.metrics, lang, now, today)


ScoringDep = Annotated[ScoringContext, Depends(get_scoring)]


async def get_watch(request: Request, bundle: BundleDep) -> WatchContext:
    """What the collateral watch needs: the champion valuation model, the LTV caps and the alert thresholds."""
    state = app_state(request.app)
    return watch_context(bundle.get("valuation"), state.configuration.scoring, state.settings)


WatchDep = Annotated[WatchContext, Depends(get_watch)]


_KEY_DOC = (
    "A key the client generates once per logical request (a UUID) and reuses on every retry of it: the "
    "same key and body give the same status and body (header `Idempotency-Replayed: true`) and write "
    "nothing more; the same key with another request is 409. Keys belong to the institution; an answer "
    "is kept for replay at least 30 days. Only successful answers are stored: a failed request may be "
    "retried with its key."
)


def _call(request: Request, key: str | None) -> Call:
    route = request.scope.get("route")
    return Call(
        key=key,
        method=request.method,
        route=getattr(route, "path", request.url.path),
        params=dict(request.path_params),
        status=getattr(route, "status_code", None) or 200,
    )


async def get_required_key(
    request: Request,
    key: Annotated[
        str,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description=f"Required: this request moves money. {_KEY_DOC}",
        ),
    ],
) -> Call:
    """The request's ``Idempotency-Key`` (422 naming it when missing) and what identifies the request."""
    return _call(request, key)


async def get_optional_key(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description=f"Optional; recommended for every retry. {_KEY_DOC}",
        ),
    ] = None,
) -> Call:
    """The request's ``Idempotency-Key`` if it sent one, and what identifies the request."""
    return _call(request, key)


KeyRequiredDep = Annotated[Call, Depends(get_required_key)]
KeyOptionalDep = Annotated[Call, Depends(get_optional_key)]


async def get_created_window(
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CreatedWindow:
    """A page of stored results by creation date (the list endpoints' query)."""
    return CreatedWindow(since=since, until=until, limit=limit, offset=offset)


CreatedWindowDep = Annotated[CreatedWindow, Depends(get_created_window)]


@dataclass(frozen=True)
class BankWrite:
    """A bank's dated write: its session, the caller, the request's instant and business day, its Idempotency-Key."""

    session: Session
    principal: Principal
    now: datetime
    today: date
    once: Call

    def run(self, body: BaseModel, action: Callable[[], Any]) -> Response:
        """Run ``action`` once per Idempotency-Key (a replay answers the first response)."""
        return run_once(self.session, self.principal, self.once, body, action)


async def get_bank_write(
    session: SessionDep, principal: BankDep, now: NowDep, today: TodayDep, once: KeyOptionalDep
) -> BankWrite:
    """What a bank's write to one of its loans needs, in one dependency."""
    return BankWrite(session, principal, now, today, once)


BankWriteDep = Annotated[BankWrite, Depends(get_bank_write)]


@dataclass(frozen=True)
class Once:
    """A write's session and its Idempotency-Key (if any): :meth:`run` does the write once per key."""

    session: Session
    call: Call

    def run(self, principal: Principal, body: BaseModel | None, action: Callable[[], Any]) -> Response:
        """Run ``action`` for ``principal`` once per key; a replay answers the first response, byte for byte."""
        return run_once(self.session, principal, self.call, body, action)


async def get_once(session: SessionDep, call: KeyOptionalDep) -> Once:
    """The request's write, with an optional Idempotency-Key."""
    return Once(session, call)


async def get_once_keyed(session: SessionDep, call: KeyRequiredDep) -> Once:
    """The request's write, whose Idempotency-Key is required (money moves)."""
    return Once(session, call)


OnceDep = Annotated[Once, Depends(get_once)]
KeyedOnceDep = Annotated[Once, Depends(get_once_keyed)]
