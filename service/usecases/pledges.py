"""Pledges of booked loans: one active pledge per patent, decided by the database.

The look-up before booking (:func:`service.usecases.scoring.pledged_elsewhere`)
gives the common case its answer early, but two bookings of one patent at
the same moment both pass it.  The partial unique index
``uq_loan_patents_active_patent`` (``UNIQUE (patent_id) WHERE active``, on
SQLite and PostgreSQL) lets exactly one of them commit: PostgreSQL makes the
second insert wait for the first transaction and then fails it, SQLite's single
writer sees the first row.  The loser's insert fails inside a savepoint, so
the transaction can still ask which patents are taken and answer 409 naming
them, never the institution that holds them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from scoring.patent_ids import PatentIdError
from service.db.tables import Assessment, LoanPatent
from service.errors import Conflict, InvalidInput
from service.patent_ids import canonical_stored_id
from service.usecases.scoring import pledged_elsewhere


def already_pledged(taken: Iterable[str]) -> Conflict:
    """The 409 for patents pledged in an active loan (of any institution, which it does not name)."""
    return Conflict(f"patents already pledged in an active loan: {sorted(taken)}", field="assessment_id")


def assessed_patent_ids(a: Assessment) -> list[str]:
    """Canonical, distinct ids of the patents an assessment valued, sorted.

    Assessments stored before ids were canonical may hold variants (``zl…``,
    spaces); each is read in canonical form, and one that is no patent number
    this deployment accepts refuses the booking (422).  Sorted, so concurrent
    bookings of several patents insert them in one order and cannot deadlock.
    """
    ids = set()
    for p in a.response["valuation"]["patents"]:
        try:
            ids.add(canonical_stored_id(p["patent_id"]))
        except PatentIdError as exc:
            raise InvalidInput(
                f"assessment {a.id} values a patent whose id {exc.problem}; assess the patents again",
                field="assessment_id",
            ) from exc
    return sorted(ids)


def pledge(session: Session, loan_id: str, patent_ids: list[str]) -> None:
    """Record ``patent_ids`` as pledged to ``loan_id``; 409 if another active loan holds one of them."""
    try:
        with session.begin_nested():
            session.add_all(LoanPatent(loan_id=loan_id, patent_id=pid, active=True) for pid in patent_ids)
            session.flush()
    except IntegrityError as exc:
        taken = pledged_elsewhere(session, patent_ids)  # committed by the booking that won the race
        if not taken:
            raise
        raise already_pledged(taken) from exc
