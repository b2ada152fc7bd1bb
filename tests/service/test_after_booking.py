"""After booking over real HTTP, on SQLite and PostgreSQL (issue 13, docs/after-booking.md).

Legal-status events change a pledged patent's facts and so what the collateral
watch shows; the alerts are stored per bank, acknowledged with a reason; a
disposal case turns the patents into cash, posts the fund's recovery and
releases the pledge.
"""

from __future__ import annotations

import csv
import json
import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.client import ConflictError, IpriskClient, NotFoundError, PermissionDenied, ValidationFailed
from service.deps import get_today
from service.schemas.loans import LoanPublic
from service.schemas.watch import LoanWatch, PatentWatch
from service.state import app_state
from service.usecases.revaluation import refresh_gauges
from tests.factories import TEST_SIGNING_KEY, application, claim_body
from tests.service.fund_helpers import new_fund
from tests.service.harness import Server
from training.contract import OUTCOMES

TODAY = date(2026, 11, 30)
ORIGINATED = "2026-07-01"


@contextmanager
def today_is(server: Server, day: date = TODAY) -> Iterator[None]:
    """Pin the service's business day."""
    app: Any = server.app
    app.dependency_overrides[get_today] = lambda: day
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_today, None)


def book(c: IpriskClient, **loan: Any) -> LoanPublic:
    """Assess and book a loan on one fresh patent: half its maximum loan unless ``loan`` says otherwise.

    Sized from the model's own maximum, so the loan starts within its LTV cap whatever the
    valuation model makes of the example patent.
    """
    app = application(**loan)
    if "amount_cny" not in loan:
        app["loan"]["amount_cny"] = max(1000, round(c.assess(app).max_loan_amount * 0.5, -3))
    return c.book_loan({"assessment_id": c.assess(app).id, "origination_date": ORIGINATED})


_seq = iter(range(1, 1_000_000))


def send(c: IpriskClient, patent_id: str, **event: Any) -> Any:
    """Send one event with a fresh client event id."""
    return c.record_event(patent_id, {"event_id": f"t-{next(_seq)}-{event['type']}", "event": event})


def only(w: LoanWatch) -> PatentWatch:
    assert len(w.patents) == 1
    return w.patents[0]


def kinds(w: LoanWatch) -> set[str]:
    return {a.type for a in w.alerts}


