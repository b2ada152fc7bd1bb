"""The life of a loan's pledge as a state machine: one table of allowed transitions (docs/pledge-life.md).

::

    booked ──register──► registered
      │                      │
      ├──perform─────────────┴──perform──► performing ◄─┐ perform
      │                      │                  │       │
      └──default─────────────┴──default─────────┴───────┴─► defaulted
                                                               │   │
                  in_disposal ◄────────start_disposal──────────┘   │
                      │   └──release(reason)──► released* ◄────────┘ release(reason)
                   dispose
                      ▼
                  disposed*

    repay / close, from any state before settled ──► settled*
    (* entering it ends the pledges: loan_patents.active turns false and every
    registration turns ``released`` on the transition's date)

A repayment cures a default (defaulted, in_disposal, disposed or released →
settled).  A default report while the patents are being disposed of, or after
they were disposed of or released, leaves the state where it is: the debt may
still be unpaid.  A performing report after a default is refused: a defaulted
loan leaves default only by repayment (or its collateral by disposal or
release).  Registrations may be recorded or changed while the patents are
still pledged (``record_registration``); ``register`` is the step from
``booked`` once every pledged patent's registration is in force.

Pure data and functions: the service applies the transitions, stores them and
audits them (``service.usecases.pledge_life``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

PledgeState = Literal[
    "booked", "registered", "performing", "defaulted", "in_disposal", "disposed", "released", "settled"
]
PledgeEvent = Literal[
    "record_registration", "register", "perform", "default", "repay", "close", "start_disposal", "dispose", "release"
]
CreditStatus = Literal["active", "defaulted", "closed"]
RegistrationStatus = Literal["applied", "registered", "changed", "released"]

PLEDGE_STATES: tuple[PledgeState, ...] = get_args(PledgeState)
INITIAL: PledgeState = "booked"

# Every allowed (state, event) and the state it leads to; anything else is refused.
TRANSITIONS: Mapping[PledgeState, Mapping[PledgeEvent, PledgeState]] = {
    "booked": {
        "record_registration": "booked",
        "register": "registered",
        "perform": "performing",
        "default": "defaulted",
        "repay": "settled",
        "close": "settled",
    },
    "registered": {
        "record_registration": "registered",
        "perform": "performing",
        "default": "defaulted",
        "repay": "settled",
        "close": "settled",
    },
    "performing": {
        "record_registration": "performing",
        "perform": "performing",
        "default": "defaulted",
        "repay": "settled",
        "close": "settled",
    },
    "defaulted": {
        "record_registration": "defaulted",
        "default": "defaulted",
        "start_disposal": "in_disposal",
        "release": "released",
        "repay": "settled",
        "close": "settled",
    },
    "in_disposal": {
        "record_registration": "in_disposal",
        "default": "in_disposal",
        "dispose": "disposed",
        "release": "released",
        "repay": "settled",
        "close": "settled",
    },
    "disposed": {"default": "disposed", "repay": "settled", "close": "settled"},
    "released": {"default": "released", "repay": "settled", "close": "settled"},
    "settled": {"repay": "settled"},  # a late or repeated repayment report; closing again is refused
}

RELEASING: frozenset[PledgeState] = frozenset({"settled", "disposed", "released"})
"""Entering one of these ends the pledge of every patent of the loan."""

CREDIT_STATUS: Mapping[PledgeState, CreditStatus] = {
    "booked": "active",
    "registered": "active",
    "performing": "active",
    "defaulted": "defaulted",
    "in_disposal": "defaulted",
    "disposed": "defaulted",
    "released": "defaulted",
    "settled": "closed",
}
"""The loan's credit status (``loans.status``) in each state: the fund pool admits only ``active`` loans."""

# A registration's own statuses (专利权质押登记办法 2021: registration, change, cancellation).
REGISTRATION_STEPS: Mapping[RegistrationStatus | None, frozenset[RegistrationStatus]] = {
    None: frozenset({"applied", "registered"}),
    "applied": frozenset({"registered", "released"}),
    "registered": frozenset({"changed", "released"}),
    "changed": frozenset({"changed", "released"}),
    "released": frozenset(),
}
IN_FORCE: frozenset[RegistrationStatus] = frozenset({"registered", "changed"})
"""Statuses under which the pledge right exists (Civil Code art. 444: from registration)."""


class TransitionRefused(ValueError):
    """``event`` is not possible in ``state`` (the service answers 409 naming both)."""

    def __init__(self, state: str, event: str, *, possible: Iterable[str], what: str = "loan") -> None:
        self.state = state
        self.event = event
        listed = ", ".join(sorted(possible)) or "nothing"
        super().__init__(f"the {what} is {state}: {event} is not possible (possible: {listed})")


def next_state(state: PledgeState, event: PledgeEvent) -> PledgeState:
    """The state ``event`` leads to from ``state``; :class:`TransitionRefused` if the table has no such step."""
    to = TRANSITIONS[state].get(event)
    if to is None:
        raise TransitionRefused(state, event, possible=TRANSITIONS[state])
    return to


def next_registration(status: RegistrationStatus | None, to: RegistrationStatus) -> RegistrationStatus:
    """``to`` if a registration may go there from ``status`` (None: no record yet); else :class:`TransitionRefused`."""
    if to not in REGISTRATION_STEPS[status]:
        raise TransitionRefused(status or "not recorded", to, possible=REGISTRATION_STEPS[status], what="registration")
    return to


def releases(before: PledgeState, after: PledgeState) -> bool:
    """Whether moving from ``before`` to ``after`` ends the pledges (only the first time)."""
    return after in RELEASING and before not in RELEASING
