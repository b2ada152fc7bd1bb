"""The service's database as a data set of the data contract (docs/data-contract.md), for ``iprisk train``.

Every loan an institution booked (or every booked loan, for the regulator) becomes:

- a ``loans`` row: its terms, bank and pool as booked.  The appraised value is the bank's own
  appraisal when the assessment gave one, else the P50 of the package the assessment valued;
- an ``enterprises`` row for its borrower and ``patents`` rows for its pledged patents, as the
  assessment behind the loan stated them (the input snapshot: what was known at origination).
  A borrower or patent in several loans keeps the snapshot of its latest loan.  A pledged patent
  its assessment does not state takes its current facts (``patent_facts``).  A patent sold alone
  in a closed disposal carries the sale price as its observed price (``price_source`` disposal);
- ``loan_patents`` rows for its pledges, released ones included;
- an ``outcomes`` row once its bank reported an outcome
  (:func:`service.usecases.disposal_outcomes.outcome_row`): the credit columns, ``observed_until``
  for censoring, and the disposal's channel, rounds, dates, costs, recovery and realised LGD once
  its case closed.  A loan repaid (closed) without a report and never in default has a row too:
  no default, observed until it was settled.  Any other loan never reported has no row: its
  outcome is unknown, not "performing".

``claims`` is empty: the service records the fund's decisions on claims, not the review finding
(irregular or not, by desk or field review) the ``claim_review`` model learns from.

The frames carry the contract's column names and units (CNY, dates, booleans) and may carry
more columns; the command line writes them through the contract's own writer and validates them
with its loader (``service/export_cli.py``), which this module may not import (tests/scoring/test_imports.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from scoring.legal_events import LegalFacts
from scoring.types import Borrower, LoanTerms, Patent
from scoring.vocab.money import to_cny
from service.db import audit
from service.db.fund_tables import PoolLoan
from service.db.pledge_tables import PledgeEvent
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Assessment, Loan, LoanPatent
from service.db.watch_tables import DisposalCase, PatentFacts
from service.usecases.disposal_outcomes import OUTCOME_COLUMNS, outcome_row, settled_row
from service.usecases.events import seed_facts

TABLES = ("enterprises", "patents", "loans", "loan_patents", "outcomes", "claims")
"""The contract's required tables, in the order they are written."""
DEFAULTED_STATES = frozenset({"defaulted", "in_disposal", "disposed", "released"})
"""Pledge states a loan reaches only through a default (scoring.pledge_life.CREDIT_STATUS)."""
MAX_LTV = 10.0
"""The contract's largest LTV: a package valued at nothing is written at it."""


@dataclass(frozen=True)
class ContractExport:
    """The contract's tables from the database, and what the export could not say."""

    frames: dict[str, pd.DataFrame]
    loans_without_outcome: int
    patents_from_current_facts: int
    skipped: dict[str, str]
    """Loans left out, with why: a stored assessment today's rules refuse (written under older ones)."""

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(frame) for name, frame in self.frames.items()}


def _booked(session: Session, institution: str | None) -> Iterator[tuple[Loan, Assessment]]:
    """The loans in origination order with their assessments, read a thousand at a time.

    An assessment is dropped once its loan's snapshot is taken, so a province's book does not sit in
    memory; its answer is not read at all (most of its size: the package's P50 is on the loan).
    """
    q = (
        select(Loan, Assessment)
        .join(Assessment, col(Assessment.id) == col(Loan.assessment_id))
        .options(*(defer(getattr(Assessment, name)) for name in ("response", "model_versions")))
    )
    if institution is not None:
        q = q.where(col(Loan.institution) == institution)
    q = q.order_by(col(Loan.origination_date), col(Loan.created_at), col(Loan.id)).execution_options(yield_per=1000)
    yield from session.exec(q)


