"""The regulator's pages: portfolio dashboard, exports, fund statistics, model inventory and drift, audit."""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from service.console import charts
from service.console.nav import menu, router
from service.console.text import label, money, percent
from service.console.web import RegulatorUserDep, render
from service.deps import AuditDep, BundleDep, MetricsDep, MonitorDep, NowDep, SessionDep, StoreDep, TodayDep
from service.schemas.regulator import GroupBy, PortfolioReport
from service.usecases import inventory, portfolio, regulator
from service.usecases.funds import statistics as fund_stats

DRIFT_DAYS = 30


def _npl_chart(report: PortfolioReport, title: str, lang: Literal["en", "zh"]) -> object:
    items = [(label(g.key, lang), g.npl_rate or 0.0) for g in report.groups]
    return charts.bars(items, title=title, fmt=lambda v: percent(v, 2), colour="#c0392b")


@menu("/regulator", "regulator", "组合看板", "Portfolio dashboard")
def dashboard(request: Request, user: RegulatorUserDep, session: SessionDep, today: TodayDep) -> HTMLResponse:
    """Indicators of the whole book, NPL by bank and by 市州, originations and expected loss by month."""
    lang = user.lang
    zh = lang == "zh"
    by_bank = portfolio.portfolio_report(session, "bank", today=today)
    by_region = portfolio.portfolio_report(session, "region", today=today)
    months = by_bank.monthly[-24:]
    charts_ = {
        "npl_bank": _npl_chart(by_bank, "各银行不良率" if zh else "NPL rate by bank", lang),
        "npl_region": _npl_chart(by_region, "各市州不良率" if zh else "NPL rate by prefecture", lang),
        "amount": charts.line(
            [(m.month, m.amount_cny) for m in months],
            title="每月发放金额" if zh else "Amount originated by month",
            fmt=lambda v: money(v, lang),
        ),
        "el": charts.line(
            [(m.month, m.expected_loss_cny) for m in months],
            title="每月新增预期损失" if zh else "Expected loss originated by month",
            fmt=lambda v: money(v, lang),
            colour="#c0392b",
        ),
    }
    return render(
        request, "regulator/dashboard.html", user=user, bank=by_bank, region=by_region, charts=charts_, months=months
    )


@router.get("/regulator/export")
def export(_: RegulatorUserDep, session: SessionDep, today: TodayDep, group_by: GroupBy = "bank") -> Response:
    """The portfolio statistics as CSV (the API's export), for publication."""
    body, media = portfolio.export(portfolio.portfolio_report(session, group_by, today=today), "csv")
    name = f"iprisk-portfolio-{group_by}.csv"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@menu("/regulator/funds", "regulator", "补偿资金统计", "Fund statistics")
def funds(request: Request, user: RegulatorUserDep, session: SessionDep) -> HTMLResponse:
    """Every fund: pool against committed lines, claims by status, paid and recovered by party, balance."""
    return render(request, "regulator/funds.html", user=user, funds=fund_stats.all_fund_statistics(session))


@menu("/regulator/models", "regulator", "模型清单与漂移", "Models and drift")
def models(
    request: Request,
    user: RegulatorUserDep,
    session: SessionDep,
    store: StoreDep,
    bundle: BundleDep,
    metrics: MetricsDep,
    monitor: MonitorDep,
    now: NowDep,
) -> HTMLResponse:
    """Every model version with its aliases and history, and the drift of the served models over 30 days."""
    reports = regulator.drift_all(session, bundle, metrics, days=DRIFT_DAYS, now=now)
    monitor.record(reports)
    return render(
        request,
        "regulator/models.html",
        user=user,
        inventory=inventory.inventory(store),
        drift=reports,
        days=DRIFT_DAYS,
    )


@menu("/regulator/audit", "regulator", "审计校验", "Audit verification")
def audit(request: Request, user: RegulatorUserDep, session: SessionDep, keeper: AuditDep) -> HTMLResponse:
    """Recompute the audit hash chain and check it against the signed checkpoints."""
    check = regulator.check_audit(session, keeper)
    return render(
        request, "regulator/audit.html", user=user, check=check, checkpoints=regulator.export_checkpoints(keeper)
    )
