"""The console in headless Chromium, as its users meet it: sign-in, an assessment, a claim decision, the dashboard.

Every page a test visits is saved as a screenshot (``screenshots``) and checked to show Chinese
glyphs, not empty boxes (``tests/console/glyphs.py``); the credit memo's PDF is rendered to PNG
and checked the same way.  Every request the browser makes goes to the service itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.client import IpriskClient
from tests.console.glyphs import page_fonts, page_glyphs, pdf_title_cells
from tests.factories import application, claim_body
from tests.patent_numbers import fresh_patent_id
from tests.service.fund_helpers import file, manager_key, new_fund, pool_loan
from tests.service.harness import Server

VIEW = {"width": 1280, "height": 900}


class Visit:
    """A signed-in browser context and what it fetched."""

    def __init__(self, browser: Any, server: Server, shots: Path) -> None:
        self.server, self.shots = server, shots
        self.context = browser.new_context(viewport=VIEW, locale="zh-CN")
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.page.on("request", lambda r: self.requested.append(r.url))

    def url(self, path: str) -> str:
        """The service's URL of ``path``."""
        return self.server.base_url + path

    def sign_in(self, key: str) -> None:
        """Sign in through the form."""
        self.page.goto(self.url("/console/"))
        self.page.fill("#api_key", key)
        self.page.click("main button[type=submit]")

    def shot(self, name: str, selector: str = "h1") -> None:
        """Save a screenshot of the page and check that ``selector``'s Chinese text rendered as glyphs."""
        png = self.page.screenshot(path=self.shots / f"{self.server.backend}-{name}.png", full_page=True)
        page_glyphs(self.page, selector, png)
        assert any("CJK" in family for family in page_fonts(self.page, selector))

    def close(self) -> None:
        """Close the context; nothing it fetched came from outside the service."""
        outside = [u for u in self.requested if not u.startswith(self.server.base_url)]
        self.context.close()
        assert outside == [], f"fetched from outside the service: {outside}"


@pytest.fixture
def visit(browser: Any, server: Server, screenshots: Path) -> Iterator[Visit]:
    """A fresh browser context on the module's server."""
    v = Visit(browser, server, screenshots)
    try:
        yield v
    finally:
        v.close()


