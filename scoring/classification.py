"""Loan outcome reports checked against the 2023 asset-classification rules and the loan's own dates.

商业银行金融资产风险分类办法 (CBIRC/PBoC Order 2023 No. 1, in force 2023-07-01) sets
floors by days past due: an overdue asset is at least special mention (关注),
more than 90 days at least substandard (次级), more than 270 days at least
doubtful (可疑), more than 360 days loss (损失).  A bank may classify worse than
the floor, never better.  The floors are data (:data:`OVERDUE_FLOORS`).

Pure functions over explicit dates: ``today`` is given by the caller (the
service's Beijing business day), never read here.  A broken rule is a
:class:`scoring.types.FieldError` naming the field at fault.
"""

from __future__ import annotations

from datetime import date

from scoring.types import FieldError
from scoring.vocab import NPL_CLASSES, NplClass

OVERDUE_FLOORS: tuple[tuple[int, NplClass], ...] = (
    (360, "loss"),
    (270, "doubtful"),
    (90, "substandard"),
    (0, "special_mention"),
)
"""(more than this many days past due, at least this class), worst first."""


def minimum_class(days_past_due: int) -> NplClass:
    """The best class the rules allow for an asset ``days_past_due`` days overdue."""
    for days, floor in OVERDUE_FLOORS:
        if days_past_due > days:
            return floor
    return "normal"


def check_classification(*, npl_class: NplClass, days_past_due: int) -> None:
    """Refuse a class better than the floor for the days past due (field ``npl_class``)."""
    floor = minimum_class(days_past_due)
    if NPL_CLASSES.index(npl_class) < NPL_CLASSES.index(floor):
        raise FieldError(
            "npl_class",
            f"{npl_class} is better than the rules allow: {days_past_due} days past due is at least {floor} "
            "(asset classification rules 2023: overdue at least special mention, more than 90 days substandard, "
            "270 doubtful, 360 loss)",
        )


def check_outcome_dates(
    *,
    as_of: date,
    default_date: date | None,
    days_past_due: int,
    origination_date: date,
    today: date,
) -> None:
    """Refuse dates after ``today`` and facts the loan's own dates contradict (each names its field)."""
    if as_of > today:
        raise FieldError("as_of", f"{as_of} is after today ({today}, Beijing): report what has happened")
    if default_date is not None and default_date > today:
        raise FieldError("default_date", f"{default_date} is after today ({today}, Beijing)")
    if as_of < origination_date:
        raise FieldError("as_of", f"{as_of} is before the loan's origination date {origination_date}")
    if default_date is not None and default_date < origination_date:
        raise FieldError("default_date", f"{default_date} is before the loan's origination date {origination_date}")
    if days_past_due > (as_of - origination_date).days:
        raise FieldError(
            "days_past_due",
            f"{days_past_due} days is longer than the loan has existed on {as_of} "
            f"({(as_of - origination_date).days} days since origination on {origination_date})",
        )
