"""The fund manager's subsidy programmes (every version) and applications (checks, amount step by step, status)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from service.console.nav import menu
from service.console.web import FundDep, render
from service.deps import FundContextDep, SessionDep
from service.errors import NotFound
from service.usecases.funds import subsidies, subsidy_programmes


@menu("/fund/subsidies", "fund_manager", "补贴项目与申请", "Subsidies")
def subsidies_page(request: Request, user: FundDep, session: SessionDep, ctx: FundContextDep) -> HTMLResponse:
    """The fund's subsidy programmes with their versions, and the applications filed to them."""
    fund_id, p = user.principal.institution, user.principal
    try:
        versions = subsidy_programmes.list_versions(session, p, fund_id)
    except NotFound:
        return render(request, "fund/none.html", user=user, status=404)
    applications = subsidies.list_applications(session, p, ctx, fund_id, lang=user.lang)
    applications.reverse()  # newest first
    return render(request, "fund/subsidies.html", user=user, versions=versions, applications=applications)
