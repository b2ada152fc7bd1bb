"""Facts of a pledge beside the patent's own: who pledges it, with whose consent, under what contract.

A pledge of a patent may secure the pledgor's own debt or another's: Civil Code art. 440
lets "the debtor or a third party" pledge the property rights in a patent, and an SME's
patents are often held by its founder, a parent or a sister company.  A third party's
pledge is lawful when the third party is the registered owner and has agreed to secure
the debtor's loan; :mod:`scoring.pledge_checks` checks both.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from scoring.types import Day, OwnerType
from scoring.vocab import FROZEN


class Consent(BaseModel):
    """A third-party pledgor's consent to secure the debtor's loan, as the lender holds it on record."""

    model_config = FROZEN
    given: bool
    date: Day | None = Field(default=None, description="Day the consent was given; it must not be after as_of.")
    reference: str | None = Field(
        default=None, max_length=128, description="The document on record, e.g. a board resolution or signed letter."
    )


class Pledgor(BaseModel):
    """Who pledges a patent, when it is not the borrower.

    ``id`` is matched with the patent's ``owner_id``: an enterprise's (or university's,
    institute's) id, or for a person the id the lender records (``owner_type`` individual).
    """

    model_config = FROZEN
    kind: OwnerType = Field(description="The pledgor's kind; it must be the patent's owner_type.")
    id: str = Field(min_length=1, max_length=64, description="The pledgor's id, as on the patent's owner_id.")
    name: str | None = Field(default=None, max_length=128, description="Shown in the reasons instead of the id.")
    consent: Consent | None = Field(default=None, description="Needed when the pledgor is not the borrower.")

    @property
    def label(self) -> str:
        """How reasons name the pledgor: its name when given, else its id."""
        return self.name or self.id


class PatentPledge(BaseModel):
    """The pledge facts of one patent in an application; every field is optional."""

    model_config = FROZEN
    pledgor: Pledgor | None = Field(default=None, description="Who pledges the patent; default: the borrower.")
