"""The pledge life over real HTTP, on SQLite and PostgreSQL (issue 11 C, docs/pledge-life.md).

A defaulted loan keeps its patents until they are disposed of, released with a
reason, or the loan is repaid; then another bank may pledge them, and not
before.  Impossible transitions are a 409 naming the state and the step.  The
registration record, not the bank's word, decides a fund's
``pledge_registration_required``.  No endpoint takes a date after the service's
business day, and an outcome must respect the 2023 classification floors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from service.client import ConflictError, IpriskClient, ValidationFailed
from service.deps import get_today
from service.schemas.loans import LoanPublic
from tests.factories import FILED, application, claim_body, facts, patent
from tests.service.fund_helpers import clock, file, new_fund, pool_loan
from tests.service.harness import Server

TODAY = date(2026, 11, 30)  # the service's business day in these tests (pinned)
TOMORROW = TODAY + timedelta(days=1)
ORIGINATED = "2026-07-01"  # after the applications' as_of (2026-06-30)
TERM = {"term_start": "2026-07-01", "term_end": "2028-06-30"}


@contextmanager
def today_is(server: Server, day: date = TODAY) -> Iterator[None]:
    """Pin the service's business day (``fund_helpers.clock`` inside it ends the pin: keep it last)."""
    app: Any = server.app
    app.dependency_overrides[get_today] = lambda: day
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_today, None)


def book(c: IpriskClient, app: dict[str, Any] | None = None) -> LoanPublic:
    """Assess and book an application (one fresh patent unless ``app`` says otherwise)."""
    return c.book_loan({"assessment_id": c.assess(app or application()).id, "origination_date": ORIGINATED})


def second_bank_books(server: Server, patent_id: str) -> LoanPublic:
    """bank_b assesses and books ``patent_id`` (ConflictError while it is pledged elsewhere)."""
    app = application()
    app["patents"][0]["patent_id"] = patent_id
    with server.client("bank_b") as b:
        return book(b, app)


def default(c: IpriskClient, loan_id: str, **over: Any) -> Any:
    body = {
        "loan_id": loan_id,
        "as_of": TODAY.isoformat(),
        "status": "default",
        "days_past_due": 100,
        "npl_class": "substandard",
        "default_date": "2026-09-01",
        **over,
    }
    return c.report_outcome(body)


def registered(c: IpriskClient, loan_id: str, **over: Any) -> LoanPublic:
    body = {"status": "registered", "registration_number": "Y2026980001234", "registration_date": "2026-07-01"}
    return c.record_registrations(loan_id, {**body, **TERM, **over})


def audit_actions(server: Server, loan_id: str) -> list[str]:
    engine = server.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT action FROM audit_log WHERE resource_id = :id ORDER BY id"), {"id": loan_id}
            ).all()
        return [r[0] for r in rows]
    finally:
        engine.dispose()


