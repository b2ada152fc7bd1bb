"""one active pledge per patent: canonical patent ids, and a unique index over active pledges

Revision ID: 0004_one_pledge
Revises: 0003_audit, 0003_idempotency
Create Date: 2026-12-05

Merges the two heads. Before the index can hold, the ids already stored must be
canonical (docs/patent-identity.md): a patent booked as ``zl201910555111.1`` and
as ``CN201910555111.1`` is one patent. So:

1. every ``loan_patents.patent_id`` is rewritten in canonical form (mode
   ``allow_other``: another office's number is upper-cased without spaces); an
   id that is no patent number at all is kept as it is and logged;
2. two variants of one patent in one loan become one row (the first);
3. if one patent is then pledged in more than one active loan, the migration
   logs every such patent with its loans and institutions and stops with
   :class:`DuplicatePledges` before it changes anything: which pledge is real
   is a business decision (close or correct the other loans, then start
   again), and silently releasing one would hide collateral a bank relies on;
4. the partial unique index ``UNIQUE (patent_id) WHERE active`` is created.

Stored requests and responses (valuations, assessments, the hash-chained audit
log, idempotency answers) keep the ids as they were sent: they are records of
what was said. Booking from an old assessment reads its ids in canonical form.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scoring.patent_ids import PatentIdError, canonical_patent_id

revision: str = "0004_one_pledge"
down_revision: str | Sequence[str] | None = ("0003_audit", "0003_idempotency")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_loan_patents_active_patent"
log = logging.getLogger("iprisk.migrations")


class DuplicatePledges(RuntimeError):
    """Patents pledged in more than one active loan: the one-pledge index cannot be created."""


def _canonical(text: str) -> str | None:
    try:
        return canonical_patent_id(text, mode="allow_other")
    except PatentIdError:
        return None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT lp.id, lp.loan_id, lp.patent_id, lp.active, l.institution "
            "FROM loan_patents lp JOIN loans l ON l.id = lp.loan_id ORDER BY lp.id"
        )
    ).all()
    updates: dict[int, str] = {}
    merged: list[int] = []
    seen: set[tuple[str, str]] = set()
    active: dict[str, list[tuple[str, str]]] = defaultdict(list)
    unparsed = []
    for row_id, loan_id, patent_id, is_active, institution in rows:
        canonical = _canonical(patent_id)
        if canonical is None:
            unparsed.append(patent_id)
            canonical = patent_id
        if (loan_id, canonical) in seen:
            merged.append(row_id)
            continue
        seen.add((loan_id, canonical))
        if canonical != patent_id:
            updates[row_id] = canonical
        if is_active:
            active[canonical].append((loan_id, institution))
    if unparsed:
        log.warning(
            "0004_one_pledge: %d pledged patent ids are no patent number and were kept as they are: %s",
            len(unparsed),
            sorted(set(unparsed))[:50],
        )
    duplicates = {pid: loans for pid, loans in active.items() if len(loans) > 1}
    if duplicates:
        for pid, loans in sorted(duplicates.items()):
            log.error("0004_one_pledge: patent %s is pledged in %d active loans: %s", pid, len(loans), loans)
        raise DuplicatePledges(
            f"{len(duplicates)} patents are pledged in more than one active loan once their ids are canonical "
            f"({', '.join(sorted(duplicates)[:10])}{', …' if len(duplicates) > 10 else ''}); the log lists the loans. "
            "Nothing was changed. Close or correct all but one loan of each patent, then start the service again."
        )
    loan_patents = sa.table("loan_patents", sa.column("id", sa.Integer), sa.column("patent_id", sa.String))
    for row_id in merged:
        bind.execute(sa.delete(loan_patents).where(loan_patents.c.id == row_id))
    for row_id, canonical in updates.items():
        bind.execute(sa.update(loan_patents).where(loan_patents.c.id == row_id).values(patent_id=canonical))
    if updates or merged:
        log.warning("0004_one_pledge: %d patent ids made canonical, %d duplicate rows merged", len(updates), len(merged))
    op.create_index(
        INDEX,
        "loan_patents",
        ["patent_id"],
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="loan_patents")
