"""The route class every router uses: one worker-thread hand-off per request.

FastAPI runs each sync dependency and the sync endpoint in its own thread-pool
hand-off, and on this 2-core virtual machine each costs 0.3–0.8 ms (two
cross-thread wake-ups).  The dependencies in ``service.deps`` are async and
do no I/O on the common path; :class:`UnitOfWorkRoute` runs the rest of the
request's database work in the endpoint's own thread:

1. confirm that an API key taken from the in-memory cache is still active
   (401 otherwise, before the endpoint runs, so nothing is written);
2. call the endpoint;
3. commit the request's session (STYLE rule 7: other code only flushes).

A failure anywhere propagates to the session dependency, which rolls back.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.auth import KeyCache, Principal, is_active
from service.errors import Unauthorized, error_responses

_REQUEST = "_uow_request"
_MARK = "__iprisk_unit_of_work__"


class UnitOfWorkRoute(APIRoute):
    """An ``APIRoute`` whose endpoint confirms the key, runs and commits in one thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, unit_of_work(endpoint), **kwargs)


def confirm_key(request: Request) -> None:
    """401 if the cached key this request authenticated with was revoked since it was cached."""
    pending: tuple[str, Principal, KeyCache] | None = getattr(request.state, "unconfirmed_key", None)
    if pending is None:
        return
    del request.state.unconfirmed_key
    digest, principal, cache = pending
    if not is_active(request.state.session, principal.key_id):
        cache.evict(digest)
        raise Unauthorized("unknown or revoked API key")


def _session(request: Request) -> Session | None:
    return getattr(request.state, "session", None)


def unit_of_work(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``endpoint`` so key confirmation, the endpoint and the commit share its thread.

    The wrapper's signature is the endpoint's plus a hidden ``Request``
    parameter, so FastAPI documents and validates exactly what the endpoint
    declares.  Wrapping twice (``include_router`` copies routes) is a no-op.
    """
    if getattr(endpoint, _MARK, False):
        return endpoint
    signature = inspect.signature(endpoint, eval_str=True)
    # FastAPI injects one Request parameter per endpoint: reuse the endpoint's own if it has one.
    own = next((p.name for p in signature.parameters.values() if p.annotation is Request), None)
    name = own or _REQUEST
    params = list(signature.parameters.values())
    if own is None:
        params.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request))

    def request_of(kwargs: dict[str, Any]) -> Request:
        request = kwargs[name] if own else kwargs.pop(name)
        assert isinstance(request, Request)
        return request

    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            request = request_of(kwargs)
            if getattr(request.state, "unconfirmed_key", None) is not None:
                await run_in_threadpool(confirm_key, request)
            return await endpoint(*args, **kwargs)  # the session dependency commits

        wrapper: Callable[..., Any] = run_async
    else:

        @functools.wraps(endpoint)
        def run(*args: Any, **kwargs: Any) -> Any:
            request = request_of(kwargs)
            confirm_key(request)
            result = endpoint(*args, **kwargs)
            session = _session(request)
            if session is not None and session.in_transaction():
                session.commit()
            return result

        wrapper = run
    # inspect reads __signature__ from any callable; typeshed declares it on none
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    setattr(wrapper, _MARK, True)
    return wrapper


def api_router(prefix: str, tag: str, *statuses: int) -> APIRouter:
    """A router of the API: its prefix and tag, the unit-of-work route class, the error statuses it documents."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=UnitOfWorkRoute, responses=error_responses(*statuses))
