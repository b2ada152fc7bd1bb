"""The console's pages over the features added after it (issue 19): watch and alerts, disposal cases,
the regulator's book and indicators with the quarterly report, fund subsidies; over plain HTTP."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import httpx
import pytest

from service.console import text
from tests.console.test_pages import csrf_of, signed_in
from tests.service.fund_helpers import clock, manager_key, new_fund
from tests.service.harness import Server
from tests.service.test_after_booking import _defaulted_and_claimed, book, send, today_is
from tests.service.test_subsidies_api import INTEREST, programme_body
from tests.service.test_subsidies_api import TODAY as SUBSIDY_DAY


def error_beside(page: httpx.Response, field_id: str) -> str:
    """The error text shown beside the form field ``field_id`` (which the field points to)."""
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true" aria-describedby="{field_id}-err"', page.text), field_id
    found = re.search(rf'<p class="error" id="{field_id}-err">([^<]+)</p>', page.text)
    assert found is not None, field_id
    return found.group(1)


def test_the_watch_shows_the_banks_alerts_and_an_acknowledgement_needs_a_reason(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        loan = book(a)
        send(feed, loan.patent_ids[0], type="lapsed", on="2026-11-20")
        alert = next(x for x in a.list_alerts(loan_id=loan.id).items if x.type == "lapse")
        officer, other = signed_in(server, server.keys["bank_a"]), signed_in(server, server.keys["bank_b"])
        try:
            listed = officer.get("/console/alerts", params={"severity": alert.severity, "type": "lapse"})
            assert listed.status_code == 200 and "<h1>贷后监控</h1>" in listed.text
            assert f'id="alert-{alert.id}"' in listed.text and "专利权终止" in listed.text
            assert alert.text_zh in listed.text  # the stored alert's own Chinese text
            assert f'id="alert-{alert.id}"' not in officer.get("/console/alerts", params={"type": "fee_due"}).text

            watch = officer.get(f"/console/loans/{loan.id}/watch")
            assert watch.status_code == 200 and "<h1>贷款监控" in watch.text
            assert loan.patent_ids[0] in watch.text and "已失效" in watch.text and "权利已不存续" in watch.text
            assert "抵质押率上限" in watch.text and "年费缴纳期限" in watch.text
            future = officer.get(f"/console/loans/{loan.id}/watch", params={"as_of": "2026-12-01"})
            assert future.status_code == 422 and error_beside(future, "f-as_of")
            typo = officer.get(f"/console/loans/{loan.id}/watch", params={"as_of": "2026-11-31"})
            assert typo.status_code == 422 and error_beside(typo, "f-as_of") == "请按 年-月-日 填写日期"

            # Another bank's loan and alert are 404 pages, as in the API; nothing is acknowledged.
            assert other.get(f"/console/loans/{loan.id}/watch").status_code == 404
            theirs = other.post(
                f"/console/alerts/{alert.id}/acknowledge",
                data={"csrf": csrf_of(other.get("/console/alerts")), "reason": "不是本行的预警"},
            )
            assert theirs.status_code == 404 and "未找到" in theirs.text
            assert f'id="alert-{alert.id}"' not in other.get("/console/alerts", params={"status": ""}).text

            before = server.count("audit_log")
            empty = officer.post(
                f"/console/alerts/{alert.id}/acknowledge", data={"csrf": csrf_of(listed), "reason": "  "}
            )
            assert empty.status_code == 422
            assert error_beside(empty, f"f-reason-{alert.id}") == "必填"
            assert f'href="#f-reason-{alert.id}"' in empty.text  # the summary links to the field
            assert a.list_alerts(loan_id=loan.id, type="lapse").items[0].status == "open"
            assert server.count("audit_log") == before  # nothing written

            form = {"csrf": csrf_of(listed), "reason": "已向国家知识产权局申请恢复权利", "once": "a" * 32}
            done = officer.post(f"/console/alerts/{alert.id}/acknowledge", data=form)
            again = officer.post(f"/console/alerts/{alert.id}/acknowledge", data=form)  # a second click replays
            assert done.status_code == 200 and again.status_code == 200
            stored = a.list_alerts(loan_id=loan.id, type="lapse").items[0]
            assert (stored.status, stored.ack_reason) == ("acknowledged", "已向国家知识产权局申请恢复权利")
            shown = officer.get("/console/alerts", params={"status": "acknowledged"})
            assert "已向国家知识产权局申请恢复权利" in shown.text
            english = officer.get("/console/lang/en", params={"next": f"/console/loans/{loan.id}/watch"})
            assert "<h1>Loan watch" in english.text and "LTV cap" in english.text and 'lang="en"' in english.text
            assert "Acknowledged" in officer.get("/console/alerts", params={"status": "acknowledged"}).text
        finally:
            officer.close()
            other.close()


def test_a_disposal_case_is_opened_and_its_steps_recorded(server: Server) -> None:
    a = server.client("bank_a")
    loan, fund_id, claim, mgr = _defaulted_and_claimed(server, a)
    manager = signed_in(server, manager_key(server, fund_id))
    officer, other = signed_in(server, server.keys["bank_a"]), signed_in(server, server.keys["bank_b"])
    try:
        with today_is(server):
            claim_page = manager.get(f"/console/fund/claims/{claim.id}")
            assert f'href="/console/loans/{loan.id}/disposal"' in claim_page.text  # reached from the claim
            blank = manager.get(f"/console/loans/{loan.id}/disposal")
            assert blank.status_code == 200 and "处置立案" in blank.text and 'id="f-channel"' in blank.text
            assert other.get(f"/console/loans/{loan.id}/disposal").status_code == 404
            late = manager.post(
                f"/console/loans/{loan.id}/disposal",
                data={"csrf": csrf_of(blank), "channel": "judicial_auction", "on": "2026-12-01"},
            )
            assert late.status_code == 422 and error_beside(late, "f-on")
            opened = manager.post(
                f"/console/loans/{loan.id}/disposal",
                data={"csrf": csrf_of(blank), "channel": "judicial_auction", "on": "2026-11-21"},
            )
            assert opened.status_code == 200 and "建议保留价" in opened.text and "司法拍卖" in opened.text
            found = re.search(r'action="/console/disposals/([0-9a-f-]{36})/steps"', opened.text)
            assert found is not None
            case = a.get_disposal(found.group(1))
            assert case.reserve.reasons and all(r.text_zh in opened.text for r in case.reserve.reasons)
            step = f"/console/disposals/{case.id}/steps"
            token = csrf_of(officer.get(f"/console/loans/{loan.id}/disposal"))
            assert officer.post(step, data={"csrf": token, "step": "list", "on": "2026-11-22"}).status_code == 200
            listed = a.get_disposal(case.id)
            page = officer.get(f"/console/loans/{loan.id}/disposal")
            assert listed.price_cny is not None
            assert "下一轮挂牌价为" in page.text
            round_failed = {"csrf": token, "step": "round_failed", "on": "2026-11-25", "once": "b" * 32}
            failed = officer.post(step, data=round_failed)
            assert officer.post(step, data=round_failed).status_code == 200  # a second click: cut once, not twice
            assert failed.status_code == 200 and "流拍（保留价下调 20%）" in failed.text
            cut = a.get_disposal(case.id).price_cny
            assert cut == (listed.price_cny * Decimal("0.8")).quantize(Decimal("0.01"))
            no_price = officer.post(step, data={"csrf": token, "step": "sold", "on": "2026-11-27"})
            assert no_price.status_code == 422 and error_beside(no_price, "f-price_cny")
            sold = {"csrf": token, "step": "sold", "on": "2026-11-27", "price_cny": "600000"}
            assert officer.post(step, data=sold).status_code == 200
            cost = {"csrf": token, "step": "cost", "on": "2026-11-27", "amount_cny": "30000", "note": "佣金"}
            assert officer.post(step, data=cost).status_code == 200
            close = manager.post(step, data={"csrf": csrf_of(blank), "step": "close", "on": "2026-11-28"})
            assert close.status_code == 200 and "已结案" in close.text and "57.00 万元" in close.text  # net
            theirs = {"csrf": csrf_of(other.get("/console/disposals")), "step": "cost", "on": "2026-11-28"}
            assert other.post(step, data=theirs | {"amount_cny": "1"}).status_code == 404  # another bank's case
        closed = mgr.get_disposal(case.id)
        assert (closed.status, closed.net_cny) == ("closed", Decimal("570000.00"))
    finally:
        for c in (manager, officer, other):
            c.close()
        a.close()


def test_the_regulator_sees_the_book_the_indicators_and_the_report(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        book(a)
        reg = signed_in(server, server.keys["regulator"])
        try:
            page = reg.get("/console/regulator/book", params={"dim1": "region", "dim2": "bank"})
            assert page.status_code == 200 and "<h1>贷款余额与不良率" in page.text
            assert "贵阳市" in page.text and "bank_a" in page.text and "万元" in page.text and "不良贷款率" in page.text
            auth = {"Authorization": f"Bearer {server.keys['regulator']}"}
            with httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as r:
                api = r.get("/v1/regulator/book", params={"by": ["region", "bank"]}).json()
            assert len(re.findall(r"<tr><th scope=\"row\"", page.text)) == len(api["cells"]) + 1  # and the total
            assert text.money(api["total"]["balance_cny"], "zh") in page.text  # the API's figure, in 万元
            exported = reg.get("/console/regulator/book/export", params={"dim1": "region", "dim2": "bank"})
            assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
            assert "贷款余额（元）" in exported.content.decode("utf-8-sig").splitlines()[0]
            future = reg.get("/console/regulator/book", params={"as_of": "2026-12-01"})
            assert future.status_code == 422 and error_beside(future, "f-as_of")
            same = reg.get("/console/regulator/book", params={"dim1": "bank", "dim2": "bank"})
            assert same.status_code == 422 and error_beside(same, "f-dim2")

            ind = reg.get("/console/regulator/indicators", params={"period": "2026Q4"})
            assert ind.status_code == 200 and "累计发放金额" in ind.text and "首贷户" in ind.text
            assert 'href="/console/regulator/reports/2026Q4"' in ind.text
            bad = reg.get("/console/regulator/indicators", params={"period": "2026Q9"})
            assert bad.status_code == 422 and error_beside(bad, "f-period")
            report = reg.get("/console/regulator/reports/2026Q4")
            if report.status_code == 503:  # no CJK font on this machine: said so, not a 500
                assert "font" in report.text.lower()
            else:
                assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
                assert "2026年第4季度" in report.text
            assert reg.get("/console/regulator/reports/2026-11").status_code == 422  # a quarter only
            english = reg.get("/console/lang/en", params={"next": "/console/regulator/book"})
            assert "Prefecture" in english.text and "NPL ratio" in english.text
            assert "Indicators" in reg.get("/console/regulator/indicators").text
        finally:
            reg.close()


def test_the_fund_manager_sees_the_subsidy_programmes_and_applications(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    with clock(server, date(2024, 1, 1)):
        mgr.add_subsidy_programme(fund_id, programme_body("interest_half_lpr"))
    with clock(server, SUBSIDY_DAY), server.client("bank_a") as bank:
        filed = bank.apply_for_subsidy(fund_id, INTEREST)
    manager = signed_in(server, manager_key(server, fund_id))
    try:
        page = manager.get("/console/fund/subsidies")
        assert page.status_code == 200 and "<h1>补贴项目与申请</h1>" in page.text
        assert "interest_half_lpr" in page.text and "贷款贴息" in page.text and 'aria-current="page"' in page.text
        assert INTEREST["facts"]["enterprise_id"] in page.text and "审查中" in page.text
        assert all(c.code in page.text for c in filed.checks)
        english = manager.get("/console/lang/en", params={"next": "/console/fund/subsidies"})
        assert "<h1>Subsidies</h1>" in english.text and "Interest" in english.text
    finally:
        manager.close()


@pytest.mark.parametrize("path", ["/console/alerts", "/console/disposals"])
def test_the_officers_new_pages_are_not_the_regulators(server: Server, path: str) -> None:
    reg = signed_in(server, server.keys["regulator"])
    try:
        assert reg.get(path).status_code == 403
    finally:
        reg.close()
