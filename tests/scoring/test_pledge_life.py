"""The pledge life's one transition table: the paths the issue names exist, and the impossible ones are refused."""

from __future__ import annotations

import pytest

from scoring.pledge_life import (
    CREDIT_STATUS,
    PLEDGE_STATES,
    RELEASING,
    TRANSITIONS,
    PledgeEvent,
    PledgeState,
    TransitionRefused,
    next_registration,
    next_state,
    releases,
)


def _walk(start: PledgeState, *events: PledgeEvent) -> PledgeState:
    state = start
    for event in events:
        state = next_state(state, event)
    return state


def test_the_named_paths_lead_where_the_issue_says() -> None:
    assert _walk("booked", "register", "perform", "repay") == "settled"
    assert _walk("booked", "register", "default", "start_disposal", "dispose") == "disposed"
    assert _walk("booked", "default", "release") == "released"
    assert _walk("booked", "register", "perform", "default", "repay") == "settled"  # repayment cures
    assert _walk("booked", "default", "start_disposal", "repay") == "settled"
    assert _walk("booked", "default", "start_disposal", "dispose", "repay") == "settled"  # the rest paid


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("defaulted", "perform"),  # a default ends by repayment, disposal or release, not by a performing report
        ("booked", "release"),  # a performing loan's collateral is not given up here
        ("performing", "start_disposal"),
        ("booked", "dispose"),
        ("defaulted", "dispose"),  # disposal starts first
        ("settled", "close"),
        ("settled", "default"),
        ("released", "perform"),
        ("disposed", "release"),
        ("registered", "register"),
    ],
)
def test_an_impossible_transition_names_the_state_and_the_event(state: PledgeState, event: PledgeEvent) -> None:
    with pytest.raises(TransitionRefused) as refused:
        next_state(state, event)
    assert (refused.value.state, refused.value.event) == (state, event)
    assert f"is {state}: {event} is not possible" in str(refused.value)


def test_every_state_is_in_the_table_and_every_step_leads_to_a_state() -> None:
    assert set(TRANSITIONS) == set(PLEDGE_STATES) == set(CREDIT_STATUS)
    assert {to for steps in TRANSITIONS.values() for to in steps.values()} <= set(PLEDGE_STATES)
    # every state is reachable from booked
    seen, todo = {"booked"}, ["booked"]
    while todo:
        for to in TRANSITIONS[todo.pop()].values():  # type: ignore[index]
            if to not in seen:
                seen.add(to)
                todo.append(to)
    assert seen == set(PLEDGE_STATES)


def test_the_patents_are_released_once_on_entering_a_releasing_state() -> None:
    assert releases("defaulted", "released") and releases("in_disposal", "disposed") and releases("booked", "settled")
    assert not releases("disposed", "settled")  # already released on disposal
    assert not releases("booked", "defaulted")
    assert all(CREDIT_STATUS[s] != "active" for s in RELEASING)


def test_registration_steps() -> None:
    assert next_registration(None, "applied") == "applied"
    assert next_registration("applied", "registered") == "registered"
    assert next_registration("registered", "changed") == "changed"
    assert next_registration("changed", "released") == "released"
    for status, to in (
        (None, "changed"),
        ("registered", "registered"),
        ("released", "changed"),
        ("applied", "changed"),
    ):
        with pytest.raises(TransitionRefused):
            next_registration(status, to)  # type: ignore[arg-type]
