"""A tagged union's 422 names the field as the client wrote it (service.errors.without_union_tags)."""

from __future__ import annotations

from service.errors import without_union_tags


def test_the_union_tag_is_dropped_where_the_body_holds_it_as_a_value() -> None:
    body = {"event_id": "e1", "event": {"type": "fee_due", "due_date": "soon"}}
    assert without_union_tags(("body", "event", "fee_due", "due_date"), body) == ("body", "event", "due_date")


def test_paths_without_tags_are_kept_whole() -> None:
    body = {"patents": [{"patent_id": "x", "claims_count": -1}]}
    assert without_union_tags(("body", "patents", 0, "claims_count"), body) == ("body", "patents", 0, "claims_count")
    # a missing field is the last part: kept even where some value happens to equal its name
    assert without_union_tags(("body", "event", "kind"), {"event": {"type": "kind"}}) == ("body", "event", "kind")
    assert without_union_tags(("body", "nothing", "here"), {}) == ("body", "nothing", "here")
