"""One rule for who sees a stored record: its own institution, and the regulator for reading."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from service.auth import Principal
from service.errors import NotFound


class Owned(Protocol):
    """A row that belongs to an institution."""

    institution: str


T = TypeVar("T", bound=Owned)


def visible(
    session: Session,
    principal: Principal,
    table: type[T],
    rid: Any,
    *,
    what: str,
    field: str | None = None,
    read: bool = True,
) -> T:
    """The row ``rid`` of ``table`` if the caller may see it; otherwise 404, as if it did not exist.

    The regulator sees every institution's records when ``read``; a record the
    caller builds on (``read=False``) must be its own institution's.
    """
    row = session.get(table, rid)
    if row is None or (row.institution != principal.institution and not (read and principal.role == "regulator")):
        raise NotFound(f"no {what} {rid}", field=field)
    return row
