"""One patent, one pledge (issue 11), over real HTTP on SQLite and PostgreSQL.

Every way of writing a patent number names one patent, so a second bank cannot
book it by adding a space or a ``ZL``; ids that are no patent number are a 422
naming the field and write nothing; and the database, not a look-up, decides
which of several simultaneous bookings of one patent wins.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from benchmarks.servers import serve_iprisk
from service.client import ConflictError, ValidationFailed
from service.db.engine import make_engine
from service.keys import new_key
from service.settings import Settings
from service.usecases import loans as loans_uc
from tests.factories import TEST_SIGNING_KEY, application
from tests.patent_numbers import fresh_patent_id
from tests.service.harness import PG_URL, Server, drop_pg, pg_database, start_server
from training.pipeline import RunResult


def variants(canonical: str) -> dict[str, str]:
    """The ways a bank writes ``canonical`` (``CN<12 digits>.<check>``) that must all name it."""
    digits, check = canonical[2:14], canonical[15]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in canonical)
    return {
        "trailing space": f"{canonical} ",
        "lower case": canonical.lower(),
        "ZL prefix": f"ZL{digits}.{check}",
        "no prefix": f"{digits}.{check}",
        "no dot": f"CN{digits}{check}",
        "internal spaces": f"CN {digits[:4]} {digits[4]} {digits[5:]}.{check}",
        "full width": full_width,
    }


def _with_patent(patent_id: str, **loan: Any) -> dict[str, Any]:
    app = application(**loan)
    app["patents"][0]["patent_id"] = patent_id
    return app


def _counts(server: Server) -> dict[str, int]:
    return {t: server.count(t) for t in ("valuations", "assessments", "loans", "loan_patents", "insurance_quotes")}


def test_every_variant_of_a_pledged_patent_is_that_patent(server: Server) -> None:
    canonical = fresh_patent_id()
    with server.client("bank_a") as a:
        loan = a.book_loan({"assessment_id": a.assess(_with_patent(f" zl{canonical[2:]} ")).id})
    assert loan.patent_ids == [canonical]
    with server.client("bank_b") as b:
        for name, written in variants(canonical).items():
            v = b.value({"patents": [{**application()["patents"][0], "patent_id": written}]})
            assert v.patents[0].patent_id == canonical, name
            check = next(c for c in v.patents[0].checks if c.check == "not_already_pledged")
            assert check.status == "fail", name
            assessed = b.assess(_with_patent(written))
            assert assessed.valuation.patents[0].patent_id == canonical, name
            with pytest.raises(ConflictError) as info:
                b.book_loan({"assessment_id": assessed.id})
            assert canonical in info.value.detail, name
            assert "bank_a" not in info.value.detail and loan.id not in info.value.detail, name


def test_two_ways_of_writing_one_patent_in_one_request_are_one_patent(server: Server) -> None:
    canonical = fresh_patent_id()
    app = application()
    app["patents"] = [
        {**app["patents"][0], "patent_id": canonical},
        {**app["patents"][0], "patent_id": f"ZL{canonical[2:]}"},
    ]
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.assess(app)
    assert info.value.field == "patents.1.patent_id" and "appears twice" in info.value.detail


BAD_IDS = {
    "blank": "",
    "spaces": "   ",
    "newline": "CN201910555111.1\n",
    "html": "<b>CN201910555111.1</b>",
    "wrong check digit": "CN201910555111.2",  # the example: CN201910555111 checks to 1
    "publication number": "CN110123456A",
    "no check digit": "CN201910555111",
    "foreign (cn_only)": "US10123456B2",
}


@pytest.mark.parametrize("name", sorted(BAD_IDS))
def test_an_id_that_is_no_patent_number_is_a_422_naming_the_field_and_nothing_is_written(
    server: Server, name: str
) -> None:
    bad = BAD_IDS[name]
    before = _counts(server)
    patent = {**application()["patents"][0], "patent_id": bad}
    with server.client("bank_a") as c:
        for send, field in (
            (lambda: c.value({"patents": [patent]}), "patents.0.patent_id"),
            (lambda: c.assess(_with_patent(bad)), "patents.0.patent_id"),
            (lambda: c.quote({"quote": {"product": "patent_enforcement", "patents": [patent]}}), None),
        ):
            with pytest.raises(ValidationFailed) as info:
                send()
            assert info.value.field is not None and info.value.field.endswith(field or "patents.0.patent_id"), name
        out = c.assess_batch([_with_patent(bad)])
    assert out.results[0].error is not None and out.results[0].error.field == "items.0.patents.0.patent_id"
    assert _counts(server) == before


def test_a_patent_type_the_number_contradicts_is_a_422_naming_patent_type(server: Server) -> None:
    app = _with_patent(fresh_patent_id("utility_model"))  # the example patent says invention
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.assess(app)
    assert info.value.field == "patents.0.patent_type" and "utility_model" in info.value.detail


def test_closing_a_loan_lets_another_bank_pledge_the_patent(server: Server) -> None:
    canonical = fresh_patent_id()
    with server.client("bank_a") as a:
        first = a.book_loan({"assessment_id": a.assess(_with_patent(canonical)).id})
        a.close_loan(first.id)
    with server.client("bank_b") as b:
        again = b.book_loan({"assessment_id": b.assess(_with_patent(f"{canonical.lower()} ")).id})
    assert again.patent_ids == [canonical] and again.status == "active"


def test_the_database_refuses_a_second_active_pledge_the_look_up_missed(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two bookings that both passed the look-up: the unique index stops the second, as a 409."""
    canonical = fresh_patent_id()
    with server.client("bank_a") as a, server.client("bank_b") as b:
        a.book_loan({"assessment_id": a.assess(_with_patent(canonical)).id})
        assessed = b.assess(_with_patent(canonical))
        loans_before = server.count("loans")
        monkeypatch.setattr(loans_uc, "pledged_elsewhere", lambda *_: set())  # as if the first had not committed yet
        with pytest.raises(ConflictError) as info:
            b.book_loan({"assessment_id": assessed.id})
    assert canonical in info.value.detail and "bank_a" not in info.value.detail
    assert server.count("loans") == loans_before  # the loser's loan row went with its transaction
    with server.engine().connect() as conn:
        rows = conn.execute(
            text("SELECT COUNT(*) FROM loan_patents WHERE patent_id = :p AND active"), {"p": canonical}
        ).scalar_one()
    assert rows == 1