def test_each_event_type_changes_what_the_watch_shows(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        loan = book(a)
        pid = loan.patent_ids[0]
        start = a.loan_watch(loan.id)
        assert kinds(start) == set() and only(start).fee_due_date is None

        send(feed, pid, type="fee_due", on="2026-11-15", fee_year=6, due_date="2026-12-15", amount_cny="1200.00")
        w = a.loan_watch(loan.id)
        assert (only(w).fee_due_date, only(w).fee_grace_end) == (date(2026, 12, 15), date(2027, 6, 15))
        fee = next(x for x in w.alerts if x.type == "fee_due")
        assert fee.severity == "warning" and "2026-12-15" in fee.text_en
        send(a, pid, type="fee_paid", on="2026-11-20", fee_year=6, amount_cny="1200.00")
        w = a.loan_watch(loan.id)
        assert only(w).fee_due_date is None and "fee_due" not in kinds(w)

        send(feed, pid, type="invalidation_requested", on="2026-08-01", case_number="4W111111")
        w = a.loan_watch(loan.id)
        assert only(w).open_invalidations == ["4W111111"] and "invalidation_requested" in kinds(w)
        before = only(w).p50
        send(
            feed,
            pid,
            type="invalidation_decided",
            on="2026-10-01",
            case_number="4W111111",
            outcome="partially_invalidated",
            claims_remaining=1,
        )
        w = a.loan_watch(loan.id)
        assert only(w).open_invalidations == [] and "invalidation_requested" not in kinds(w)
        assert only(w).p50 != before  # fewer claims, another value

        send(feed, pid, type="transferred", on="2026-08-02", new_owner_id="E-GY-0999")
        assert only(a.loan_watch(loan.id)).owner_id == "E-GY-0999"
        send(a, pid, type="licensed", on="2026-08-03", kind="open", royalty_rate=0.03)
        assert only(a.loan_watch(loan.id)).open_licence_royalty == 0.03

        send(feed, pid, type="litigation_filed", on="2026-09-01", case_number="(2026)黔01民初1号")
        w = a.loan_watch(loan.id)
        assert only(w).open_litigation == ["infringement:(2026)黔01民初1号"] and "litigation" in kinds(w)
        send(feed, pid, type="litigation_decided", on="2026-10-02", case_number="(2026)黔01民初1号", outcome="won")
        assert "litigation" not in kinds(a.loan_watch(loan.id))

        send(feed, pid, type="preservation_ordered", on="2026-09-02", case_number="(2026)黔01执保2号")
        w = a.loan_watch(loan.id)
        assert (only(w).value_basis, only(w).pledge_value_cny) == ("not_registrable", 0.0)
        assert "preservation_order" in kinds(w)
        send(feed, pid, type="preservation_lifted", on="2026-10-03", case_number="(2026)黔01执保2号")
        w = a.loan_watch(loan.id)
        assert only(w).value_basis == "pledgeable" and "preservation_order" not in kinds(w)

        send(a, pid, type="pledge_registration_changed", on="2026-07-05", change="registered", term_end="2027-12-31")
        w = a.loan_watch(loan.id)
        assert only(w).pledge_term_end == date(2027, 12, 31) and "pledge_term_short" in kinds(w)

        send(feed, pid, type="lapsed", on="2026-11-01")
        w = a.loan_watch(loan.id)
        assert (only(w).legal_status, only(w).value_basis, only(w).pledge_value_cny) == ("lapsed", "not_alive", 0.0)
        assert {"lapse", "ltv_breach"} <= kinds(w)
        send(feed, pid, type="restored", on="2026-11-10")
        w = a.loan_watch(loan.id)
        assert only(w).legal_status == "granted" and not {"lapse", "ltv_breach"} & kinds(w)
        # The watch on an earlier day sees only the events up to it.
        early = a.loan_watch(loan.id, as_of=date(2026, 8, 1))
    assert only(early).owner_id == "E-GY-0001" and only(early).open_licence_royalty is None
    assert only(early).open_invalidations == ["4W111111"]


def test_an_invalidation_makes_the_patent_worthless_and_raises_alerts(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        loan = book(a)
        pid = loan.patent_ids[0]
        assert a.list_alerts(loan_id=loan.id).total == 0
        send(
            feed,
            pid,
            type="invalidation_decided",
            on="2026-11-25",
            case_number="4W222222",
            outcome="wholly_invalidated",
        )
        w = a.loan_watch(loan.id, as_of=TODAY)
        stored = a.list_alerts(loan_id=loan.id, status="open")
        with server.client("bank_a", lang="zh") as zh:
            zh_alerts = zh.list_alerts(loan_id=loan.id, type="ltv_breach")
    p = only(w)
    assert (p.legal_status, p.value_basis, p.pledge_value_cny) == ("invalidated", "not_alive", 0.0)
    assert p.p50 > 0  # the model estimate stays for reference
    assert (w.pledge_value_cny, w.max_loan_cny, w.ltv) == (0.0, 0.0, None)
    # nothing left to pledge: repay the whole loan, or add collateral worth it over the cap (1/0.25)
    assert w.repay_cny == pytest.approx(loan.amount_cny) and w.top_up_cny == pytest.approx(loan.amount_cny * 4)
    assert {"invalidated", "ltv_breach", "value_fall"} <= kinds(w)
    breach = next(x for x in w.alerts if x.type == "ltv_breach")
    assert breach.severity == "critical" and f"{loan.amount_cny:,.0f}" in breach.text_en
    assert {x.type for x in stored.items} == kinds(w)
    assert all(x.status == "open" and x.first_seen_on == TODAY for x in stored.items)
    (zh_breach,) = zh_alerts.items
    assert zh_breach.text == zh_breach.text_zh and f"需归还 {loan.amount_cny:,.0f} 元" in zh_breach.text


def test_an_ltv_breach_appears_when_the_value_falls(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        first = a.loan_watch(book(a).id)
        # a loan just inside the cap of what its patent is worth
        loan = book(a, amount_cny=int(first.max_loan_cny * 0.9))
        pid = loan.patent_ids[0]
        within = a.loan_watch(loan.id)
        send(
            feed,
            pid,
            type="invalidation_decided",
            on="2026-11-02",
            case_number="4W3",
            outcome="partially_invalidated",
            claims_remaining=1,
        )
        send(feed, pid, type="litigation_filed", on="2026-11-03", case_number="C-1", kind="infringement")
        send(feed, pid, type="transferred", on="2026-11-04", new_owner_id="E-GY-0777")
        fallen = a.loan_watch(loan.id)
    assert "ltv_breach" not in kinds(within) and within.ltv is not None and within.ltv <= within.ltv_cap
    # one claim left, a suit and a new owner: the model marks the patent well down (the fixture's models)
    assert fallen.pledge_value_cny < within.pledge_value_cny and fallen.max_loan_cny < fallen.amount_cny
    breach = next(x for x in fallen.alerts if x.type == "ltv_breach")
    assert breach.detail["repay"] == pytest.approx(fallen.amount_cny - fallen.max_loan_cny)
    assert fallen.repay_cny == pytest.approx(fallen.amount_cny - fallen.max_loan_cny)
    assert fallen.top_up_cny == pytest.approx(fallen.repay_cny / fallen.ltv_cap)


def test_a_repayment_lowers_the_watchs_ltv_and_resolves_the_breach(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        first = a.loan_watch(book(a).id)
        loan = book(a, amount_cny=int(first.max_loan_cny * 0.9))
        pid = loan.patent_ids[0]
        send(
            feed,
            pid,
            type="invalidation_decided",
            on="2026-11-02",
            case_number="4W4",
            outcome="partially_invalidated",
            claims_remaining=1,
        )
        send(feed, pid, type="litigation_filed", on="2026-11-03", case_number="C-2", kind="infringement")
        send(feed, pid, type="transferred", on="2026-11-04", new_owner_id="E-GY-0778")
        breached = a.loan_watch(loan.id)
        stored = a.list_alerts(loan_id=loan.id, type="ltv_breach", status="open")
        repaid = math.ceil(breached.repay_cny / 1000) * 1000 + 1000  # a little more than the breach asks
        short = a.report_repayment(loan.id, {"amount_cny": "1000.00", "paid_on": "2026-11-24"})  # not enough
        open_after_short = a.list_alerts(loan_id=loan.id, type="ltv_breach", status="open")
        a.report_repayment(loan.id, {"amount_cny": f"{repaid - 1000}.00", "paid_on": "2026-11-25"})
        resolved_at_once = a.list_alerts(loan_id=loan.id, type="ltv_breach", status="resolved")
        after = a.loan_watch(loan.id)
        before_repayment = a.loan_watch(loan.id, as_of=date(2026, 11, 20))
    result = _cli(server, "watch", "revalue")
    with server.client("bank_a") as a:
        still_open = a.list_alerts(loan_id=loan.id, type="ltv_breach", status="open")
        resolved = a.list_alerts(loan_id=loan.id, type="ltv_breach", status="resolved")
    assert "ltv_breach" in kinds(breached) and stored.total == 1
    assert breached.amount_cny == breached.principal_cny == loan.amount_cny
    # the repayment lowers what is outstanding, so the LTV, and the breach is gone
    assert after.principal_cny == loan.amount_cny and after.amount_cny == pytest.approx(loan.amount_cny - repaid)
    assert after.pledge_value_cny == pytest.approx(breached.pledge_value_cny)
    assert after.ltv is not None and breached.ltv is not None and after.ltv < breached.ltv
    assert after.ltv == pytest.approx(after.amount_cny / after.pledge_value_cny)
    assert "ltv_breach" not in kinds(after) and after.repay_cny == 0
    # a watch dated before the repayment still shows the breach: the balance is point-in-time
    assert before_repayment.amount_cny == loan.amount_cny and "ltv_breach" in kinds(before_repayment)
    # the stored alert: a repayment short of the breach leaves it open; the one that cures it resolves it at once,
    # and the next revaluation of the book agrees (nothing reopened)
    assert short.balance_cny == loan.amount_cny - 1000 and open_after_short.total == 1
    assert resolved_at_once.total == 1 and resolved_at_once.items[0].id == stored.items[0].id
    assert result.exit_code == 0, result.output
    assert still_open.total == 0 and resolved.total == 1


def test_acknowledging_needs_a_reason(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        loan = book(a)
        send(feed, loan.patent_ids[0], type="lapsed", on="2026-11-20")
        alert = next(x for x in a.list_alerts(loan_id=loan.id).items if x.type == "lapse")
        with pytest.raises(ValidationFailed) as no_reason:
            a.acknowledge_alert(alert.id, {"reason": ""})
        with pytest.raises(ValidationFailed) as missing:
            a.acknowledge_alert(alert.id, {})
        assert a.list_alerts(loan_id=loan.id, type="lapse").items[0].status == "open"
        done = a.acknowledge_alert(alert.id, {"reason": "restoration requested with CNIPA on 2026-11-28"})
        with pytest.raises(ConflictError):
            a.acknowledge_alert(alert.id, {"reason": "again"})
        with server.client("regulator") as reg, pytest.raises(PermissionDenied):
            reg.acknowledge_alert(alert.id, {"reason": "not the regulator's to acknowledge"})
        open_now = a.list_alerts(loan_id=loan.id, status="open")
    assert no_reason.value.field == "reason" and missing.value.field == "reason"
    assert (done.status, done.acknowledged_by, done.ack_reason) == (
        "acknowledged",
        "bank_a",
        "restoration requested with CNIPA on 2026-11-28",
    )
    assert alert.id not in {x.id for x in open_now.items}


def test_a_bank_never_sees_another_banks_alerts(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("bank_b") as b:
        loan = book(a)
        pid = loan.patent_ids[0]
        send(a, pid, type="preservation_ordered", on="2026-11-01", case_number="P-1")
        mine = a.list_alerts(loan_id=loan.id)
        theirs = b.list_alerts(loan_id=loan.id)
        everything_b = b.list_alerts(limit=500)
        with server.client("regulator") as reg:
            seen_by_regulator = reg.list_alerts(loan_id=loan.id)
            reg_watch = reg.loan_watch(loan.id)
        with pytest.raises(NotFoundError):
            b.acknowledge_alert(mine.items[0].id, {"reason": "not mine to acknowledge"})
        with pytest.raises(NotFoundError):
            b.loan_watch(loan.id)
        with pytest.raises(NotFoundError) as event:
            send(b, pid, type="lapsed", on="2026-11-01")
        with server.client("insurer") as ins, pytest.raises(PermissionDenied):
            send(ins, pid, type="lapsed", on="2026-11-01")
    assert mine.total >= 1 and {x.institution for x in mine.items} == {"bank_a"}
    assert theirs.total == 0 and all(x.institution == "bank_b" for x in everything_b.items)
    assert {x.id for x in seen_by_regulator.items} == {x.id for x in mine.items}
    assert "preservation_order" in kinds(reg_watch)
    assert event.value.field == "patent_id"


def test_events_are_idempotent_by_their_id_and_never_dated_after_today(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        pid = loan.patent_ids[0]
        licence: dict[str, Any] = {"type": "licensed", "on": "2026-09-09", "kind": "ordinary"}
        body = {"event_id": "feed-42", "event": licence}
        first = a.record_event(pid, body)
        again = a.record_event(pid.replace("CN", "ZL"), body)  # another key, another spelling of the id
        with pytest.raises(ConflictError) as other:
            a.record_event(pid, {**body, "event": {**licence, "kind": "exclusive"}})
        tomorrow = (TODAY + timedelta(days=1)).isoformat()
        with pytest.raises(ValidationFailed) as future:
            a.record_event(pid, {"event_id": "feed-43", "event": {"type": "lapsed", "on": tomorrow}})
        with pytest.raises(ValidationFailed) as open_licence:
            a.record_event(
                pid, {"event_id": "feed-44", "event": {"type": "licensed", "on": "2026-09-09", "kind": "open"}}
            )
        with pytest.raises(ValidationFailed) as unknown:
            a.record_event(pid, {"event_id": "feed-45", "event": {"type": "exploded", "on": "2026-09-09"}})
        with pytest.raises(ValidationFailed) as bad_date:
            a.record_event(
                pid,
                {
                    "event_id": "feed-46",
                    "event": {"type": "fee_due", "on": "2026-09-09", "fee_year": 3, "due_date": "soon"},
                },
            )
        w = a.loan_watch(loan.id)
    assert (again.id, again.facts) == (first.id, first.facts)
    assert first.facts is not None and first.facts.patent.licences_count == 2
    assert other.value.field == "event_id"
    assert future.value.field == "event.on" and open_licence.value.field == "event.royalty_rate"
    assert unknown.value.field is not None and unknown.value.field.startswith("event")
    assert bad_date.value.field == "event.due_date"  # as the client wrote it: no union tag in the path
    assert only(w).legal_status == "granted" and server.count("patent_events") >= 1


def _cli(server: Server, *args: str) -> Any:
    from typer.testing import CliRunner

    from service.cli import app

    env = {"IPRISK_HOME": str(server.settings.home), "IPRISK_MODEL_SIGNING_KEY": TEST_SIGNING_KEY}
    if server.settings.database_url:
        env["IPRISK_DATABASE_URL"] = server.settings.database_url
    return CliRunner().invoke(app, list(args), env=env)


def test_the_book_revaluation_marks_every_live_loan_and_keeps_the_alerts(server: Server, tmp_path: Path) -> None:
    with server.client("bank_a") as a:
        calm, lapsing = book(a), book(a)
        csv_file = tmp_path / "events.csv"
        csv_file.write_text(
            "event_id,patent_id,type,on,reason\n"
            f"csv-{lapsing.id}-1,{lapsing.patent_ids[0]},lapsed,{ORIGINATED},fees_unpaid\n"
            f"csv-{lapsing.id}-2,{lapsing.patent_ids[0]},lapsed,2100-01-01,fees_unpaid\n",
            encoding="utf-8",
        )
        imported = _cli(server, "watch", "import-events", str(csv_file))
        lines = tmp_path / "events.jsonl"
        transfer = {
            "event_id": f"j-{calm.id}",
            "patent_id": calm.patent_ids[0],
            "type": "transferred",
            "on": "2026-08-01",
            "new_owner_id": "E-GY-0555",
        }
        lines.write_text(json.dumps(transfer) + "\n", encoding="utf-8")
        from_json = _cli(server, "watch", "import-events", str(lines))
        owner = only(a.loan_watch(calm.id)).owner_id
        result = _cli(server, "watch", "revalue")
        lapse = a.list_alerts(loan_id=lapsing.id, type="lapse", status="open")
        quiet = a.list_alerts(loan_id=calm.id, status="open")
    assert imported.exit_code == 1, imported.output  # one refused record
    report = json.loads(imported.output[imported.output.index('{"recorded"') :])
    assert report["recorded"] == 1 and report["refused"][0]["field"] == "event.on"
    assert from_json.exit_code == 0, from_json.output
    assert owner == "E-GY-0555"
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index('{"as_of"') :])
    assert summary["loans"] >= 2 and summary["patents"] >= 2 and summary["model_version"]
    assert server.count("loan_marks") == summary["loans"]
    assert lapse.total == 1 and quiet.total == 0
    engine = server.engine()
    try:
        state = app_state(server.app)
        refresh_gauges(engine, state.metrics)
    finally:
        engine.dispose()
    text = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {server.keys['regulator']}"}).text
    gauge = re.search(r'iprisk_alerts_open\{severity="critical",type="lapse"\} (\S+)', text)
    assert gauge is not None and float(gauge.group(1)) >= 1


def _defaulted_and_claimed(server: Server, a: IpriskClient, **loan: Any) -> tuple[LoanPublic, str, Any, IpriskClient]:
    """A ¥1m loan booked, registered and pooled in July, defaulted on 2026-11-10, its claim paid on 2026-11-20."""
    fund_id, mgr = new_fund(server, "city_40_60")
    with today_is(server, date(2026, 7, 2)):
        booked = book(a, **{"amount_cny": 1_000_000, **loan})  # the claim and recovery figures below rest on ¥1m
        a.record_registrations(
            booked.id,
            {
                "status": "registered",
                "registration_number": "Y2026980009999",
                "registration_date": ORIGINATED,
                "term_start": ORIGINATED,
                "term_end": "2028-12-31",
            },
        )
        pool_id = a.register_pool_loan(fund_id, {"loan_id": booked.id}).id
    with today_is(server, date(2026, 11, 20)):
        a.report_outcome(
            {
                "loan_id": booked.id,
                "as_of": "2026-11-20",
                "status": "default",
                "days_past_due": 100,
                "npl_class": "substandard",
                "default_date": "2026-11-10",
            }
        )
        body = claim_body(
            pool_id, default_date="2026-11-10", principal_outstanding_cny="1000000.00", claimed_amount_cny="1000000.00"
        )
        claim = a.file_claim(fund_id, body, idempotency_key=uuid.uuid4().hex)
        claim = mgr.decide_claim(fund_id, claim.id, "approve")
    return booked, fund_id, claim, mgr


def test_a_closed_disposal_posts_the_fund_recovery_to_the_fen_and_releases_the_patents(server: Server) -> None:
    with server.client("bank_a") as a:
        loan, fund_id, claim, mgr = _defaulted_and_claimed(server, a)
        paid_before = mgr.fund_balance(fund_id)
        with today_is(server):
            with pytest.raises(ValidationFailed) as future:
                a.open_disposal(loan.id, {"channel": "judicial_auction", "on": "2026-12-01"})
            case = mgr.open_disposal(loan.id, {"channel": "judicial_auction", "on": "2026-11-21"})
            with pytest.raises(ConflictError):
                a.disposal_step(case.id, {"step": "close", "on": "2026-11-22"})
            listed = a.disposal_step(case.id, {"step": "list", "on": "2026-11-22"})
            failed = a.disposal_step(case.id, {"step": "round_failed", "on": "2026-11-25"})
            with pytest.raises(ValidationFailed) as late:
                a.disposal_step(case.id, {"step": "sold", "on": "2026-12-01", "price_cny": "600000.00"})
            with pytest.raises(ValidationFailed) as no_price:
                a.disposal_step(case.id, {"step": "sold", "on": "2026-11-27"})
            a.disposal_step(case.id, {"step": "sold", "on": "2026-11-27", "price_cny": "600000.00"})
            a.disposal_step(case.id, {"step": "cost", "on": "2026-11-27", "amount_cny": "30000.00", "note": "佣金"})
            closed = mgr.disposal_step(case.id, {"step": "close", "on": "2026-11-28"})
            balance = mgr.fund_balance(fund_id)
            after = mgr.get_claim(fund_id, claim.id)
            shown = a.get_loan(loan.id)
        with today_is(server), server.client("bank_b") as b:
            with pytest.raises(NotFoundError):
                b.get_disposal(case.id)
            second = b.book_loan(  # the patent is free again
                {
                    "assessment_id": b.assess(_on(application(amount_cny=500_000), loan.patent_ids[0])).id,
                    "origination_date": "2026-11-29",
                }
            )
        with server.client("regulator") as reg:
            seen = reg.get_disposal(case.id)
    assert future.value.field == "on" and late.value.field == "on" and no_price.value.field == "price_cny"
    reserve = case.reserve.suggested_cny
    assert reserve > 0 and {r.code for r in case.reserve.reasons} == {"RESERVE_P10", "RESERVE_LIQUIDATION"}
    assert case.opened_by == claim.fund_id and case.status == "open"
    assert listed.price_cny == reserve
    assert failed.rounds == 1 and failed.price_cny == (reserve * Decimal("0.8")).quantize(Decimal("0.01"))
    assert (closed.status, closed.rounds, closed.proceeds_cny, closed.net_cny) == (
        "closed",
        2,
        Decimal("600000.00"),
        Decimal("570000.00"),
    )
    assert closed.recovery_cny == Decimal("570000.00") and closed.claim_id == claim.id
    assert closed.realised_lgd == pytest.approx(0.43)
    # the fund's 40% of the recovery is clawed back, to the fen
    assert after.recovered_cny == Decimal("570000.00") and after.clawed_back_cny == Decimal("228000.00")
    assert balance.recovered_cny - paid_before.recovered_cny == Decimal("228000.00") and balance.reconciled
    assert shown.pledge_state == "disposed" and [r.status for r in shown.registrations] == ["released"]
    assert second.patent_ids == loan.patent_ids
    assert [s.step for s in seen.steps] == ["open", "list", "round_failed", "sold", "cost", "close"]
    assert [s.institution for s in seen.steps][::5] == [claim.fund_id, claim.fund_id]


def test_the_exposure_at_default_is_what_was_outstanding_not_what_was_booked(server: Server) -> None:
    """A loan repaid in part before it defaulted: its case's EAD and realised LGD rest on the balance."""
    with server.client("bank_a") as a:
        with today_is(server, date(2026, 7, 2)):
            loan = book(a, amount_cny=1_000_000, annual_rate=0.05)
        with today_is(server, date(2026, 9, 1)):
            a.report_repayment(loan.id, {"amount_cny": "250000.00", "paid_on": "2026-09-01"})
        with today_is(server, date(2026, 11, 20)):
            a.report_outcome(
                {
                    "loan_id": loan.id,
                    "as_of": "2026-11-20",
                    "status": "default",
                    "days_past_due": 100,
                    "npl_class": "substandard",
                    "default_date": "2026-11-10",
                }
            )
        with today_is(server):
            case = a.open_disposal(loan.id, {"channel": "licensing", "on": "2026-11-21"})
            a.disposal_step(case.id, {"step": "licensed", "on": "2026-11-24", "price_cny": "250000.00"})
            closed = a.disposal_step(case.id, {"step": "close", "on": "2026-11-26"})
    assert case.ead_cny == Decimal("750000.00")
    # 250,000 received 16 days after the default, discounted at the loan's 5%, against the 750,000 owed
    assert closed.realised_lgd == pytest.approx(1 - 250_000 * 1.05 ** -(16 / 365.25) / 750_000)


def _on(app: dict[str, Any], patent_id: str) -> dict[str, Any]:
    app["patents"][0]["patent_id"] = patent_id
    return app


def test_only_a_defaulted_loan_is_disposed_of_and_the_outcomes_export(server: Server, tmp_path: Path) -> None:
    with today_is(server), server.client("bank_a") as a:
        performing = book(a)
        with pytest.raises(ConflictError):
            a.open_disposal(performing.id, {"channel": "negotiated_transfer", "on": "2026-11-20"})
        with server.client("bank_b") as b, pytest.raises(NotFoundError):
            b.open_disposal(performing.id, {"channel": "negotiated_transfer", "on": "2026-11-20"})
    with server.client("bank_a") as a:
        loan, _, _, _ = _defaulted_and_claimed(server, a, annual_rate=0.05)
        with today_is(server):
            case = a.open_disposal(loan.id, {"channel": "licensing", "on": "2026-11-21"})
            a.disposal_step(case.id, {"step": "licensed", "on": "2026-11-24", "price_cny": "250000.00"})
            a.disposal_step(case.id, {"step": "close", "on": "2026-11-26"})
    out = tmp_path / "outcomes.csv"
    result = _cli(server, "watch", "export-outcomes", str(out))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == OUTCOMES.column_names
        rows = {r["loan_id"]: r for r in reader}
    row = rows[loan.id]
    assert set(row) >= {
        "ead_cny",
        "disposal_channel",
        "auction_rounds",
        "disposal_date",
        "disposal_costs_cny",
        "recovery_cny",
        "realised_lgd",
        "disposal_price_cny",
        "default_date",
        "npl_class",
    }
    assert (row["disposal_channel"], row["disposal_date"], row["disposal_price_cny"]) == (
        "licensing",
        "2026-11-26",
        "250000.0",
    )
    # 250,000 received 16 days after the default, discounted at the loan's 5%
    assert float(row["realised_lgd"]) == pytest.approx(1 - 250_000 * 1.05 ** -(16 / 365.25) / 1_000_000)
    assert row["default_date"] == "2026-11-10"


def test_later_valuations_use_what_the_events_established(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        app = application(amount_cny=1_000_000)
        loan = a.book_loan({"assessment_id": a.assess(app).id, "origination_date": ORIGINATED})
        send(feed, loan.patent_ids[0], type="lapsed", on="2026-11-02")
        now = a.value({"patents": app["patents"]})  # the bank still says granted
        before = a.value({"patents": app["patents"], "context": {"as_of": "2026-11-01"}})
    (lapsed,) = now.patents
    assert lapsed.value_basis == "not_alive" and lapsed.value_note is not None
    assert lapsed.value_note.code == "VALUE_LAPSED"
    assert before.patents[0].value_basis != "not_alive"  # the day before the lapse


def test_batch_and_valuation_based_assessments_use_what_the_events_established(server: Server) -> None:
    """Every way into an assessment sees the recorded lapse: a batch item, and an assessment of a stored valuation."""
    with today_is(server), server.client("bank_a") as a, server.client("data_feed") as feed:
        app = application(amount_cny=1_000_000)
        stored = a.value({"patents": app["patents"], "context": {"as_of": "2026-10-01"}})  # before the lapse
        loan = a.book_loan({"assessment_id": a.assess(app).id, "origination_date": ORIGINATED})
        send(feed, loan.patent_ids[0], type="lapsed", on="2026-11-02")
        later = {**app, "as_of": "2026-11-20"}  # after the lapse
        batch = a.assess_batch([later])
        by_valuation = a.assess({k: v for k, v in later.items() if k != "patents"} | {"valuation_id": stored.id})
    (item,) = batch.results
    assert item.status == "ok" and item.assessment is not None
    assert item.assessment.valuation.patents[0].value_basis == "not_alive"
    assert by_valuation.valuation.patents[0].value_basis == "not_alive"  # stored as granted, lapsed since
