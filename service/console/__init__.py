"""The web console: server-rendered pages over the API's use cases, Chinese by default, every asset local.

:func:`mount` adds the pages under ``/console``, their static files under
``/console/static`` and the API documentation (``/docs``) served from the
vendored Swagger UI, so nothing is fetched from outside (docs/console.md).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from service.console.nav import router
from service.console.pages import auth, disposal, fund, officer, regulator, statistics, subsidies, upload, watch
from service.console.web import HERE, PREFIX

PAGES = (
    auth,
    officer,
    upload,
    watch,
    disposal,
    fund,
    subsidies,
    regulator,
    statistics,
)  # importing a page module declares its routes
SWAGGER = f"{PREFIX}/static/vendor/swagger-ui"


def mount(app: FastAPI) -> None:
    """Add the console, its static files and the offline API documentation to ``app``."""
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.get(PREFIX, include_in_schema=False)
    async def console_root() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=307)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI from the service's own files (swagger-ui-dist, vendored)."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
