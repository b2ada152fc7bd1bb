"""``iprisk export contract``: the service's database as a training data set, on SQLite and PostgreSQL (issue 13).

Loans booked, reported and disposed of over HTTP come back out as every table of the data
contract, checked by the contract's own loader, and ``iprisk train --model lgd`` reads them:
it refuses a handful of disposals in one clear line and trains once the export holds enough.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlmodel import Session

from service.client import IpriskClient
from service.db.tables import Assessment, Loan
from tests.factories import application
from tests.service.harness import Server
from tests.service.test_after_booking import ORIGINATED, TODAY, _cli, today_is
from training.contract import load_dataset

FIRST_DEFAULT = date(2026, 7, 10)


def _booked(a: IpriskClient, i: int, **loan: Any) -> tuple[str, dict[str, Any]]:
    """Book a ¥1m loan on one fresh patent for borrower ``E-EXP-i``; return its id and the application."""
    app = application(borrower={"enterprise_id": f"E-EXP-{i:03d}"}, amount_cny=1_000_000, **loan)
    return a.book_loan({"assessment_id": a.assess(app).id, "origination_date": ORIGINATED}).id, app


def _disposed(a: IpriskClient, loan_id: str, i: int) -> None:
    """Default the loan on a day of its own and sell its patents for a price of their own; close the case."""
    default = FIRST_DEFAULT + timedelta(days=2 * i)
    day = [(default + timedelta(days=k)).isoformat() for k in range(5)]
    a.report_outcome(
        {
            "loan_id": loan_id,
            "as_of": day[1],
            "status": "default",
            "days_past_due": min(95, (default - date.fromisoformat(ORIGINATED)).days),
            "npl_class": "substandard",
            "default_date": day[0],
        }
    )
    case = a.open_disposal(loan_id, {"channel": "negotiated_transfer", "on": day[2]})
    a.disposal_step(case.id, {"step": "sold", "on": day[3], "price_cny": f"{200_000 + 11_000 * (i % 50)}.00"})
    a.disposal_step(case.id, {"step": "close", "on": day[4]})


def _export(server: Server, out: Path, *args: str) -> dict[str, Any]:
    result = _cli(server, "export", "contract", str(out), *args)
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output[result.output.index('{"directory"') :])
    return summary


def test_the_export_holds_every_contract_table_of_one_banks_loans(server: Server, tmp_path: Path) -> None:
    with today_is(server), server.client("bank_a") as a, server.client("bank_b") as b:
        sold, sold_app = _booked(a, 1, annual_rate=0.05)
        _disposed(a, sold, 1)
        performing, _ = _booked(a, 2)
        a.report_outcome(
            {
                "loan_id": performing,
                "as_of": "2026-11-01",
                "status": "performing",
                "days_past_due": 0,
                "npl_class": "normal",
            }
        )
        unreported, _ = _booked(a, 3)
        repaid, _ = _booked(a, 5)
        a.close_loan(repaid)
        others, _ = _booked(b, 4)
    out = tmp_path / "bank_a"
    summary = _export(server, out, "--institution", "bank_a")
    data = load_dataset(out)  # the contract's own loader: raises on any problem
    loans = data["loans"].set_index("loan_id")
    assert set(loans.index) >= {sold, performing, unreported} and others not in loans.index
    assert set(loans["bank_id"]) == {"bank_a"}
    assert summary["rows"]["loans"] == len(loans) and summary["institution"] == "bank_a"
    # the borrower and the patent as the assessment stated them, the pledge under the same ids
    ent = data["enterprises"].set_index("enterprise_id").loc["E-EXP-001"]
    assert ent["revenue_cny"] == sold_app["borrower"]["revenue_cny"] and ent["region"] == sold_app["borrower"]["region"]
    pid = str(data["loan_patents"].set_index("loan_id").loc[sold, "patent_id"])
    pat = data["patents"].set_index("patent_id").loc[pid]
    assert pat["forward_citations"] == sold_app["patents"][0]["forward_citations"]
    assert pat["filing_date"] == pd.Timestamp(sold_app["patents"][0]["filing_date"])
    # sold alone: its sale price is an observed price of the patent
    assert (pat["observed_price_cny"], pat["price_source"]) == (211_000.0, "disposal")
    assert loans.loc[sold, "amount_cny"] == 1_000_000 and loans.loc[sold, "annual_rate"] == 0.05
    outcomes = data["outcomes"].set_index("loan_id")
    assert unreported not in outcomes.index  # never reported: unknown, not "performing"
    closed = outcomes.loc[repaid]  # repaid without a report: no default, seen until it was settled
    assert not closed["default_12m"] and closed["observed_until"] == pd.Timestamp(TODAY)
    assert (closed["npl_class"], closed["days_past_due"]) == ("normal", 0)
    row = outcomes.loc[sold]
    assert bool(row["default_12m"]) and row["default_date"] == pd.Timestamp("2026-07-12")
    assert (row["disposal_channel"], row["auction_rounds"], row["disposal_price_cny"]) == (
        "negotiated_transfer",
        0,
        211_000,
    )
    assert row["realised_lgd"] == pytest.approx(1 - 211_000 * 1.05 ** -(4 / 365.25) / 1_000_000)
    assert row["observed_until"] == pd.Timestamp("2026-07-16")  # the case closed after the last report
    calm = outcomes.loc[performing]
    assert (
        not calm["default_12m"]
        and calm["observed_until"] == pd.Timestamp("2026-11-01")
        and pd.isna(calm["realised_lgd"])
    )
    assert len(data["claims"]) == 0
    assert server.count("audit_log") > 0 and _audited(server) >= 1


def _audited(server: Server) -> int:
    from sqlalchemy import text

    engine = server.engine()
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE action = 'export.contract'")).scalar_one()
            )
    finally:
        engine.dispose()


def test_lgd_training_refuses_a_few_disposals_in_one_line(server: Server, tmp_path: Path) -> None:
    with today_is(server), server.client("bank_b") as b:
        for i in range(3):
            _disposed(b, _booked(b, 100 + i)[0], i)
    few = tmp_path / "few"
    summary = _export(server, few, "--institution", "bank_b")
    refused = _cli(server, "train", "--model", "lgd", "--data", str(few))
    assert summary["rows"]["outcomes"] >= 3
    assert refused.exit_code == 2, refused.output
    assert "refused: nothing was trained" in refused.output and "too few to train the lgd model" in refused.output
    assert "Traceback" not in refused.output


def test_lgd_trains_on_an_export_holding_enough_disposals(server: Server, tmp_path: Path) -> None:
    if server.backend != "sqlite":
        pytest.skip("the export is the same code on both databases (above); training reads only its files")
    with today_is(server), server.client("bank_a") as a:
        for i in range(51):
            _disposed(a, _booked(a, 200 + i)[0], i)
    enough = tmp_path / "enough"
    summary = _export(server, enough, "--all", "--format", "parquet")
    trained = _cli(server, "train", "--model", "lgd", "--data", str(enough))
    assert summary["institution"] == "all" and summary["rows"]["outcomes"] >= 51
    assert sorted(p.name for p in enough.iterdir()) == [
        f"{t}.parquet" for t in ("claims", "enterprises", "loan_patents", "loans", "outcomes", "patents")
    ]
    assert trained.exit_code == 0, trained.output
    assert "lgd version" in trained.output and "registered as challenger" in trained.output
    # PD on the same young book: it trains where both outcomes fall on each side of the out-of-time split
    # (the module's other tests booked loans that were repaid), else it refuses in one line; never a traceback.
    # Loans without an outcome are left out of every column alike (a column filtered twice crashed here).
    pd_trained = _cli(server, "train", "--model", "pd", "--data", str(enough))
    assert "Traceback" not in pd_trained.output and pd_trained.exit_code in (0, 2), pd_trained.output
    if pd_trained.exit_code == 2:
        assert "both outcomes are needed" in pd_trained.output, pd_trained.output
    else:
        assert pd_trained.exit_code == 0 and "pd version" in pd_trained.output, pd_trained.output


def test_an_export_that_cannot_be_made_says_why_in_one_line(server: Server, tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory", encoding="utf-8")
    whose = _cli(server, "export", "contract", str(tmp_path / "x"))
    both = _cli(server, "export", "contract", str(tmp_path / "x"), "--institution", "bank_a", "--all")
    nobody = _cli(server, "export", "contract", str(tmp_path / "x"), "--institution", "bank_nowhere")
    fmt = _cli(server, "export", "contract", str(tmp_path / "x"), "--all", "--format", "xlsx")
    occupied = _cli(server, "export", "contract", str(a_file), "--all")
    for result, words in (
        (whose, "--institution BANK, or --all"),
        (both, "--institution BANK, or --all"),
        (nobody, "no booked loans of bank_nowhere"),
        (fmt, "--format must be csv or parquet"),
        (occupied, "is not a directory"),
    ):
        assert result.exit_code == 2, result.output
        assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "x").exists()  # nothing written


def test_a_loan_whose_stored_assessment_no_longer_validates_is_left_out_and_named(
    server: Server, tmp_path: Path
) -> None:
    with today_is(server), server.client("bank_a") as a:
        kept, _ = _booked(a, 900)
        legacy, _ = _booked(a, 901)
    engine = server.engine()
    try:
        with Session(engine) as session:
            loan = session.get(Loan, legacy)
            assert loan is not None
            stored = session.get(Assessment, loan.assessment_id)
            assert stored is not None
            # as if written under older rules: a borrower field today's schema refuses
            stored.request = {**stored.request, "borrower": {**stored.request["borrower"], "employees": 0}}
            session.add(stored)
            session.commit()
    finally:
        engine.dispose()
    out = tmp_path / "legacy"
    summary = _export(server, out, "--institution", "bank_a")
    data = load_dataset(out)
    assert kept in set(data["loans"]["loan_id"]) and legacy not in set(data["loans"]["loan_id"])
    assert legacy not in set(data["loan_patents"]["loan_id"])
    assert summary["loans_skipped"] == 1 and "employees" in summary["skipped_examples"][legacy]