def test_sign_in_with_an_api_key(visit: Visit, server: Server) -> None:
    page = visit.page
    page.goto(visit.url("/console/officer"))
    assert page.url.endswith("/console/signin")
    visit.shot("signin")
    page.fill("#api_key", "ipr_not-a-key")
    page.click("main button[type=submit]")
    assert page.locator("#api_key").get_attribute("aria-invalid") == "true"
    assert page.locator("#api_key-err").inner_text() == "密钥无效或已吊销"

    page.fill("#api_key", server.keys["bank_a"])
    page.press("#api_key", "Enter")  # the keyboard alone
    assert page.url.endswith("/console/officer")
    assert page.locator("h1").inner_text() == "工作台"
    page.keyboard.press("Tab")  # the first stop is the link past the menus
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "English"
    cookie = next(c for c in visit.context.cookies() if c["name"] == "iprisk_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    visit.shot("officer-home")
    # a write without the form's CSRF token is refused, even with the session cookie
    refused = page.request.post(visit.url("/console/assessments/new"), form={"borrower.region": "guiyang"})
    assert refused.status == 403
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Desk"
    page.click("text=中文")
    assert page.locator("h1").inner_text() == "工作台"
    page.click("header button[type=submit]")  # sign out
    assert page.url.endswith("/console/signin")
    page.goto(visit.url("/console/officer"))
    assert page.url.endswith("/console/signin")


def test_assess_an_application_through_the_form_book_it_and_print_the_memo(
    visit: Visit, server: Server, tmp_path: Path
) -> None:
    page = visit.page
    before = server.count("assessments")
    visit.sign_in(server.keys["bank_a"])
    page.goto(visit.url("/console/assessments/new"))
    visit.shot("assessment-form")
    page.fill("#f-patents-0-patent_id", fresh_patent_id())
    page.fill("#f-loan-amount_cny", "2500000")
    page.select_option("#f-borrower-region", "zunyi")
    page.click("main button[type=submit]")
    assert "/console/assessments/" in page.url
    assert server.count("assessments") == before + 1
    assert page.locator(".decision").inner_text() in {"建议批准", "提交人工审查", "建议拒绝"}
    assert page.locator("svg.chart").count() >= 2  # the PD waterfall and the patent's
    assert "250.00 万元" in page.locator("main").inner_text()  # the exposure, as a Chinese reader writes it
    assert page.locator("text=模型版本").count() >= 1
    visit.shot("assessment")
    assessment_id = page.url.rsplit("/", 1)[1]

    response = page.request.get(visit.url(f"/console/assessments/{assessment_id}/memo.pdf"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "memo.pdf"
    pdf.write_bytes(response.body())
    png = pdf_title_cells(pdf, "知识产权质押贷款授信审查报告", tmp_path)
    (visit.shots / f"{server.backend}-memo-pdf.png").write_bytes(png.read_bytes())

    page.click("text=放款登记")
    assert "/console/loans/" in page.url
    assert page.get_by_role("cell", name="放款登记").count() == 1  # the pledge history's first event
    visit.shot("loan")
    loan = server.client("bank_a").get_loan(page.url.rsplit("/", 1)[1])
    assert loan.assessment_id == assessment_id

    page.click("nav.menu a[href='/console/alerts']")  # the officer's watch of booked loans
    assert page.locator("h1").inner_text() == "贷后监控"
    assert page.locator("#q-severity").count() == 1 and page.locator("#q-type").count() == 1
    visit.shot("watch")


def test_a_refused_field_is_shown_beside_it_and_nothing_is_written(visit: Visit, server: Server) -> None:
    page = visit.page
    visit.sign_in(server.keys["bank_a"])
    before = (server.count("assessments"), server.count("audit_log"))
    page.goto(visit.url("/console/assessments/new"))
    page.fill("#f-patents-0-patent_id", fresh_patent_id())
    page.fill("#f-loan-amount_cny", "0")
    page.fill("#f-borrower-employees", "many")
    page.click("main button[type=submit]")
    amount = page.locator("#f-loan-amount_cny")
    assert amount.get_attribute("aria-invalid") == "true"
    assert amount.get_attribute("aria-describedby") == "f-loan-amount_cny-err"
    assert page.locator("#f-loan-amount_cny-err").inner_text() == "不能小于 1"
    assert page.locator("#f-borrower-employees-err").inner_text() == "请填写整数"
    assert page.locator("#f-loan-tenor_months").get_attribute("aria-invalid") is None
    assert page.locator("#f-loan-amount_cny").input_value() == "0"  # what was typed is kept
    visit.shot("assessment-422", "#error-summary strong")
    # a refusal by the use case itself (a filing date after today) lands beside its field too
    page.fill("#f-loan-amount_cny", "2500000")
    page.fill("#f-borrower-employees", "120")
    page.fill("#f-patents-0-filing_date", "2199-01-01")
    page.fill("#f-patents-0-grant_date", "")
    page.select_option("#f-patents-0-legal_status", "pending")
    page.click("main button[type=submit]")
    assert page.locator("#f-patents-0-filing_date").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-patents-0-filing_date-err").is_visible()
    assert (server.count("assessments"), server.count("audit_log")) == before


def test_another_banks_record_is_not_reachable_by_url(visit: Visit, server: Server) -> None:
    theirs = server.client("bank_a").assess(application())
    visit.sign_in(server.keys["bank_b"])
    page = visit.page
    for path in (f"/console/assessments/{theirs.id}", f"/console/assessments/{theirs.id}/memo"):
        response = page.goto(visit.url(path))
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "未找到"
        assert theirs.valuation.patents[0].patent_id not in page.content()
    visit.shot("not-found")
    pdf = page.request.get(visit.url(f"/console/assessments/{theirs.id}/memo.pdf"))
    assert pdf.status == 404
    booked = page.request.post(visit.url(f"/console/assessments/{theirs.id}/book"), form={"csrf": "x"})
    assert booked.status == 403  # no token of this session: refused before the record is even looked up
    page.goto(visit.url("/console/regulator"))
    assert page.locator("h1").inner_text() == "无权访问"


def test_a_fund_manager_decides_a_claim(visit: Visit, server: Server) -> None:
    fund_id, _ = new_fund(server, "city_40_60")
    bank = server.client("bank_a")
    claim = file(server, bank, fund_id, claim_body(pool_loan(server, bank, fund_id)))
    visit.sign_in(manager_key(server, fund_id))
    page = visit.page
    assert page.url.endswith("/console/fund")
    visit.shot("claim-queue")
    page.click(f"a[href='/console/fund/claims/{claim.id}']")
    assert page.locator("text=赔付计算步骤").is_visible()
    assert page.locator("text=理赔审查模型").is_visible()
    assert page.locator("svg.chart").count() == 1  # the review score's SHAP waterfall
    visit.shot("claim")
    page.select_option("#f-decision", "reject")
    page.click("main form.grid button[type=submit]")
    assert page.locator("#f-reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-reason-err").inner_text() == "取值不符合规则"
    page.select_option("#f-decision", "approve")
    page.fill("#f-reason", "材料齐全，规则全部通过")
    page.click("main form.grid button[type=submit]")
    assert page.locator("h1 .muted").inner_text() == "已批准"
    with IpriskClient(server.base_url, api_key=manager_key(server, fund_id)) as api:
        assert api.request("GET", f"/v1/funds/{fund_id}/claims/{claim.id}")["status"] == "approved"
    page.click("text=台账与余额")
    assert page.locator("text=借贷平衡").is_visible()
    assert page.get_by_role("cell", name="已付代偿").count() == 1  # the payout's debit, in words
    visit.shot("ledger")


def test_the_regulator_dashboard_models_audit_and_export(visit: Visit, server: Server) -> None:
    bank = server.client("bank_a")
    bank.book_loan({"assessment_id": bank.assess(application()).id})
    visit.sign_in(server.keys["regulator"])
    page = visit.page
    assert page.url.endswith("/console/regulator")
    assert int(page.locator(".kpis div").first.locator("dd").inner_text()) >= 1
    assert page.locator("svg.chart").count() == 4  # NPL by bank, by 市州, amount and EL by month
    assert page.locator("text=各市州不良率").count() >= 1
    visit.shot("dashboard")
    export = page.request.get(visit.url("/console/regulator/export?group_by=region"))
    assert export.status == 200 and export.headers["content-type"].startswith("text/csv")
    assert len(list(csv.reader(io.StringIO(export.text())))) >= 2
    page.click("text=模型清单与漂移")
    assert page.locator("text=valuation").count() >= 1
    visit.shot("models")
    page.click("text=审计校验")
    assert page.locator(".kpis .ok").inner_text() == "完整"
    visit.shot("audit")
    if server.backend == "sqlite":  # the same page on either database; Swagger UI takes 3 s to render
        page.goto(visit.url("/docs"))
        page.wait_for_selector(".swagger-ui .information-container", timeout=15_000)
