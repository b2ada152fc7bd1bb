"""The console over plain HTTP: sessions, CSRF, revocation, the valuation report, offline docs, amounts in 万元."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from markupsafe import escape

from service.console import charts, forms, text
from service.console.web import COOKIE, MENU, sign, unsign
from service.keys import new_key, revoke
from service.schemas.scoring import AssessmentRequest
from tests.factories import application, claim_body, patent
from tests.patent_numbers import fresh_patent_id
from tests.service.fund_helpers import file, manager_key, new_fund, pool_loan
from tests.service.harness import Server

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def signed_in(server: Server, key: str) -> httpx.Client:
    """An HTTP client with a console session for ``key``."""
    client = httpx.Client(base_url=server.base_url, timeout=60, follow_redirects=True)
    token = CSRF.search(client.get("/console/signin").text)
    assert token is not None
    home = client.post("/console/signin", data={"api_key": key, "csrf": token.group(1)})
    assert home.history and home.history[0].status_code == 303, home.text  # sent on to the role's home
    assert client.cookies.get(COOKIE, path="/console")
    return client


@pytest.fixture
def officer(server: Server) -> Iterator[httpx.Client]:
    """bank_a's loan officer, signed in."""
    client = signed_in(server, server.keys["bank_a"])
    try:
        yield client
    finally:
        client.close()


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token in a page's forms."""
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def test_value_patents_through_the_form_and_print_the_report(officer: httpx.Client, server: Server) -> None:
    form = officer.get("/console/valuations/new")
    p = patent()
    token = re.search(r'name="once" value="([0-9a-f]{32})"', form.text)
    assert token is not None
    fields = {
        "csrf": csrf_of(form),
        "once": token.group(1),
        **{f"patents.0.{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in p.items()},
        "context.owner_revenue_cny": "48000000",
    }
    before = server.count("valuations")
    page = officer.post("/console/valuations/new", data=fields)
    assert page.status_code == 200 and "/console/valuations/" in str(page.url)
    again = officer.post("/console/valuations/new", data=fields)  # a second click on the same form
    assert again.url == page.url and server.count("valuations") == before + 1
    assert "P10" in page.text and "万元" in page.text and 'role="img"' in page.text
    vid = str(page.url).rsplit("/", 1)[1]
    api = server.client("bank_a").get_valuation(vid)
    assert api.patents[0].patent_id == p["patent_id"]
    assert text.money(api.package.total_p50, "zh") in page.text  # the page shows the stored figure
    report = officer.get(f"/console/valuations/{vid}/report")
    assert "专利价值评估报告" in report.text and "valuation " + api.model_versions["valuation"] in report.text
    assert p["patent_id"] in report.text and "权利人年营业收入（元）" in report.text  # its inputs
    pdf = officer.get(f"/console/valuations/{vid}/report.pdf")
    if pdf.status_code == 503:  # no Chromium on this machine: said so, not a 500
        assert "Chromium" in pdf.text
    else:
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_session_ends_with_its_key_and_a_forged_cookie_is_refused(server: Server) -> None:
    key, row = new_key(server.settings, role="bank", institution="bank_a")
    client = signed_in(server, key)
    try:
        assert client.get("/console/officer").url.path == "/console/officer"
        cookie = client.cookies.get(COOKIE, path="/console")
        assert cookie is not None
        body, _, mac = cookie.partition(".")
        forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
        with httpx.Client(base_url=server.base_url, follow_redirects=True) as other:
            other.cookies.set(COOKIE, forged, path="/console")
            assert other.get("/console/officer").url.path == "/console/signin"
        assert row.id is not None
        revoke(server.settings, row.id)
        assert client.get("/console/officer").url.path == "/console/signin"
    finally:
        client.close()


def test_forms_need_the_sessions_token(officer: httpx.Client, server: Server) -> None:
    before = server.count("assessments")
    body = {f"borrower.{k}": str(v) for k, v in application()["borrower"].items()}
    refused = officer.post("/console/assessments/new", data={**body, "csrf": "guess"})
    assert refused.status_code == 403 and "无权访问" in refused.text
    assert server.count("assessments") == before


def test_the_api_docs_load_nothing_from_outside(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        assert assets and all(a.startswith("/console/static/vendor/swagger-ui/") for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200
        assert client.get("/redoc").status_code == 404  # no second documentation page from a CDN


def test_english_on_request(officer: httpx.Client) -> None:
    page = officer.get("/console/lang/en", params={"next": "/console/assessments/new"})
    assert page.url.path == "/console/assessments/new"
    assert "Assess an application" in page.text and 'lang="en"' in page.text
    assert officer.get("/console/lang/en", params={"next": "https://example.org/"}).url.path == "/console/officer"


def test_a_fund_manager_without_a_fund_is_told_how_to_start(server: Server) -> None:
    client = signed_in(server, server.keys["fund_manager"])  # fund_guiyang: no such fund in this database
    try:
        page = client.get("/console/fund")
        assert page.status_code == 404 and "本机构尚未设立风险补偿资金" in page.text
    finally:
        client.close()


def test_a_bad_query_is_a_page_too(server: Server) -> None:
    client = signed_in(server, server.keys["regulator"])
    try:
        page = client.get("/console/regulator/export", params={"group_by": "planet"})
        assert page.status_code == 422 and "输入有误" in page.text and "<h1>" in page.text
    finally:
        client.close()


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        (3_000_000, "300.00 万元", "¥3,000,000"),
        (486_900_000_000, "4,869.00 亿元", "¥486,900,000,000"),
        (Decimal("1234.5"), "1,234.50 元", "¥1,234"),
        (None, "—", "—"),
    ],
)
def test_amounts_are_written_as_a_chinese_reader_expects(amount: float | Decimal | None, zh: str, en: str) -> None:
    assert text.money(amount, "zh") == zh
    assert text.money(amount, "en") == en


def test_form_fields_are_the_apis_field_paths() -> None:
    body = forms.nest(
        [("borrower.region", "zunyi"), ("patents.1.patent_id", "B"), ("patents.0.patent_id", "A"), ("as_of", " ")]
    )
    assert body == {"borrower": {"region": "zunyi"}, "patents": [{"patent_id": "A"}, {"patent_id": "B"}]}
    with pytest.raises(forms.FormErrors) as conflict:
        forms.nest([("loan", "1"), ("loan.amount_cny", "2")])
    assert "loan.amount_cny" in conflict.value.errors
    with pytest.raises(forms.FormErrors) as bad:
        forms.parse(AssessmentRequest, {**application(), "loan": {"amount_cny": "0", "tenor_months": "x"}}, lang="zh")
    assert bad.value.errors["loan.amount_cny"] == "不能小于 1"
    assert bad.value.errors["loan.tenor_months"] == "请填写整数"
    assert bad.value.errors["loan.purpose"] == "必填"


def test_a_signed_token_cannot_be_altered() -> None:
    secret = b"k" * 32
    token = sign(secret, {"k": 1, "r": "bank"})
    assert unsign(secret, token) == {"k": 1, "r": "bank"}
    assert unsign(b"x" * 32, token) is None
    regulator = sign(secret, {"k": 1, "r": "regulator"})
    assert unsign(secret, regulator.split(".")[0] + "." + token.split(".")[1]) is None
    assert unsign(secret, "garbage") is None


def test_the_waterfall_adds_up_to_the_output() -> None:
    values = {f"x{i}": (-1) ** i * i / 10 for i in range(15)}
    svg = str(
        charts.waterfall(
            -3.0, values, title="t", names=str, base_label="基准值", output_label="输出值", others_label="其余"
        )
    )
    assert f"输出值 {-3.0 + sum(values.values()):.3f}" in svg
    assert svg.count("<rect") == 11  # the ten largest and the rest in one row
    assert "其余" in svg


def test_a_spreadsheet_of_applications_is_assessed_row_by_row(officer: httpx.Client, server: Server) -> None:
    template = officer.get("/console/batch/template.csv")
    assert template.status_code == 200 and template.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8
    header, example = list(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    good = dict(zip(header, example, strict=True)) | {"patents.0.patent_id": fresh_patent_id()}
    good["borrower.enterprise_id"] = "贵州测试企业"
    bad = good | {"patents.0.patent_id": fresh_patent_id(), "loan.amount_cny": "0"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows([good, bad])
    before = server.count("assessments")
    form = officer.get("/console/batch")
    page = officer.post(
        "/console/batch",
        data={"csrf": csrf_of(form)},
        files={"file": ("申请.csv", out.getvalue().encode("gb18030"), "text/csv")},  # as Chinese Excel saves it
    )
    assert page.status_code == 200
    assert "成功 1，失败 1" in page.text
    assert server.count("assessments") == before + 1
    rows = re.findall(r"<tr>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"(ok|bad)\">", page.text)
    assert rows == [("2", "ok"), ("3", "bad")]
    assert "loan.amount_cny：取值不符合规则" in page.text
    listed = server.client("bank_a").list_assessments()
    assert any(item["borrower_id"] == "贵州测试企业" for item in listed.items)


@pytest.mark.parametrize("who", ["bank_a", "regulator"])
def test_every_menu_page_of_a_role_opens_in_chinese(server: Server, who: str) -> None:
    role = {"bank_a": "bank", "regulator": "regulator"}[who]
    pages = [m for m in MENU if m.role == role]
    assert len(pages) >= 4
    client = signed_in(server, server.keys[who])
    try:
        for item in pages:
            page = client.get(item.path)
            assert page.status_code == 200, item.path
            assert f"<h1>{item.zh}" in page.text or item.zh in page.text, item.path
            assert 'aria-current="page"' in page.text  # the menu marks where the user is
            assert "default-src 'none'" in page.headers["content-security-policy"]
            assert page.headers["cache-control"] == "no-store"
    finally:
        client.close()


def test_low_confidence_reasons_are_shown_in_the_readers_language(officer: httpx.Client, server: Server) -> None:
    """A claim's advisory score and an assessment's weak models, each with its reasons, on the console's pages."""
    fund_id, manager_api = new_fund(server, "four_party_54_26_16_4")
    with server.client("bank_a", lang="zh") as bank:
        claim = file(server, bank, fund_id, claim_body(pool_loan(server, bank, fund_id)))
        assessed = bank.assess(application())
    manager = signed_in(server, manager_key(server, fund_id))
    try:
        page = manager.get(f"/console/fund/claims/{claim.id}")
        assert page.status_code == 200
        assert "评分仅供参考：理赔审核模型未达到置信度下限" in page.text
        zh_reasons = claim.review.advisory_reasons
        assert zh_reasons and all(str(escape(r)) in page.text for r in zh_reasons)
        english = manager.get("/console/lang/en", params={"next": f"/console/fund/claims/{claim.id}"})
        en_reasons = manager_api.get_claim(fund_id, claim.id).review.advisory_reasons  # the API's default: English
        assert "The score is advisory: the claim-review model" in english.text
        assert en_reasons and all(str(escape(r)) in english.text for r in en_reasons)
    finally:
        manager.close()
    shown = officer.get(f"/console/assessments/{assessed.id}").text
    assert ("低置信度：所用模型未达到置信度下限" in shown) is assessed.low_confidence
    assert all(str(escape(r)) in shown for r in assessed.low_confidence_reasons)