def test_a_defaulted_loans_patents_are_pledged_until_disposed_of(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        pid = loan.patent_ids[0]
        registered(a, loan.id)
        default(a, loan.id)
        with pytest.raises(ConflictError):
            second_bank_books(server, pid)
        started = a.report_disposal(loan.id, {"stage": "started", "on": "2026-10-01"})
        assert (started.pledge_state, started.status) == ("in_disposal", "defaulted")
        with pytest.raises(ConflictError):
            second_bank_books(server, pid)
        done = a.report_disposal(loan.id, {"stage": "disposed", "on": "2026-11-20", "price_cny": "1250000.00"})
        assert second_bank_books(server, pid).patent_ids == [pid]
    assert done.pledge_state == "disposed"
    assert [(r.status, r.released_on) for r in done.registrations] == [("released", date(2026, 11, 20))]
    steps = [(e.event, e.from_state, e.to_state) for e in done.pledge_history if e.patent_id is None]
    assert steps == [
        ("book", None, "booked"),
        ("register", "booked", "registered"),
        ("default", "registered", "defaulted"),
        ("start_disposal", "defaulted", "in_disposal"),
        ("dispose", "in_disposal", "disposed"),
    ]
    sold = next(e for e in done.pledge_history if e.event == "dispose")
    assert (sold.on, sold.price_cny) == (date(2026, 11, 20), Decimal("1250000.00"))
    assert {"pledge.default", "pledge.start_disposal", "pledge.dispose"} <= set(audit_actions(server, loan.id))


def test_an_explicit_release_needs_a_reason_and_frees_the_patent(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        default(a, loan.id)
        with pytest.raises(ValidationFailed) as info:
            a.release_loan(loan.id, {"reason": ""})
        assert info.value.field == "reason"
        with pytest.raises(ConflictError):
            second_bank_books(server, loan.patent_ids[0])
        released = a.release_loan(loan.id, {"reason": "settlement with the guarantor"})
        assert second_bank_books(server, loan.patent_ids[0]).status == "active"
        with pytest.raises(ConflictError) as again:
            a.release_loan(loan.id, {"reason": "settlement with the guarantor"})
        default(a, loan.id)  # the debt is still unpaid: reports go on, the state stays
        assert a.get_loan(loan.id).pledge_state == "released"
    assert "is released: release is not possible" in again.value.detail
    step = released.pledge_history[-1]
    assert (step.event, step.to_state, step.on, step.reason) == (
        "release",
        "released",
        TODAY,
        "settlement with the guarantor",
    )
    assert "pledge.release" in audit_actions(server, loan.id)


def test_repayment_after_default_releases_the_patents(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        reported = book(a)
        default(a, reported.id)
        with pytest.raises(ConflictError):
            second_bank_books(server, reported.patent_ids[0])
        a.report_outcome(
            {
                "loan_id": reported.id,
                "as_of": TODAY.isoformat(),
                "status": "repaid",
                "days_past_due": 0,
                "npl_class": "normal",
            }
        )
        settled = a.get_loan(reported.id)
        second_bank_books(server, reported.patent_ids[0])
        closed = book(a)
        default(a, closed.id)
        after_close = a.close_loan(closed.id)  # was a 409 for a defaulted loan
        second_bank_books(server, closed.patent_ids[0])
    assert (settled.pledge_state, settled.status) == ("settled", "closed") and settled.closed_at is not None
    assert (after_close.pledge_state, after_close.status) == ("settled", "closed")


def test_impossible_transitions_are_409_naming_the_state_and_nothing_is_written(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        with pytest.raises(ConflictError) as release:
            a.release_loan(loan.id, {"reason": "collateral substitution"})
        with pytest.raises(ConflictError) as dispose_early:
            a.report_disposal(loan.id, {"stage": "started", "on": "2026-10-01"})
        default(a, loan.id)
        outcomes = server.count("loan_outcomes")
        with pytest.raises(ConflictError) as perform:
            a.report_outcome(
                {
                    "loan_id": loan.id,
                    "as_of": TODAY.isoformat(),
                    "status": "performing",
                    "days_past_due": 0,
                    "npl_class": "normal",
                }
            )
        assert server.count("loan_outcomes") == outcomes
        with pytest.raises(ConflictError) as dispose:
            a.report_disposal(loan.id, {"stage": "disposed", "on": "2026-11-01"})
        a.close_loan(loan.id)
        with pytest.raises(ConflictError) as close:
            a.close_loan(loan.id)
        with pytest.raises(ConflictError) as late_default:
            default(a, loan.id)
    assert "is booked: release is not possible" in release.value.detail
    assert "is booked: start_disposal is not possible" in dispose_early.value.detail
    assert "is defaulted: perform is not possible" in perform.value.detail and perform.value.field == "status"
    assert "is defaulted: dispose is not possible" in dispose.value.detail
    assert "is settled: close is not possible" in close.value.detail
    assert "is settled: default is not possible" in late_default.value.detail


def test_a_loan_is_registered_when_every_patent_is(server: Server) -> None:
    app = application()
    app["patents"].append(patent())
    with today_is(server), server.client("bank_a") as a:
        loan = book(a, app)
        first, second = loan.patent_ids
        applied = a.record_registrations(
            loan.id, {"patent_ids": [f"zl{first[2:]}"], "status": "applied", "applied_on": "2026-06-30", **TERM}
        )
        assert applied.pledge_state == "booked"
        with pytest.raises(ConflictError) as twice:
            registered(a, loan.id, patent_ids=[first])
        half = registered(a, loan.id, patent_ids=[second])
        assert half.pledge_state == "booked"
        with pytest.raises(ConflictError) as applied_to_changed:
            a.change_registration(loan.id, first, {"status": "changed", "changed_on": "2026-08-01"})
        done = a.change_registration(
            loan.id,
            f"ZL{first[2:]}",
            {"status": "registered", "registration_number": "y2026980004321", "registration_date": "2026-07-03"},
        )
        changed = a.change_registration(
            loan.id, first, {"status": "changed", "changed_on": "2026-08-01", "term_end": "2028-12-31"}
        )
        shown = a.get_loan(loan.id)
    assert "already recorded" in twice.value.detail
    assert "registration is applied: changed is not possible" in applied_to_changed.value.detail
    assert done.pledge_state == "registered"
    assert done.pledge_history[-1].event == "register" and done.pledge_history[-1].on == date(2026, 7, 3)
    reg = {r.patent_id: r for r in changed.registrations}[first]
    assert (reg.status, reg.registration_number, reg.term_end) == ("changed", "Y2026980004321", date(2028, 12, 31))
    assert shown.registrations == changed.registrations
    with server.client("regulator") as r:
        assert r.get_loan(loan.id).pledge_state == "registered"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"registration_date": TOMORROW.isoformat()}, "registration_date"),
        ({"registration_date": "2026-06-29"}, "registration_date"),  # before assessment and origination
        ({"term_end": "2026-07-01"}, "term_end"),
        ({"patent_ids": ["CN201910555111.1"]}, "patent_ids.0"),
        ({"registration_number": "Y 2026<98>"}, "registration_number"),
        ({"status": "applied", "registration_number": None, "registration_date": None}, "applied_on"),
    ],
)
def test_a_bad_registration_is_a_422_naming_the_field(server: Server, body: dict[str, Any], field: str) -> None:
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        events = server.count("pledge_events")
        with pytest.raises(ValidationFailed) as info:
            registered(a, loan.id, **body)
    assert info.value.field == field, info.value.detail
    assert server.count("pledge_events") == events