def booked_count(session: Session, institution: str | None) -> int:
    """How many loans ``institution`` booked (None: every institution)."""
    q = select(func.count()).select_from(Loan)
    if institution is not None:
        q = q.where(col(Loan.institution) == institution)
    return int(session.exec(q).one())


def _scoped(model: Any, loan_column: Any, institution: str | None) -> Any:
    """Rows of ``model`` whose loan the export holds (joined, so no list of ids is sent)."""
    q = select(model).join(Loan, col(Loan.id) == loan_column)
    return q if institution is None else q.where(col(Loan.institution) == institution)


def _settled_without_default(session: Session, institution: str | None) -> dict[str, date]:
    """Loans settled (repaid, closed) that never were in default, with the day they were settled."""
    settled: dict[str, date] = {}
    defaulted: set[str] = set()
    q = _scoped(PledgeEvent, PledgeEvent.loan_id, institution).where(col(PledgeEvent.patent_id).is_(None))
    for e in session.exec(q.order_by(col(PledgeEvent.id))):
        if e.to_state == "settled":
            settled[e.loan_id] = e.occurred_on
        elif e.to_state in DEFAULTED_STATES:
            defaulted.add(e.loan_id)
    return {k: v for k, v in settled.items() if k not in defaulted}


def _loan_row(loan: Loan, a: Assessment, pool: PoolLoan | None) -> dict[str, Any]:
    terms = LoanTerms.model_validate(a.request["loan"])
    appraised = a.request.get("appraised_value_cny")
    if appraised is None:  # the package's P50 at booking (on the loan since 0002; else in the answer)
        appraised = loan.collateral_p50
    if appraised is None:
        appraised = a.response["valuation"]["package"]["total_p50"]
    appraised = float(appraised)
    return {
        "loan_id": loan.id,
        "enterprise_id": loan.borrower_id,
        "bank_id": loan.institution,
        "amount_cny": loan.amount_cny,
        "tenor_months": loan.tenor_months,
        "annual_rate": loan.annual_rate,
        "purpose": terms.purpose,
        "origination_date": loan.origination_date,
        "appraised_value_cny": appraised,
        "ltv": min(MAX_LTV, loan.amount_cny / appraised) if appraised > 0 else MAX_LTV,
        "ip_share_of_collateral": terms.ip_share_of_collateral,
        "insured_share": terms.insured_share,
        "pooled": pool is not None,
        "fund_id": pool.fund_id if pool is not None else None,
    }


def _patent_row(patent: Patent) -> dict[str, Any]:
    return {**patent.model_dump(), "observed_price_cny": None, "price_source": None, "price_date": None}


def _observed_prices(patents: dict[str, dict[str, Any]], links: list[LoanPatent], cases: list[DisposalCase]) -> None:
    """A patent sold alone in a closed case: its sale price is an observed price of that patent."""
    by_loan: dict[str, list[str]] = defaultdict(list)
    for link in links:
        by_loan[link.loan_id].append(link.patent_id)
    for case in cases:
        pledged = by_loan.get(case.loan_id, [])
        if case.status == "closed" and case.sale_price_fen and case.sold_on and len(pledged) == 1:
            patents[pledged[0]].update(
                observed_price_cny=float(to_cny(case.sale_price_fen)), price_source="disposal", price_date=case.sold_on
            )


@dataclass
class _Snapshots:
    """What the assessments behind the loans stated, by key (a later loan's replaces an earlier one's)."""

    enterprises: dict[str, dict[str, Any]]
    patents: dict[str, dict[str, Any]]
    loans: list[dict[str, Any]]
    skipped: dict[str, str]
    kept: list[Loan]


