"""What every console page shares: the signed session cookie, CSRF, the user, rendering, HTML errors.

Sign-in takes an API key once and keeps, in a cookie signed with HMAC-SHA256
(``HttpOnly``, ``SameSite=Strict``, ``Path=/console``), the key's id, role and
institution and the session's CSRF token; every request confirms the key is
still active in the request's own transaction, so a revoked key ends its
console sessions at once.  The signing key is a file in the home
(``keys/console-session.key``, created once, mode 0600), so every replica and
worker over one home accepts the same cookies.  Forms carry the CSRF token in a
hidden field (``csrf``) and a write without it is refused (403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from scoring.vocab.lang import Lang
from service.auth import Principal, is_active
from service.console import text
from service.deps import SessionDep, SettingsDep
from service.errors import Forbidden, InvalidInput, ServiceError, field_problem
from service.routing import UnitOfWorkRoute
from service.secret_files import create_secret_file
from service.settings import Settings

PREFIX = "/console"
COOKIE = "iprisk_console"
LANG_COOKIE = "iprisk_lang"
SIGNIN_COOKIE = "iprisk_signin"  # the sign-in form's CSRF token, before there is a session
SESSION_SECONDS = 8 * 3600
HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(), auto_reload=False)


@dataclass(frozen=True)
class MenuItem:
    """One entry of a role's menu (declared with ``service.console.nav.menu``)."""

    role: str
    path: str
    zh: str
    en: str

    def text(self, lang: str) -> str:
        """The entry's words in ``lang``."""
        return self.zh if lang == "zh" else self.en


MENU: list[MenuItem] = []


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


@dataclass(frozen=True)
class User:
    """Who is signed in: the API key's principal, the session's CSRF token and the page language."""

    principal: Principal
    csrf: str
    lang: Lang


@cache
def _secret(path: Path) -> bytes:
    if not path.exists():
        create_secret_file(path, secrets.token_bytes(32))  # the first process to write it wins
    return path.read_bytes()


def session_secret(settings: Settings) -> bytes:
    """The HMAC key of console cookies, from the home's key directory."""
    return _secret(settings.home / "keys" / "console-session.key")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(secret: bytes, payload: dict[str, Any]) -> str:
    """``payload`` as JSON, base64url, a dot and its HMAC-SHA256."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return body + "." + _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


def unsign(secret: bytes, token: str) -> dict[str, Any] | None:
    """The payload of a token :func:`sign` made with ``secret``; None when altered or malformed."""
    body, _, mac = token.partition(".")
    expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    if not mac or not hmac.compare_digest(mac, expected):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def lang_of(request: Request) -> Lang:
    """The page language: the switch's cookie, Chinese unless it says English."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def start_session(settings: Settings, response: Response, principal: Principal) -> None:
    """Set the signed session cookie for ``principal`` with a fresh CSRF token."""
    payload = {
        "k": principal.key_id,
        "r": principal.role,
        "i": principal.institution,
        "c": secrets.token_urlsafe(24),
        "e": int(time.time()) + SESSION_SECONDS,
    }
    set_cookie(response, COOKIE, sign(session_secret(settings), payload), max_age=SESSION_SECONDS)


def set_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie for the console's paths (Secure when served over HTTPS is the proxy's)."""
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="strict")


async def get_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    """The signed-in user; :class:`SignInRequired` without a valid session or with a revoked key."""
    token = request.cookies.get(COOKIE)
    payload = unsign(session_secret(settings), token) if token else None
    if payload is None or not isinstance(payload.get("e"), int) or payload["e"] < time.time():
        raise SignInRequired
    principal = Principal(key_id=int(payload["k"]), role=str(payload["r"]), institution=str(payload["i"]))
    if not await run_in_threadpool(is_active, session, principal.key_id):
        raise SignInRequired
    return User(principal, str(payload["c"]), lang_of(request))


UserDep = Annotated[User, Depends(get_user)]


def role(*roles: str) -> Callable[[User], Coroutine[Any, Any, User]]:
    """A dependency admitting only users of ``roles`` (403 page otherwise)."""

    async def check(user: UserDep) -> User:
        if user.principal.role not in roles:
            raise Forbidden("this page is for another role")
        return user

    return check


OfficerDep = Annotated[User, Depends(role("bank"))]
FundDep = Annotated[User, Depends(role("fund_manager"))]
RegulatorUserDep = Annotated[User, Depends(role("regulator"))]


async def get_form(request: Request, user: UserDep) -> FormData:
    """The posted form of a signed-in user, after its CSRF token matched the session's (403 otherwise)."""
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, user.csrf):
        raise Forbidden("the form's security token is missing or stale: reload the page")
    return form


FormDep = Annotated[FormData, Depends(get_form)]


def tr(lang: Lang) -> Callable[[str, str], str]:
    """Pick the Chinese or the English text of a pair."""

    def pick(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    return pick


def render(request: Request, name: str, *, user: User | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render template ``name`` in the user's language, with the console's Content-Security-Policy."""
    lang = user.lang if user else lang_of(request)
    html = ENV.get_template(name).render(
        request=request,
        user=user,
        lang=lang,
        T=tr(lang),
        label=lambda v: text.label(v, lang),
        money=lambda v: text.money(v, lang),
        percent=text.percent,
        colon="：" if lang == "zh" else ": ",
        field_name=lambda n: text.field_name(n, lang),
        field_value=lambda v: text.field_value(v, lang),
        path=request.url.path,
        status=status,
        menu=[m for m in MENU if user and m.role == user.principal.role],
        **ctx,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


ERROR_TITLES = {
    401: ("请重新登录", "Please sign in again"),
    403: ("无权访问", "Not allowed"),
    404: ("未找到", "Not found"),
    409: ("操作冲突", "Conflict"),
    422: ("输入有误", "Invalid input"),
    503: ("服务暂不可用", "Service unavailable"),
}


def error_page(request: Request, exc: ServiceError) -> HTMLResponse:
    """The HTML page for an error a use case raised, with the API's status code."""
    lang = lang_of(request)
    zh, en = ERROR_TITLES.get(exc.status, ("出错了", "Error"))
    return render(
        request, "error.html", user=None, status=exc.status, title=zh if lang == "zh" else en, detail=exc.detail
    )


class ConsoleRoute(UnitOfWorkRoute):
    """The API's unit-of-work route, answering errors as pages and a missing session with the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler: a :class:`ServiceError` becomes its page, :class:`SignInRequired` a redirect."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
                response.delete_cookie(COOKIE, path=PREFIX)
                return response
            except ServiceError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:  # a query or path parameter of a page
                field, problem = field_problem(exc.errors()[0])
                return error_page(request, InvalidInput(f"{field}: {problem}", field=field))

        return handle


def safe_next(target: str | None) -> str:
    """A redirect target inside the console (anything else: the console's home)."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return PREFIX + "/"
