"""Typed dependencies: session, principal and roles, models, configuration, language.

Every dependency is ``async def`` and does no I/O on the common path: a sync
dependency costs a thread-pool hand-off (0.3–0.8 ms each on this 2-core
machine, measured in benchmarks/profile_assessment.py).  Database work
happens in the endpoint's own worker thread: :class:`service.routing.UnitOfWorkRoute`
confirms a cached API key there and commits the session there, so a request
makes one hand-off.  The session dependency only commits what an async
endpoint left open, and rolls back on any error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from scoring.policy import ScoringConfig
from scoring.vocab.lang import Lang
from service.audit_checkpoints import AuditKeeper
from service.auth import KeyCache, Principal, hash_key, lookup_digest
from service.bundle import ModelBundle
from service.errors import Forbidden, Unauthorized, Unavailable
from service.routing import confirm_key
from service.settings import Settings
from service.usecases.idempotency import HEADER, Call


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed on success, rolled back on any error.

    Creating a session does no I/O; the endpoint's thread commits it (see
    ``service.routing``), so on success there is normally nothing left here.
    """
    session = Session(request.app.state.engine, expire_on_commit=False)
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
    cache: KeyCache = request.app.state.key_cache
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


def require(*roles: str) -> Callable[[Principal], Principal]:
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
    if request.app.state.settings.ops_public:
        return None
    principal = await get_principal(request, session, authorization)
    return await require(*OPS_ROLES)(request, principal)


async def get_ops_details(
    request: Request, session: SessionDep, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> bool:
    """Whether to show readiness details: without a key, or with another role's key, only the status."""
    if authorization is None and not request.app.state.settings.ops_public:
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


async def get_bundle(request: Request) -> ModelBundle:
    """The models serving now (a snapshot: a reload mid-request does not change it)."""
    bundle = request.app.state.models.bundle
    if bundle is None or not {"valuation", "pd"} <= set(bundle.models):
        raise Unavailable("models are not loaded yet")
    return bundle


BundleDep = Annotated[ModelBundle, Depends(get_bundle)]


async def get_config(request: Request) -> ScoringConfig:
    """The scoring configuration loaded at start-up."""
    return request.app.state.scoring_config


ConfigDep = Annotated[ScoringConfig, Depends(get_config)]


async def get_settings(request: Request) -> Settings:
    """The settings in force."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


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


async def get_audit(request: Request) -> AuditKeeper:
    """The audit log's sealer and checkpoints (docs/audit.md)."""
    return request.app.state.audit


AuditDep = Annotated[AuditKeeper, Depends(get_audit)]