def _snapshots(
    session: Session, booked: Iterator[tuple[Loan, Assessment]], pools: dict[str | None, PoolLoan]
) -> _Snapshots:
    out = _Snapshots({}, {}, [], {}, [])
    for loan, a in booked:  # in origination order
        try:
            borrower = Borrower.model_validate(a.request["borrower"]).model_dump()
            seeds: dict[str, LegalFacts] = seed_facts(session, loan)
            row = _loan_row(loan, a, pools.get(loan.id))
        except (ValidationError, ValueError, KeyError) as exc:  # written under older rules
            out.skipped[loan.id] = " ".join(str(exc).split())[:200]
            continue
        out.enterprises[loan.borrower_id] = borrower
        out.patents.update({pid: _patent_row(f.patent) for pid, f in seeds.items()})
        out.loans.append(row)
        out.kept.append(loan)
    return out


def contract_frames(
    session: Session, *, institution: str | None, progress: Callable[[str], object] | None = None
) -> ContractExport:
    """Every contract table for the loans ``institution`` booked (None: every institution's)."""
    say = progress or (lambda _line: None)
    say(f"{booked_count(session, institution)} booked loans")
    pools = {p.loan_id: p for p in session.exec(_scoped(PoolLoan, PoolLoan.loan_id, institution)).all()}
    snap = _snapshots(session, _booked(session, institution), pools)
    enterprises, patents, loans, skipped, kept = snap.enterprises, snap.patents, snap.loans, snap.skipped, snap.kept
    links = [
        x
        for x in session.exec(_scoped(LoanPatent, LoanPatent.loan_id, institution).order_by(col(LoanPatent.id)))
        if x.loan_id not in skipped
    ]
    unstated = sorted({x.patent_id for x in links} - set(patents))
    exported = {loan.id for loan in kept}
    for facts in session.exec(select(PatentFacts).where(col(PatentFacts.patent_id).in_(unstated))).all():
        if facts.loan_id in exported:  # facts seeded by another institution's loan are not this export's
            patents[facts.patent_id] = _patent_row(LegalFacts.model_validate(facts.facts).patent)
    say(f"{len(enterprises)} borrowers, {len(patents)} patents")
    cases = [
        c for c in session.exec(_scoped(DisposalCase, DisposalCase.loan_id, institution)) if c.loan_id not in skipped
    ]
    _observed_prices(patents, links, cases)
    reports: dict[str, list[LoanOutcome]] = defaultdict(list)
    for r in session.exec(_scoped(LoanOutcome, LoanOutcome.loan_id, institution)).all():
        reports[r.loan_id].append(r)
    case_of = {c.loan_id: c for c in cases}
    settled = _settled_without_default(session, institution)
    outcomes = [
        outcome_row(loan, reports[loan.id], case_of.get(loan.id))
        if reports[loan.id]
        else settled_row(loan, settled[loan.id])
        for loan in kept
        if reports[loan.id] or loan.id in settled
    ]
    say(f"{len(outcomes)} reported outcomes, {sum(o['realised_lgd'] is not None for o in outcomes)} closed disposals")
    frames = {
        "enterprises": pd.DataFrame(list(enterprises.values())),
        "patents": pd.DataFrame(list(patents.values())),
        "loans": pd.DataFrame(loans),
        "loan_patents": pd.DataFrame([{"loan_id": x.loan_id, "patent_id": x.patent_id} for x in links]),
        "outcomes": pd.DataFrame(outcomes, columns=list(OUTCOME_COLUMNS)),
        "claims": pd.DataFrame(),
    }
    return ContractExport(
        frames,
        loans_without_outcome=len(kept) - len(outcomes),
        patents_from_current_facts=len(unstated),
        skipped=skipped,
    )


def audit_export(
    session: Session, *, actor: str, institution: str | None, directory: str, fmt: str, export: ContractExport
) -> None:
    """Audit the export (who, whose loans, where, how many rows); the caller commits."""
    audit.append(
        session,
        key_id=None,
        role="cli",
        institution=actor,
        action="export.contract",
        resource_type="dataset",
        resource_id=institution or "all",
        detail={"directory": directory, "format": fmt, "rows": export.counts()},
    )