def _store_patent_id(server: Server, assessment_id: str, written: str) -> None:
    """Rewrite a stored assessment as one stored before ids were canonical (its id as the bank typed it)."""
    engine = server.engine()
    try:
        with engine.begin() as conn:
            raw = conn.execute(
                text("SELECT response FROM assessments WHERE id = :i"), {"i": assessment_id}
            ).scalar_one()
            response = json.loads(raw) if isinstance(raw, str) else raw
            response["valuation"]["patents"][0]["patent_id"] = written
            conn.execute(
                text("UPDATE assessments SET response = :r WHERE id = :i"),
                {"r": json.dumps(response), "i": assessment_id},
            )
    finally:
        engine.dispose()


def test_an_assessment_stored_before_canonical_ids_books_under_the_canonical_id(server: Server) -> None:
    canonical, junk = fresh_patent_id(), fresh_patent_id()
    with server.client("bank_a") as a:
        old = a.assess(_with_patent(canonical))
        _store_patent_id(server, old.id, f" zl{canonical[2:]} ")
        assert a.book_loan({"assessment_id": old.id}).patent_ids == [canonical]
        broken = a.assess(_with_patent(junk))
        _store_patent_id(server, broken.id, "P1")  # accepted as an id before issue 11
        with pytest.raises(ValidationFailed) as info:
            a.book_loan({"assessment_id": broken.id})
    assert info.value.field == "assessment_id" and "assess the patents again" in info.value.detail
    with server.client("bank_b") as b, pytest.raises(ConflictError):
        b.book_loan({"assessment_id": b.assess(_with_patent(canonical)).id})


