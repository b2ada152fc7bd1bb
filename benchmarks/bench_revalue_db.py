"""Book revaluation with its database: what ``iprisk watch revalue`` adds to the marking, at province size.

    .venv/bin/python benchmarks/bench_revalue_db.py [--loans 100000] [--per-loan 2] [--pg URL] [--home DIR]

``bench_revalue.py`` times the marking from columns in memory.  This one builds a book in a
fresh database — a SQLite file, or with ``--pg`` a throwaway database on that PostgreSQL server,
dropped afterwards — and times :func:`service.usecases.revaluation.revalue_book` on it, phase by
phase.  The book: ``--loans`` active loans of five banks, each with its assessment (borrower,
terms, ``--per-loan`` patents from ``bench_revalue.synthetic_book``), its pledges and its
patents' current facts (``patent_facts``, as the first revaluation leaves them); a tenth of the
loans amortise (equal principal), a tenth reported a repayment, a twentieth an outcome.  Rows are
bulk-inserted; building them is not timed.

Timed, ``--reps`` times (the first run opens the alerts, later ones merge into them):

* ``read``: the live loans and the facts of their pledged patents as columns (``load_book``);
* ``outstanding``: every loan's principal outstanding today (schedule, reports, repayments);
* ``mark``: :func:`scoring.watch.mark_patents` (features and the three boosters), for reference;
* ``alerts`` / ``marks``: merging the alerts with the stored ones, replacing the marks;
* ``total``: the whole call, commit included; ``db`` = total − mark.

Then the first sight of ``--seed-sample`` patents that have no current facts yet (one replay each,
:func:`service.usecases.events.refresh_facts`), as patents per second.  Writes
``benchmarks/results/bench_revalue_db[_pg].json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from bench_assessment import ensure_store, machine
from bench_revalue import synthetic_book
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from scoring.models import LoadedModel
from scoring.patent_ids import application_number
from scoring.vocab.arrays import AnyArray, FloatArray
from scoring.watch import mark_patents
from service.bundle import load_champion
from service.configuration import load_configuration
from service.db.book_tables import LoanRepayment
from service.db.engine import make_engine
from service.db.migrate import upgrade
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Assessment, Loan, LoanPatent
from service.db.watch_tables import PatentFacts
from service.signing_key import signing_store
from service.usecases import revaluation
from service.usecases.events import refresh_facts
from service.usecases.watch import watch_context

HERE = Path(__file__).resolve().parent
TODAY = date(2026, 11, 30)
BANKS = ("bank_a", "bank_b", "bank_c", "bank_d", "bank_e")
REVENUE_CNY = 30_000_000.0
BORROWER: dict[str, Any] = {
    "industry": "computing_power",
    "region": "guiyang",
    "revenue_cny": REVENUE_CNY,
    "employees": 120,
    "years_registered": 8.0,
    "leverage": 0.5,
}


def book_columns(n: int) -> dict[str, AnyArray]:
    """``bench_revalue``'s synthetic patents, filed 2019–2024 so they still live (a pledged book's are)."""
    cols: dict[str, AnyArray] = synthetic_book(n)[0]
    rng = np.random.default_rng(11)
    cols["filing_date"] = np.datetime64("2019-01-01") + rng.integers(0, 365 * 6, n).astype("timedelta64[D]")
    cols["grant_date"] = np.minimum(
        cols["filing_date"] + rng.integers(180, 700, n).astype("timedelta64[D]"), np.datetime64(TODAY, "D")
    )
    return cols


def _patents(cols: dict[str, AnyArray]) -> list[dict[str, Any]]:
    """The synthetic patents as the API's patent objects (valid, distinct application numbers)."""
    n = len(cols["patent_id"])
    out = []
    for i in range(n):
        filed = cols["filing_date"][i].astype(object)
        ptype = str(cols["patent_type"][i])
        p: dict[str, Any] = {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in ((k, cols[k][i]) for k in cols if k not in ("patent_id", "filing_date", "grant_date"))
        }
        p.update(
            patent_id=application_number(filed, ptype, i + 1),
            filing_date=filed.isoformat(),
            grant_date=cols["grant_date"][i].astype(object).isoformat(),
        )
        for name in ("claims_count", "independent_claims"):
            p[name] = None if ptype == "design" else int(p[name])
        if p["claims_count"] is not None:  # the synthetic columns draw the two independently
            p["independent_claims"] = min(p["independent_claims"], p["claims_count"])
        out.append(p)
    return out