def test_the_registration_record_decides_pledge_registration_required(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        pid = loan.patent_ids[0]
        with pytest.raises(ValidationFailed) as unregistered:
            a.register_pool_loan(fund_id, {"loan_id": loan.id})
        a.record_registrations(loan.id, {"status": "applied", "applied_on": "2026-07-01", **TERM})
        with pytest.raises(ValidationFailed) as applied:
            a.register_pool_loan(fund_id, {"loan_id": loan.id})
        with pytest.raises(ValidationFailed) as said:
            a.register_pool_loan(fund_id, {"loan_id": loan.id, "pledge_registered": True})
        a.change_registration(
            loan.id,
            pid,
            {"status": "registered", "registration_number": "Y2026980001234", "registration_date": ORIGINATED},
        )
        pooled = a.register_pool_loan(fund_id, {"loan_id": loan.id})
        # A loan not booked here still enters on the bank's word, as before (its facts say so).
        with pytest.raises(ValidationFailed) as by_facts:
            a.register_pool_loan(fund_id, {"facts": facts(pledge_registered=False)})
        a.register_pool_loan(fund_id, {"facts": facts()})
    for refused in (unregistered, applied):
        assert refused.value.field == "loan_id" and "pledge_registered: Pledge not registered" in refused.value.detail
    assert said.value.field == "pledge_registered"
    assert pooled.facts.pledge_registered is True
    assert {c.rule: c.passed for c in pooled.checks}["pledge_registered"] is True
    assert "pledge_registered" in by_facts.value.detail


def test_an_outcome_better_than_the_2023_rules_allow_names_npl_class(server: Server) -> None:
    with today_is(server), server.client("bank_a") as a:
        loan = book(a)
        before = server.count("loan_outcomes")
        report = {"loan_id": loan.id, "as_of": TODAY.isoformat(), "status": "performing"}
        bad = [
            ({"days_past_due": 120, "npl_class": "normal"}, "npl_class"),
            ({"days_past_due": 300, "npl_class": "substandard"}, "npl_class"),
            ({"days_past_due": 5, "npl_class": "normal"}, "npl_class"),
            ({"days_past_due": 200, "npl_class": "doubtful", "as_of": "2026-09-01"}, "days_past_due"),
            ({"days_past_due": 0, "npl_class": "normal", "as_of": "2026-06-30"}, "as_of"),
            ({"days_past_due": 0, "npl_class": "normal", "status": "default"}, "default_date"),
            ({"days_past_due": 3, "npl_class": "special_mention", "status": "repaid"}, "days_past_due"),
        ]
        fields = []
        for over, _ in bad:
            with pytest.raises(ValidationFailed) as info:
                a.report_outcome({**report, **over})
            fields.append(info.value.field)
        assert server.count("loan_outcomes") == before
        a.report_outcome({**report, "days_past_due": 120, "npl_class": "substandard"})
    assert fields == [f for _, f in bad]


def test_no_endpoint_takes_a_date_after_today(server: Server) -> None:
    tomorrow = TOMORROW.isoformat()
    with today_is(server), server.client("bank_a") as a:
        loan, defaulted = book(a), book(a)
        registered(a, defaulted.id)
        default(a, defaulted.id)
        app = application()
        sends: dict[str, Callable[[], object]] = {
            "context.as_of": lambda: a.value({"patents": [patent()], "context": {"as_of": tomorrow}}),
            "as_of": lambda: a.assess({**app, "as_of": tomorrow}),
            "origination_date": lambda: a.book_loan({"assessment_id": a.assess(app).id, "origination_date": tomorrow}),
            "outcome as_of": lambda: a.report_outcome(
                {
                    "loan_id": loan.id,
                    "as_of": tomorrow,
                    "status": "performing",
                    "days_past_due": 0,
                    "npl_class": "normal",
                }
            ),
            "default_date": lambda: default(a, loan.id, default_date=tomorrow),
            "registration_date": lambda: registered(a, loan.id, registration_date=tomorrow),
            "applied_on": lambda: a.record_registrations(
                loan.id, {"status": "applied", "applied_on": tomorrow, **TERM}
            ),
            "changed_on": lambda: a.change_registration(
                defaulted.id, defaulted.patent_ids[0], {"status": "changed", "changed_on": tomorrow}
            ),
            "disposal on": lambda: a.report_disposal(defaulted.id, {"stage": "started", "on": tomorrow}),
            "release on": lambda: a.release_loan(defaulted.id, {"reason": "written off", "on": tomorrow}),
        }
        before = {t: server.count(t) for t in ("loans", "loan_outcomes", "pledge_registrations", "pledge_events")}
        fields = {}
        for name, send in sends.items():
            with pytest.raises(ValidationFailed) as info:
                send()
            fields[name] = info.value.field
        assert {t: server.count(t) for t in before} == before
        batch = a.assess_batch([{**app, "as_of": tomorrow}])
    assert fields == {
        "context.as_of": "context.as_of",
        "as_of": "as_of",
        "origination_date": "origination_date",
        "outcome as_of": "as_of",
        "default_date": "default_date",
        "registration_date": "registration_date",
        "applied_on": "applied_on",
        "changed_on": "changed_on",
        "disposal on": "on",
        "release on": "on",
    }
    assert batch.results[0].error is not None and batch.results[0].error.field == "items.0.as_of"


def test_fund_dates_after_today_are_refused(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    with server.client("bank_a") as bank:
        with today_is(server, FILED), pytest.raises(ValidationFailed) as entry:
            bank.register_pool_loan(fund_id, {"facts": facts(origination_date=(FILED + timedelta(days=1)).isoformat())})
        loan_id = pool_loan(server, bank, fund_id)
        with pytest.raises(ValidationFailed) as claim:
            file(server, bank, fund_id, claim_body(loan_id, default_date=(FILED + timedelta(days=1)).isoformat()))
        filed = file(server, bank, fund_id, claim_body(loan_id))
        mgr.decide_claim(fund_id, filed.id, "approve")
        with clock(server, FILED), pytest.raises(ValidationFailed) as recovery:
            bank.report_recovery(
                fund_id, filed.id, {"amount_cny": "1", "recovered_on": (FILED + timedelta(days=1)).isoformat()}
            )
    mgr.close()
    assert entry.value.field == "facts" and "in the future" in entry.value.detail
    assert claim.value.field == "default_date" and "in the future" in claim.value.detail
    assert recovery.value.field == "recovered_on"


def test_a_stored_future_dated_default_does_not_override_the_truth_in_the_npl_figures(server: Server) -> None:
    """Before dates after today were refused, a default dated next year could be stored; it is not yet a fact."""
    app = application()
    app["borrower"]["region"] = "anshun"  # only this test books there
    with today_is(server), server.client("bank_a") as a:
        loan = book(a, app)
        a.report_outcome(
            {
                "loan_id": loan.id,
                "as_of": TODAY.isoformat(),
                "status": "performing",
                "days_past_due": 0,
                "npl_class": "normal",
            }
        )
        engine = server.engine()
        try:
            with engine.begin() as conn:  # what the service accepted before: a default dated next year
                conn.execute(
                    text(
                        "INSERT INTO loan_outcomes (loan_id, institution, key_id, reported_at, as_of, status, "
                        "days_past_due, npl_class, default_date) VALUES (:l, 'bank_a', 1, :r, :d, 'default', 400, "
                        "'loss', :d)"
                    ),
                    {"l": loan.id, "r": TODAY, "d": TODAY + timedelta(days=365)},
                )
        finally:
            engine.dispose()
        with server.client("regulator") as r:
            report = r.request("GET", "/v1/regulator/portfolio", params={"group_by": "region"})
    group = next(g for g in report["groups"] if g["key"] == "anshun")
    assert (group["loans"], group["npl_count"], group["npl_rate"]) == (1, 0, 0.0)


def test_the_rate_asked_is_kept_on_the_booked_loan(server: Server) -> None:
    app = application()
    app["loan"]["annual_rate"] = 0.0415
    with server.client("bank_a") as c:
        loan = book(c, app)
        assert loan.annual_rate == pytest.approx(0.0415)
        assert book(c).annual_rate is None  # nobody stated one: none is invented
        bad = application()
        bad["loan"]["annual_rate"] = 0.5
        with pytest.raises(ValidationFailed) as err:
            c.assess(bad)
        assert "annual_rate" in str(err.value)
