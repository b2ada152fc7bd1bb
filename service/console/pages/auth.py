"""Sign-in with an API key, sign-out, the language switch and the home page of each role."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from service.auth import hash_key, lookup_digest
from service.console.nav import router
from service.console.web import (
    COOKIE,
    LANG_COOKIE,
    PREFIX,
    SIGNIN_COOKIE,
    FormDep,
    UserDep,
    lang_of,
    render,
    safe_next,
    set_cookie,
    start_session,
)
from service.db import audit
from service.deps import SessionDep, SettingsDep
from service.errors import Forbidden

HOMES = {"bank": "/officer", "fund_manager": "/fund", "regulator": "/regulator"}


async def signin_form(request: Request) -> FormData:
    """The sign-in form, after its token matched the sign-in cookie (403 otherwise)."""
    form = await request.form()
    sent, kept = form.get("csrf"), request.cookies.get(SIGNIN_COOKIE)
    if not isinstance(sent, str) or not kept or not hmac.compare_digest(sent, kept):
        raise Forbidden("the sign-in form's security token is missing or stale: reload the page")
    return form


SignInFormDep = Annotated[FormData, Depends(signin_form)]


def _signin_page(request: Request, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "signin.html", user=None, csrf=token, error=error, status=status)
    set_cookie(response, SIGNIN_COOKIE, token, max_age=3600)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> HTMLResponse:
    """The sign-in page."""
    return _signin_page(request)


@router.post("/signin", response_class=HTMLResponse)
def signin(request: Request, session: SessionDep, settings: SettingsDep, form: SignInFormDep) -> Response:
    """Check the API key; start a session and go to the role's home, or say the key is not valid."""
    key = form.get("api_key")
    principal = lookup_digest(session, hash_key(key.strip())) if isinstance(key, str) and key.strip() else None
    if principal is None:
        zh = lang_of(request) == "zh"
        return _signin_page(request, error="密钥无效或已吊销" if zh else "Unknown or revoked API key", status=401)
    audit.append_by(
        session, principal, action="console.sign_in", resource_type="api_key", resource_id=str(principal.key_id)
    )
    response = RedirectResponse(PREFIX + HOMES.get(principal.role, "/"), status_code=303)
    start_session(settings, response, principal)
    response.delete_cookie(SIGNIN_COOKIE, path=PREFIX)
    return response


@router.post("/signout")
def signout(user: UserDep, session: SessionDep, _: FormDep) -> Response:
    """End the session."""
    audit.append_by(
        session,
        user.principal,
        action="console.sign_out",
        resource_type="api_key",
        resource_id=str(user.principal.key_id),
    )
    response = RedirectResponse(PREFIX + "/signin", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:
    """Switch the pages to Chinese (zh) or English (en) and go back."""
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, LANG_COOKIE, "en" if lang == "en" else "zh", max_age=365 * 86400)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: UserDep) -> Response:
    """The home page of the signed-in role (a role without console pages sees what it may do)."""
    target = HOMES.get(user.principal.role)
    if target is not None:
        return RedirectResponse(PREFIX + target, status_code=303)
    return render(request, "home.html", user=user)