def _facts(p: dict[str, Any], revenue: float) -> dict[str, Any]:
    from scoring.legal_events import LegalFacts
    from scoring.types import Patent

    return LegalFacts(patent=Patent.model_validate(p), owner_revenue_cny=revenue).model_dump(mode="json")


def _booked_values(model: LoadedModel, cols: dict[str, AnyArray], per_loan: int) -> FloatArray:
    """Each loan's P50 at booking (the model's today, ±10%), so a value fall is the exception it is in a book."""
    n = len(cols["patent_id"])
    p50 = mark_patents(model, cols, TODAY, owner_revenue=np.full(n, REVENUE_CNY)).q[:, 1]
    rng = np.random.default_rng(7)
    return np.asarray(p50.reshape(-1, per_loan).sum(axis=1) * rng.uniform(0.9, 1.1, n // per_loan))


def build_book(engine: Engine, model: LoadedModel, loans: int, per_loan: int) -> dict[str, int]:
    """Bulk-insert the book, with its patents' current facts (as the first revaluation leaves them)."""
    rng = np.random.default_rng(20261130)
    cols = book_columns(loans * per_loan)
    patents = _patents(cols)
    values = _booked_values(model, cols, per_loan)
    rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for i in range(loans):
        lid, aid = str(uuid.uuid4()), str(uuid.uuid4())
        mine = patents[i * per_loan : (i + 1) * per_loan]
        booked = float(values[i])
        amount = float(max(1000.0, round(booked * rng.uniform(0.08, 0.26), -3)))  # the caps are 0.2-0.3: mostly inside
        orig = TODAY - timedelta(days=int(rng.integers(30, 700)))
        schedule = "equal_principal" if i % 10 == 3 else "bullet"
        loan_terms = {"amount_cny": amount, "tenor_months": 36, "purpose": "rd", "repayment_type": schedule}
        borrower = {**BORROWER, "enterprise_id": f"E{i:07d}"}
        rows[Assessment].append(
            {
                "id": aid,
                "institution": BANKS[i % 5],
                "key_id": 1,
                "as_of": orig,
                "borrower_id": borrower["enterprise_id"],
                "amount_cny": amount,
                "pd": 0.02,
                "grade": "BBB",
                "decision": "approve",
                "expected_loss": amount * 0.01,
                "request": {"borrower": borrower, "loan": loan_terms, "patents": mine, "as_of": orig.isoformat()},
                "response": {"valuation": {"package": {"pledge_value_cny": booked, "total_p50": booked}}},
                "model_versions": {},
            }
        )
        rows[Loan].append(
            {
                "id": lid,
                "institution": BANKS[i % 5],
                "assessment_id": aid,
                "borrower_id": borrower["enterprise_id"],
                "amount_cny": amount,
                "tenor_months": 36,
                "annual_rate": 0.045,
                "origination_date": orig,
                "status": "active",
                "pledge_state": "registered",
            }
        )
        for p in mine:
            rows[LoanPatent].append({"loan_id": lid, "patent_id": p["patent_id"], "active": True})
            facts = _facts(p, REVENUE_CNY)
            rows[PatentFacts].append({"patent_id": p["patent_id"], "loan_id": lid, "seed_as_of": orig, "facts": facts})
        if i % 10 == 7:
            rows[LoanRepayment].append(
                {
                    "loan_id": lid,
                    "institution": BANKS[i % 5],
                    "key_id": 1,
                    "paid_on": orig + timedelta(days=20),
                    "amount_fen": round(amount * 100 * 0.3),
                    "kind": "repayment",
                }
            )
        if i % 20 == 11:
            rows[LoanOutcome].append(
                {
                    "loan_id": lid,
                    "institution": BANKS[i % 5],
                    "key_id": 1,
                    "as_of": orig + timedelta(days=25),
                    "status": "performing",
                    "days_past_due": 0,
                    "npl_class": "normal",
                }
            )
    with engine.begin() as conn:
        for kind in (Assessment, Loan, LoanPatent, PatentFacts, LoanRepayment, LoanOutcome):
            table: Any = getattr(kind, "__table__")  # noqa: B009 - SQLModel declares no __table__ to type
            for start in range(0, len(rows[kind]), 5_000):
                conn.execute(insert(table), rows[kind][start : start + 5_000])
    return {m.__name__: len(v) for m, v in rows.items()}


@contextmanager
def phases(seconds: dict[str, float]) -> Iterator[None]:
    """Time the phases of :func:`revaluation.revalue_book` by wrapping the module's own names."""
    names = {"read": "load_book", "outstanding": "outstanding", "mark": "mark_patents"}
    names |= {"alerts": "_store_alerts", "marks": "_store_marks"}
    saved = {n: getattr(revaluation, n) for n in names.values()}

    def timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - start

        return run

    for phase, name in names.items():
        setattr(revaluation, name, timed(phase, saved[name]))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(revaluation, name, fn)


def _pg_database(base: str) -> tuple[str, Callable[[], None]]:
    name = f"iprisk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = base.rsplit("/", 1)[0] + f"/{name}"
    return "postgresql+psycopg://" + url.split("://", 1)[1], drop


def _revalue(engine: Engine, ctx: Any) -> tuple[dict[str, float], Any]:
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with phases(seconds), Session(engine) as session:
        summary = revaluation.revalue_book(session, ctx, today=TODAY)
        session.commit()
    seconds["total"] = time.perf_counter() - start
    seconds["db"] = seconds["total"] - seconds["mark"]
    return {k: round(v, 3) for k, v in seconds.items()}, summary


def _seeding_rate(engine: Engine, sample: int) -> float:
    """Patents per second seen for the first time (their current facts replayed one by one)."""
    with Session(engine) as session:
        table: Any = PatentFacts.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
        ids = [r[0] for r in session.connection().execute(table.select().with_only_columns(table.c.patent_id))]
        ids = ids[:sample]
        session.connection().execute(delete(table).where(table.c.patent_id.in_(ids)))
        start = time.perf_counter()
        for pid in ids:
            refresh_facts(session, pid)
        session.flush()
        elapsed = time.perf_counter() - start
        session.commit()
    return len(ids) / elapsed


def main() -> None:
    """Build the book, time the revaluation by phase, print and write the figures."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--per-loan", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--seed-sample", type=int, default=2_000)
    ap.add_argument("--pg", help="A PostgreSQL server URL (postgresql://user@host:port/db) to make a database on.")
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    args = ap.parse_args()
    settings = ensure_store(args.home)
    model = load_champion(signing_store(settings), "valuation")
    ctx = watch_context(model, load_configuration(settings.config_dir).scoring, settings)
    drop: Callable[[], None] = lambda: None  # noqa: E731 - replaced by the PostgreSQL database's own
    if args.pg:
        url, drop = _pg_database(args.pg)
    else:
        db = args.home / "bench_revalue_db.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        t0 = time.perf_counter()
        rows = build_book(engine, model, args.loans, args.per_loan)
        print(f"built {rows} in {time.perf_counter() - t0:.1f} s", flush=True)
        runs = []
        for _ in range(args.reps):
            seconds, summary = _revalue(engine, ctx)
            print(json.dumps(seconds), flush=True)
            runs.append(seconds)
        rate = _seeding_rate(engine, args.seed_sample)
    finally:
        engine.dispose()
        drop()
    out: dict[str, Any] = {
        "database": "postgresql" if args.pg else "sqlite",
        "loans": args.loans,
        "patents": summary.patents,
        "alerts_open": summary.alerts_open,
        "rows_built": rows,
        "runs": runs,
        "median_seconds": {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]},
        "first_sight_patents_per_second": round(rate, 1),
        "seed_sample": args.seed_sample,
        "model_version": model.version,
        "machine": machine(),
    }
    print(json.dumps(out, indent=2))
    name = "bench_revalue_db_pg.json" if args.pg else "bench_revalue_db.json"
    (HERE / "results" / name).write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