@pytest.fixture(scope="module")
def other_ids_server(
    trained: tuple[Path, list[RunResult]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A SQLite service started with IPRISK_PATENT_IDS=allow_other."""
    home = tmp_path_factory.mktemp("home-allow-other")
    shutil.copytree(trained[0], home / "models")
    settings = Settings(
        home=home,
        log_level="WARNING",
        rate_limit_per_minute=0,
        model_signing_key=SecretStr(TEST_SIGNING_KEY),
        patent_ids="allow_other",
    )
    srv, thread, base_url, app = start_server(settings)
    keys = {"bank_a": new_key(settings, role="bank", institution="bank_a")[0]}
    try:
        yield Server(base_url, settings, "sqlite", app, keys)
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


def test_other_offices_numbers_only_where_the_setting_allows_them(server: Server, other_ids_server: Server) -> None:
    patent = {**application()["patents"][0], "patent_id": " us 10123456 b2"}
    with server.client("bank_a") as c, pytest.raises(ValidationFailed) as info:
        c.value({"patents": [patent]})
    assert info.value.field == "patents.0.patent_id" and "cn_only" in info.value.detail
    with other_ids_server.client("bank_a") as c:
        v = c.value({"patents": [patent]})
        assert v.patents[0].patent_id == "US10123456B2"
        for still_bad in ("CN201910555111.2", "<b>x1</b>", ""):  # a Chinese number is still checked, junk still refused
            with pytest.raises(ValidationFailed):
                c.value({"patents": [{**patent, "patent_id": still_bad}]})


# --- many replicas --------------------------------------------------------------------------------------

BANKS = ("bank_p", "bank_q", "bank_r", "bank_s")
BOOKINGS = 16


@pytest.fixture(scope="module")
def two_replicas(
    trained: tuple[Path, list[RunResult]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, list[str]]]:
    """Two ``iprisk`` server processes on one PostgreSQL database."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    home = tmp_path_factory.mktemp("home-replicas")
    shutil.copytree(trained[0], home / "models")
    url, name = pg_database()
    settings = Settings(home=home, database_url=url, model_signing_key=SecretStr(TEST_SIGNING_KEY))
    env = {
        "IPRISK_MODEL_SIGNING_KEY": TEST_SIGNING_KEY,
        "IPRISK_RATE_LIMIT_PER_MINUTE": "0",
        "IPRISK_LOG_LEVEL": "WARNING",
        "IPRISK_SPARE_CORE_THREADS": "0",
    }
    try:
        with (
            serve_iprisk(settings, home / "replica-1.log", name="replica-1", env=env) as one,
            serve_iprisk(settings, home / "replica-2.log", name="replica-2", env=env) as two,
        ):
            yield settings, [one.url, two.url]
    finally:
        drop_pg(name)


def test_simultaneous_bookings_from_four_banks_on_two_replicas_give_one_pledge(
    two_replicas: tuple[Settings, list[str]],
) -> None:
    settings, urls = two_replicas
    keys = {bank: new_key(settings, role="bank", institution=bank)[0] for bank in BANKS}
    canonical = fresh_patent_id()
    written = [*variants(canonical).values(), canonical]
    assessments = []  # (base url, key, assessment id): each bank assesses the patent four times, as it writes it
    for i in range(BOOKINGS):
        url, key = urls[i % 2], keys[BANKS[i % len(BANKS)]]
        body = _with_patent(written[i % len(written)])
        r = httpx.post(f"{url}/v1/assessments", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert r.status_code == 201, r.text
        assessments.append((url, key, r.json()["id"]))
    start = threading.Barrier(BOOKINGS)
    answers: list[httpx.Response] = []

    def book(url: str, key: str, assessment_id: str) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            start.wait(timeout=60)
            answers.append(client.post("/v1/loans", json={"assessment_id": assessment_id}))

    threads = [threading.Thread(target=book, args=a) for a in assessments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * (BOOKINGS - 1), [r.text for r in answers if r.status_code not in (201, 409)]
    winner = next(r.json() for r in answers if r.status_code == 201)
    assert winner["patent_ids"] == [canonical]
    for r in answers:
        if r.status_code == 409:
            body = r.json()
            assert canonical in body["detail"] and body["error"] == "Conflict"
            assert not any(bank in body["detail"] for bank in BANKS) and winner["id"] not in body["detail"]
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            pledged = conn.execute(
                text("SELECT COUNT(*) FROM loan_patents WHERE patent_id = :p AND active"), {"p": canonical}
            ).scalar_one()
            loans = conn.execute(text("SELECT COUNT(*) FROM loans")).scalar_one()
    finally:
        engine.dispose()
    assert (pledged, loans) == (1, 1)
