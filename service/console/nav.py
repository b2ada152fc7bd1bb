"""The console's router and its menu: a page joins the menu of its role where its route is declared.

Adding a page is one template and one route: ``@menu("/x", "bank", "中文名", "English name")``
declares the GET route and its menu entry together (the menu shows the entries of the
signed-in user's role, in the order they were declared).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.console.web import MENU, PREFIX, ConsoleRoute, MenuItem

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def menu(path: str, role: str, zh: str, en: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the GET page ``path`` for ``role`` and put it in that role's menu."""
    MENU.append(MenuItem(role, PREFIX + path, zh, en))
    return router.get(path, response_class=HTMLResponse)
